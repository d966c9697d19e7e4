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
# # 实验：大规模注意力 { #lab }
#
# 本实验配合本章的三个问题使用：[注意力加速](mha-speedups.md)、[输入能否无限长](infinite-context.md) 和
# [更长上下文](longer-context.md)。它测量有无 KV 缓存时的解码耗时，按 Llama-2-70B 的结构估算各种 KV 头数下的
# 缓存大小，测量朴素注意力与分块注意力的显存，并展示 RoPE 缩放如何改变长距离上的注意力。耗时取决于运行实验的机器；
# 显存和 RoPE 的结果则与机器无关。

# %%
import math

import matplotlib.pyplot as plt
import torch

from snippets.attention.figures import decode_step_times
from snippets.attention.flash import blockwise_attention, memory_curve, naive_attention
from snippets.attention.gqa import GIB, LLAMA2_70B
from snippets.attention.kv_cache import (
    TinyDecoder,
    generate_with_cache,
    generate_without_cache,
    kv_cache_bytes,
)
from snippets.attention.rope_scaling import (
    pairs_beyond_training,
    rope_inv_freq,
    scaled_inv_freq,
    yarn_inv_freq,
)
from snippets.figures import figure_labels

_ = torch.manual_seed(0)
L = figure_labels("attention")  # the figures' words, drawn in each page's language
torch.set_num_threads(1)  # tiny tensors: one thread is faster and steadier on a shared CPU

# %% [markdown]
# ## 1. KV 缓存：同样的 token，更少的计算 { #kv-cache }
#
# 一个随机初始化的 2 层解码器贪心生成 32 个 token：一次每步都重算整个前缀，另一次使用缓存。生成的 token 必须完全相同，
# 耗时则不同。

# %%
import time

model = TinyDecoder(vocab_size=500, d_model=128, n_heads=8, n_layers=2, max_len=256).eval()
prompt = torch.randint(0, 500, (1, 16))
outputs = {}
for name, generate in [("without cache", generate_without_cache), ("with cache", generate_with_cache)]:
    start = time.perf_counter()
    outputs[name] = generate(model, prompt, steps=32)
    print(f"{name:>13}: {time.perf_counter() - start:.3f} s")
print("identical tokens:", torch.equal(outputs["without cache"], outputs["with cache"]))

# %% [markdown]
# 不用缓存时，每步开销随上下文增长，因为每一层都要在所有旧 token 上重新计算；用缓存时，只有注意力读取的部分在增长。
# 每个点取三次运行中最快的一次。

# %% alt="折线图：生成下一个 token 的耗时与上下文中已有 token 数的关系，token 数从 32 到 512。不用 KV 缓存时，耗时随上下文急剧增长；用缓存时只略有增长，始终远低于前者。"
lengths = [32, 128, 256, 512]
steps = decode_step_times(lengths, repeats=3, d_model=128, n_layers=2)
plt.figure(figsize=(5.5, 3.4), layout="constrained")
for name, values in steps.items():
    plt.plot(lengths, [1000 * s for s in values], marker="o", label=L[name])
plt.xlabel(L["tokens_in_context"])
plt.ylabel(L["next_token_ms"])
plt.legend()
plt.grid(alpha=0.3)
plt.show()

# %% [markdown]
# ## 2. KV 缓存大小与 KV 头数 { #gqa }
#
# Llama-2-70B 的结构（80 层，64 个维度为 128 的查询头）在 64 个 KV 头时就是 MHA，8 个时就是 Llama 2 实际采用的
# GQA-8，1 个时就是 MQA。缓存大小与 KV 头数和上下文长度都成正比。

# %% alt="双对数坐标图：一条 Llama-2-70B 序列的 FP16 KV 缓存与 KV 头数（1 到 64）的关系，分别对应 4K、32K 和 128K 个 token；显存与两者都成正比。虚线标出 80 GB，即一块大显存 GPU 的容量：64 个头（MHA）时，仅一条 32K token 序列的缓存就有 80 GiB，已在虚线之上；8 个头（GQA-8）时，即使 128K 个 token 也仍在虚线以下。"
shape = LLAMA2_70B
kv_heads = [64, 32, 16, 8, 4, 2, 1]
plt.figure(figsize=(5.5, 3.4), layout="constrained")
for context in [4096, 32768, 131072]:
    gib = [kv_cache_bytes(shape["n_layers"], h, shape["head_dim"], context) / GIB for h in kv_heads]
    plt.plot(kv_heads, gib, marker="o", label=L("k_tokens", k=context // 1024))
plt.axhline(80e9 / GIB, color="grey", ls="--", lw=1)
plt.xscale("log", base=2)
plt.yscale("log")
plt.xticks(kv_heads, [str(h) for h in kv_heads])
plt.xlabel(L["kv_heads"])
plt.ylabel(L["kv_cache_sequence"])
plt.legend()
plt.grid(alpha=0.3, which="both")
plt.show()
for h in (64, 8, 1):
    print(f"{h:>2} KV heads: {kv_cache_bytes(80, h, 128, 1) // 1024} KiB per token")

# %% [markdown]
# ## 3. 朴素注意力与分块注意力的显存 { #memory }
#
# 分块（FlashAttention 式）实现的结果与 PyTorch 的注意力相同；它的峰值显存是输出加上一块固定的工作区，而朴素注意力
# 要存 $N \times N$ 的分数矩阵。在双对数坐标下，朴素注意力的斜率为 2；分块实现的峰值减去输出后，在各长度下完全相同。

# %% alt="双对数坐标图：单个注意力头的峰值显存与序列长度 256、512 和 1,024 的关系。长度每翻一倍，朴素实现的峰值约增长到原来的四倍；分块注意力的峰值低得多，增长也很缓慢。"
q, k, v = (torch.randn(2, 4, 300, 64) for _ in range(3))
reference = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
print("blockwise == SDPA:", torch.allclose(blockwise_attention(q, k, v, causal=True), reference, atol=1e-5))
print("naive == SDPA:", torch.allclose(naive_attention(q, k, v, causal=True), reference, atol=1e-5))

lengths = [256, 512, 1024]
curve = memory_curve(lengths)
plt.figure(figsize=(5.5, 3.4), layout="constrained")
for name, values in curve.items():
    plt.loglog(lengths, [b / 2**20 for b in values], marker="o", label=L[name], base=2)
plt.xticks(lengths, [str(n) for n in lengths])
plt.xlabel(L["sequence_length"])
plt.ylabel(L("peak_mib", d=64))
plt.legend()
plt.grid(alpha=0.3, which="both")
plt.show()
naive = curve["naive"]
slope = math.log(naive[-1] / naive[-2]) / math.log(lengths[-1] / lengths[-2])
print(f"naive: memory grows like N^{slope:.2f} between {lengths[-2]} and {lengths[-1]}")
for n, peak in zip(lengths, curve["blockwise"]):
    print(f"blockwise, N = {n:>4}: peak - output = {peak - n * 64 * 4:,} bytes")

# %% [markdown]
# ## 4. 长距离上的 RoPE 缩放 { #rope }
#
# Llama-2-7B 的一个头（d = 128，基数 10000）在 4096 个 token 上训练。每个子图跟踪一个低频通道对直到位置 16384：虚线是
# 该通道对在训练中达到的最大角度，曲线高于虚线就意味着模型从未见过这个角度，
# 因而相距这么远的 query 和 key 之间的注意力分数里就含有模型从未训练过的项。不缩放时两个通道对都离开了训练范围；线性插值
# 和 YaRN（对这些低频对二者曲线重合）让它们留在范围内；NTK-aware 缩放让最慢的一对留在范围内，但第 50 对没有。

# %% alt="两个子图：RoPE 旋转角度随位置的变化，位置直到 16,384（训练长度 4,096 的四倍），分别对应第 50 和第 63 个通道对，曲线包括不缩放以及线性、NTK-aware 和 YaRN 缩放。不缩放时，角度在位置 4,096 处越过训练中出现过的最大角度（虚线）。在第 63 对上，三种方法都恰好止于这个角度；在第 50 对上，线性和 YaRN 也是如此，NTK-aware 则超过了它。"
head_dim, base, trained, factor = 128, 10000.0, 4096, 4.0
methods = ["none", "linear", "ntk", "yarn"]
positions = torch.arange(0, 4 * trained + 1, 64).float()
default = rope_inv_freq(head_dim, base)
fig, axes = plt.subplots(1, 2, figsize=(6.4, 3.4), layout="constrained")
for ax, pair in zip(axes, [50, 63]):
    for method in methods:
        inv = scaled_inv_freq(method, head_dim, base, factor, trained)
        ax.plot(positions, positions * inv[pair], label=L[f"method_{method}"])
    ax.axhline(trained * default[pair].item(), color="grey", ls="--", lw=1)
    ax.axvline(trained, color="grey", ls=":", lw=1)
    ax.set_title(L("pair_title", pair=pair, wavelength=2 * math.pi / default[pair].item()))
    ax.set_xlabel(L["position"])
    ax.grid(alpha=0.3)
axes[0].set_ylabel(L["rotation_angle"])
axes[0].legend()
plt.show()
print(f"YaRN multiplies cos and sin by {yarn_inv_freq(head_dim, base, factor, trained)[1]:.4f}")

# %% [markdown]
# 对每种方法，在 $s$ 倍训练长度处，有多少个慢速对（在 4096 个 token 内转不满一圈的通道对）转过了训练时的角度。结果与 $s$
# 无关：决定哪些对留在范围内的是方法本身的设计，而不是缩放倍数。

# %%
print(f"{'s':>3} " + " ".join(f"{m:>7}" for m in ["none", "linear", "ntk", "yarn"]))
for s in [2, 4, 8, 16]:
    counts = [
        pairs_beyond_training(scaled_inv_freq(m, head_dim, base, float(s), trained), head_dim,
                              base, trained, s * trained)
        for m in ["none", "linear", "ntk", "yarn"]
    ]
    print(f"{s:>3} " + " ".join(f"{c:>7}" for c in counts))
slow = int((rope_inv_freq(head_dim, base) * trained < 2 * math.pi).sum())
print(f"slow pairs: {slow} of {head_dim // 2}")

# %% [markdown]
# ## 要点 { #remember }
#
# - KV 缓存以更少的计算得到相同的 token；其大小为 2 × 层数 × KV 头数 × 头维度 × token 数 × 字节数，与上下文长度和
#   batch 成正比。
# - GQA 和 MQA 让缓存变小：每个 KV 头对应几个查询头，缓存就缩小为原来的几分之一。
# - 基于在线 softmax 的分块注意力是精确的，所需显存与 $N$ 成线性关系。
# - 不做缩放时，RoPE 的慢速通道对在超出训练长度后会离开训练范围；插值和 YaRN 让它们留在范围内，NTK-aware 缩放只能做到一部分。
