# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 实验：解码与批处理 { #lab }
#
# 本实验对应两个问题：[幻觉与重复生成](hallucination-repetition.md) 和
# [并发服务](serving.md)，运行的是与页面相同的代码。先看一个在贪心解码下陷入循环的模型，
# 以及每种解码控制对循环的影响；再在一个小型 Llama 上比较逐个处理请求与批处理，在本机上
# 实测；最后看分页 KV 缓存能省下多少显存。
#
# 计时结果取决于机器。吞吐量一节统计的是本进程的 CPU 时间而不是墙钟时间（wall-clock time），所以共享机器上
# 的其他任务对它的干扰小得多；在空闲机器上单线程运行时，两者一致。每个点取三次运行中最快
# 的一次；要看的是趋势，而不是具体数字。

# %%
import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import matplotlib.pyplot as plt
import torch

from snippets.figures import figure_labels
from snippets.inference.batching import TinyLM, serve_all, simulate, workload
from snippets.inference.logits_processors import (
    FrequencyPresencePenalty,
    NoRepeatNGram,
    RepetitionPenalty,
    decode,
)
from snippets.inference.looping import BigramLM, distinct_n, run_controls, tail_period
from snippets.inference.paged_kv import contiguous_slots, mixed_workload, paged_slots

torch.set_num_threads(1)  # tiny matrices: one thread is faster and steadier
L = figure_labels("lab_decoding")  # the figures' words, drawn in each page's language


def run(coro):
    """asyncio.run in a fresh thread, so it also works inside Jupyter's own event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


# %% [markdown]
# ## 1. bigram 模型在贪心解码下陷入循环 { #loop }
#
# 下一个词只取决于上一个词，所以贪心解码就是反复应用同一个映射，必然进入循环。每一行是
# 一种解码控制，从提示词“the”出发生成 48 个新 token。

# %%
model = BigramLM(offset=10.0)
outputs = run_controls(model, max_new_tokens=48)
for name, tokens in outputs.items():
    print(f"{name:<26} period {str(tail_period(tokens)):>4} | {model.decode_text(tokens[:16])} ...")

# %% [markdown]
# 每种控制多快开始重复？下面画的是前 $t$ 个 token 中不同 4-gram 所占的比例：1.0 表示
# 还没有任何重复。

# %% alt="折线图：bigram 模型在六种解码设置下，前 t 个生成 token 中不同 4-gram 所占的比例，t 从 8 到 48。贪心解码陷入循环，比例降向 0.1；重复惩罚和存在惩罚先保持在 1 一段时间，然后下降；频率惩罚一直在约 0.8 到 0.95 之间；no-repeat 3-gram 屏蔽以及 T = 0.8、top-k 5、top-p 0.9 的采样始终保持在 1。"
fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
for (name, tokens), style in zip(outputs.items(), ["-", "-", "-", "-", "--", ":"]):
    steps = range(8, len(tokens) + 1)
    ax.plot(steps, [distinct_n(tokens[:t]) for t in steps], style, label=L[name])
ax.set_xlabel(L["generated_t"])
ax.set_ylabel(L["distinct_first_t"])
ax.set_title(L["bigram_title"])
ax.grid(alpha=0.3)
ax.legend(loc="lower left")
plt.show()

# %% [markdown]
# ## 2. 重复惩罚取决于对模型毫无意义的偏移量 { #offset }
#
# 给每个 logit 加同一个常数，softmax 不变，模型也就不变。重复惩罚对正的 logit 做除法、
# 对负的做乘法，所以效果取决于这个常数；频率惩罚做的是减法，所以不受影响。

# %% alt="折线图：48 个生成 token 中不同 4-gram 的比例，与加到每个 logit 上的常数（0 到 20）的关系。频率惩罚从 logit 中减去惩罚值，在每个偏移量下都是 0.8；重复惩罚对正的 logit 做除法、对负的做乘法，结果随偏移量变化：偏移为 0 时不到 0.1，为 10 时约 0.67，为 20 时 0.53。"
offsets = [0.0, 2.0, 5.0, 10.0, 20.0]
rows = {"repetition 1.2": [], "frequency 0.5": []}
for offset in offsets:
    result = run_controls(BigramLM(offset=offset), max_new_tokens=48)
    for name in rows:
        rows[name].append(distinct_n(result[name]))

fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
for name, values in rows.items():
    ax.plot(offsets, values, marker="o", label=L[name])
ax.set_xlabel(L["offset_axis"])
ax.set_ylabel(L["distinct_48"])
ax.set_ylim(0, 1.05)
ax.grid(alpha=0.3)
ax.legend()
plt.show()

# %% [markdown]
# ## 3. 随机的小型 Llama 也会循环 { #llama }
#
# 权重随机的 `LlamaForCausalLM` 不是 bigram 模型，并不保证一定会循环，但贪心解码照样
# 掉进了一个短循环；各种惩罚能打破它。

# %%
small_llama = TinyLM(seed=0, vocab_size=64, hidden_size=32)


def llama_logits(ids: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return small_llama.model(ids).logits[:, -1, :]


prompt = [1, 2, 3, 4, 5]
for name, processors in [
    ("greedy", []),
    ("repetition 1.3", [RepetitionPenalty(1.3)]),
    ("frequency 0.5", [FrequencyPresencePenalty(0.5, 0.0, len(prompt))]),
    ("no-repeat 3-gram", [NoRepeatNGram(3)]),
]:
    tokens = decode(llama_logits, prompt, 30, processors)
    print(f"{name:<17} period {str(tail_period(tokens)):>4} | {tokens[:18]}")

# %% [markdown]
# ## 4. 吞吐量：逐个处理与批处理 { #throughput }
#
# 16 个请求，每个要 8 个新 token，同时发给小型 Llama 前面的 asyncio 服务。
# `max_batch_size=1` 时逐个处理；更大的值让调度器在每次前向计算中处理更多请求。这里所有
# 请求长度相同，所以两种批处理策略表现一样。

# %% alt="折线图：小型 Llama 服务 16 个并发请求时，实测的每 CPU 秒 token 数与最大 batch 大小（1 到 16）的关系。batch 越大，所需的前向计算次数越少，batch 为 1 时 128 次，batch 为 16 时 8 次，吞吐量也随之增长；具体数值每次运行都会有所不同。"
llama = TinyLM(seed=0)
requests = [([1 + i, 2, 3], 8) for i in range(16)]
total_tokens = sum(n for _, n in requests)
run(serve_all(llama, requests[:4], max_batch_size=4))  # warm-up

batch_sizes = [1, 2, 4, 8, 16]
throughput = []
for size in batch_sizes:
    best = float("inf")
    for _ in range(3):  # best of three runs
        start = time.process_time()  # CPU time of this process (all threads), not wall time
        _, passes = run(serve_all(llama, requests, max_batch_size=size))
        best = min(best, time.process_time() - start)
    throughput.append(total_tokens / best)
    print(f"max batch {size:>2}: {passes:>3} forward passes, "
          f"{total_tokens / best:6.0f} tokens per CPU-second")

fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
ax.plot(batch_sizes, throughput, marker="o")
ax.set_xscale("log", base=2)
ax.set_xticks(batch_sizes, [str(b) for b in batch_sizes])
ax.set_xlabel(L["max_batch"])
ax.set_ylabel(L["tokens_per_cpu_s"])
ax.set_title(L("tiny_title", n=len(requests)))
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# 在 GPU 上，真实模型的一次解码主要耗在读取权重上，小批次的代价比单个序列高不了多少，
# 曲线会上升得更陡。在 CPU 上跑小模型时，一部分收益来自 Python 开销：这部分开销按前向计算
# 的次数计，而不是按请求数计。
#
# ## 5. 长度不一时的静态批处理与连续批处理 { #mixed }
#
# 当请求长度不同、陆续到达时，连续批处理的优势就体现出来了。模拟统计的是前向计算次数，
# 所以这些数字是精确的，与机器无关。

# %% alt="两幅柱状图：同一工作负载分别以逐个处理、请求级批处理和连续批处理来服务，batch 大小为 8。两种批处理所需的前向计算次数都远少于逐个处理；连续批处理的次数最少，平均延迟也最低，远不到请求级批处理的一半。"
labels = [L["one at a time"], L["request-level"], L["continuous"]]
results = [
    simulate(workload(), 1, True),
    simulate(workload(), 8, False),
    simulate(workload(), 8, True),
]
fig, axes = plt.subplots(1, 2, figsize=(6.4, 3.2), layout="constrained")
axes[0].bar(labels, [r.forward_passes for r in results])
axes[0].set_ylabel(L["forward_passes"])
axes[1].bar(labels, [r.mean_latency for r in results])
axes[1].set_ylabel(L["mean_latency"])
for ax in axes:
    ax.tick_params(axis="x", labelrotation=20)
plt.show()

# %% [markdown]
# ## 6. 分页能省下多少 KV 缓存显存 { #paging }
#
# 同样的 200 个请求，为每个请求预留一块连续区域，或按给定大小的块分配。块越小，每个序列
# 最后一块里的浪费越少，但块表更长，注意力内核每次读取的内存也更零碎：这是一种权衡，
# 不是免费的午餐。

# %% alt="折线图：预留的 KV 缓存槽位中实际存放 token 的比例，与块大小（1 到 1,024 个 token）的关系。分页分配在块较小时几乎用满每个槽位，块大小为 1,024 个 token 时降到约一半；连续分配按提示词 + max_tokens 预留时约用到三分之二，按整个上下文预留时约用到四分之一。"
work = mixed_workload()
used = sum(prompt + out for prompt, _, out in work)
block_sizes = [1, 4, 16, 64, 256, 1024]
paged_use = [used / paged_slots(work, b) for b in block_sizes]

fig, ax = plt.subplots(figsize=(6.4, 3.4), layout="constrained")
ax.plot(block_sizes, paged_use, marker="o", label=L["paged"])
ax.axhline(used / contiguous_slots(work, "max_tokens"), color="C1", linestyle="--",
           label=L["contiguous_max"])
ax.axhline(used / contiguous_slots(work, "context"), color="C2", linestyle=":",
           label=L["contiguous_context"])
ax.set_xscale("log", base=2)
ax.set_xticks(block_sizes, [str(b) for b in block_sizes])
ax.set_xlabel(L["block_size"])
ax.set_ylabel(L["share_used"])
ax.set_ylim(0, 1.05)
ax.grid(alpha=0.3)
ax.legend()
plt.show()

# %% [markdown]
# ## 要点 { #remember }
#
# - 偏爱重复自己上一句话的模型在贪心解码下会循环。一次性惩罚（重复惩罚、存在惩罚）只能
#   推迟循环，频率惩罚会持续施压，n-gram 屏蔽则以牺牲文本质量为代价禁止循环。
# - 重复惩罚不满足平移不变性；频率惩罚和存在惩罚满足。
# - 服务的吞吐量来自批处理。长度不一时，连续批处理让位置保持忙碌；分页则让缓存显存不被
#   浪费。
