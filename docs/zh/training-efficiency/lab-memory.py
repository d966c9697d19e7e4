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
# # 实验：显存都去哪儿了？ { #lab }
#
# 本实验用一个由 config 构建、权重随机初始化的小 LLaMA，测量一次训练步占用的每一个字节：
# 参数、梯度、优化器状态，以及 autograd 为反向传播保存的激活值。然后把测量值与
# [显存占用](gpu-memory.md) 中的计算器对比，看看激活重计算和融合注意力改变了什么，并画出
# FP32、FP16 和 BF16 的范围与精度。全部在 CPU 上不到一分钟就能跑完。
# 换到 GPU 上，模型状态的字节数不变；保存的激活值可能略有不同，因为注意力 kernel 不同。

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from snippets.figures import figure_labels
from snippets.training_efficiency.checkpointing import attention_saved_bytes
from snippets.training_efficiency.fp_formats import FORMATS, describe
from snippets.training_efficiency.memory_calculator import (
    RECIPES,
    LlamaShape,
    model_state_bytes,
    parameter_count,
)
from snippets.training_efficiency.memory_measure import (
    MasterWeightAdamW,
    model_state_report,
    saved_activation_bytes,
)

_ = torch.manual_seed(0)
L = figure_labels("lab_memory")  # the figures' words, drawn in each page's language

# %% [markdown]
# ## 1. 一个小模型与计算器的预测
#
# 下面的形状是缩小版的 LLaMA：4 层，隐藏维度 128，分组查询注意力，4 个 query 头、2 个
# key/value 头。计算器只凭形状算参数量；transformers 构建的模型必须与之一致。

# %%
shape = LlamaShape(vocab=2000, hidden=128, intermediate=344, layers=4, heads=4, kv_heads=2)
config = LlamaConfig(
    vocab_size=shape.vocab, hidden_size=shape.hidden, intermediate_size=shape.intermediate,
    num_hidden_layers=shape.layers, num_attention_heads=shape.heads,
    num_key_value_heads=shape.kv_heads, max_position_embeddings=512, use_cache=False,
)
model = LlamaForCausalLM(config)
n_params = sum(p.numel() for p in model.parameters())
print(f"transformers: {n_params:,} parameters; calculator: {parameter_count(shape):,}")

# %% [markdown]
# ## 2. 测量一次 FP32 AdamW 更新
#
# 做一次前向并统计 autograd 保存的张量，然后反向、执行一次优化器更新，再测量仍然占用的
# 内存。

# %%
ids = torch.randint(0, shape.vocab, (4, 256))
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
loss, activations = saved_activation_bytes(
    lambda: model(input_ids=ids, labels=ids).loss, exclude=model.parameters()
)
loss.backward()
optimizer.step()
measured = model_state_report(model, optimizer)
predicted = model_state_bytes(n_params, RECIPES["fp32 AdamW"])
for key in ("weights", "gradients", "optimizer states"):
    print(f"{key:17} measured {measured[key]:>12,} B   predicted {int(predicted[key]):>12,} B")
print(f"{'activations':17} measured {activations:>12,} B   (batch 4 x 256 tokens)")

# %% [markdown]
# ## 3. 带 FP32 主权重的混合精度
#
# 同样的一步，换成 BF16 模型，由优化器更新一份 FP32 主权重副本。总量仍是每参数 16 字节，
# 只是分布不同。保存的激活值变小了，但没有减半：损失函数把 logits 转成了 FP32
# （transformers 的 `ForCausalLMLoss` 中的 `logits.float()`），这些 FP32 张量也会被保存。

# %%
model16 = LlamaForCausalLM(config).to(torch.bfloat16)
trainer = MasterWeightAdamW(model16)
loss16, activations16 = saved_activation_bytes(
    lambda: model16(input_ids=ids, labels=ids).loss, exclude=model16.parameters()
)
loss16.backward()
trainer.step()
measured16 = trainer.report()
predicted16 = model_state_bytes(n_params, RECIPES["mixed-precision AdamW"])
print("activations fp32 / bf16:", f"{activations:,} / {activations16:,} B")

# %% [markdown]
# ## 4. 分项：测量值与预测值并列
#
# 堆叠柱状图：每一对中第一列是计算器，第二列是测量值。激活值没有“预测”柱：它取决于具体
# 实现，所以正文只给出了估算。

# %% alt="堆叠柱状图：4 层 LLaMA 一次训练步的显存，预测值与测量值并列，分别为 FP32 + AdamW 和带 FP32 主权重的 BF16。测得的权重、梯度、主权重和优化器状态与预测一致；预测未包含的激活值是其中最大的一部分。除激活值外，两种精度所需的显存相同。"
parts = ["weights", "gradients", "master weights", "optimizer states"]
colors = ["C0", "C1", "C4", "C2", "C3"]
columns = {
    L["fp32_predicted"]: [predicted[p] for p in parts] + [0],
    L["fp32_measured"]: [measured.get(p, 0) for p in parts] + [activations],
    L["bf16_predicted"]: [predicted16[p] for p in parts] + [0],
    L["bf16_measured"]: [measured16[p] for p in parts] + [activations16],
}
fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
for x, (label, values) in enumerate(columns.items()):
    bottom = 0.0
    for part, value, color in zip(parts + ["activations"], values, colors, strict=True):
        ax.bar(x, value / 2**20, bottom=bottom, color=color, label=L[part] if x == 3 else None)
        bottom += value / 2**20
ax.set_xticks(range(len(columns)), list(columns))
ax.set_ylabel(L["mib"])
ax.set_title(L("step_title", layers=4, batch=4, tokens=256))
ax.legend(loc="upper left")
plt.show()

# %% [markdown]
# ## 5. 激活重计算和融合注意力改变了什么
#
# 打开 transformers 的激活重计算，再统计一次保存的字节数。然后在不同序列长度下，比较保存
# $s \times s$ 概率矩阵的显式注意力与 PyTorch 的融合 `scaled_dot_product_attention`。

# %% alt="双对数坐标图：一次注意力调用为反向传播保存的字节数与序列长度（128 到 1,024）的关系。显式的 softmax(QK^T)V 保存的量呈二次增长；融合的 scaled_dot_product_attention 保存的量呈线性增长，在 1,024 时只有前者的几十分之一。"
model.activation_checkpointing_enable()
model.train()
_, checkpointed = saved_activation_bytes(
    lambda: model(input_ids=ids, labels=ids).loss, exclude=model.parameters()
)
print(f"saved activations: {activations:,} B without, {checkpointed:,} B with checkpointing")

seqs = [128, 256, 512, 1024]
explicit = [attention_saved_bytes(s)["explicit"] for s in seqs]
fused = [attention_saved_bytes(s)["fused SDPA"] for s in seqs]
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
ax.loglog(seqs, explicit, "o-", label=L["explicit"])
ax.loglog(seqs, fused, "s-", label=L["fused"])
ax.set_xlabel(L["sequence_length"])
ax.set_ylabel(L["saved_bytes"])
ax.set_title(L("attention_title", heads=4, dims=16))
ax.legend()
plt.show()

# %% [markdown]
# ## 6. FP32、FP16 与 BF16 的范围和精度
#
# 把从 $10^{-45}$ 到 $10^{39}$ 的数分别存进每种格式，画出取回后的相对误差。误差为 1 表示
# 这个数变成了 0（下溢）；曲线在格式溢出为无穷大的地方中断。平坦的部分就是精度：FP32 约
# $2^{-24}$，FP16 约 $2^{-11}$，BF16 约 $2^{-8}$。

# %% alt="双对数坐标图：把 10^−45 到 10^38.5 的数存进 FP32、FP16 和 BF16 后的相对误差。在规格化数范围内，每种格式都有一段由尾数决定的平坦误差带，上限约为：FP32 为 6 × 10^−8（2^−24），FP16 为 5 × 10^−4（2^−11），BF16 为 4 × 10^−3（2^−8）。接近最小非规格化数（FP16 约 6 × 10^−8，BF16 约 9 × 10^−41）时，误差升到 1，即数值完全丢失。FP16 在 65,504 以上还会上溢，而 BF16 的范围几乎与 FP32 一样大。"
values = np.logspace(-45, 38.5, 4000)
fig, ax = plt.subplots(figsize=(6.4, 3.8), layout="constrained")
for name, dtype in FORMATS.items():
    stored = torch.tensor(values, dtype=torch.float64).to(dtype).double().numpy()
    with np.errstate(invalid="ignore"):
        error = np.abs(stored - values) / values
    error[np.isinf(stored)] = np.nan
    ax.loglog(values, np.maximum(error, 1e-12), label=name, linewidth=1)
    info = describe(name)
    print(f"{name}: max {info.max:.4g}, smallest subnormal {info.smallest_subnormal:.3g}, "
          f"eps {info.eps:.3g}")
ax.set_xlabel(L["value"])
ax.set_ylabel(L["relative_error"])
ax.set_ylim(1e-10, 2)
ax.set_title(L["formats_title"])
ax.legend()
plt.show()

# %% [markdown]
# ## 要点
#
# - 模型状态恰好是计算器预测的字节数：FP32 AdamW 和带 FP32 主权重的 BF16 都是每参数 16
#   字节，外加 AdamW 很小的 `step` 计数器。
# - 激活值是随 batch 和序列长度变化的部分，也是激活重计算和融合注意力所削减的部分。
# - FP16 会丢失很小的数（约 $6\times10^{-8}$ 以下下溢）和很大的数（65504 以上溢出）；BF16 保留了
#   FP32 的范围，但把每个数都舍入到约 3 位有效数字。
#
# 动手试试：把 batch 或序列长度加倍，在运行单元格之前先预测激活字节数；把 `kv_heads`
# 设为 4，比较参数量。
