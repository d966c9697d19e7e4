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
# # 实验：看得见、量得出的广播 { #lab }
#
# 本实验配合问题 [22×1 的张量减去 12 维的张量](broadcasting.md) 使用，运行的代码与正文相同：
# 形状规则、两两之差表格的可视化、广播背后步长为 0 的视图，以及被广播掩盖的损失函数 bug。

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from snippets.figures import figure_labels
from snippets.ml_fundamentals.broadcasting import (
    CASES,
    broadcast_shape,
    broadcast_view,
    describe,
    mse_checked,
    mse_naive,
)

_ = torch.manual_seed(0)
L = figure_labels("lab_broadcasting")  # the figures' words, drawn in each page's language

# %% [markdown]
# ## 1. 面试官可能指的几种情况 { #cases }
#
# 形状规则（`broadcast_shape`）与 PyTorch 在每种情况下结论一致；只有前两种理解是合法运算。

# %%
for a, b in CASES:
    print(f"{str(a):>9} - {str(b):<9} -> {describe(a, b)}")

# %% [markdown]
# ## 2. 结果是一张两两之差的表 { #pairwise }
#
# `x - y` 的第 $(i, j)$ 个元素是 $x_i - y_j$。x 的值随行变化，y 的值随列变化，结果在两个方向上都变化。

# %% alt="三幅热力图：22 × 1 的列向量 x，画成 1 × 12 行向量的 y，以及两者之差 z = x − y，这是一张 22 × 12 的表，数值从上到下递增，从左到右递减。"
x = torch.linspace(0, 21, 22).reshape(22, 1)   # (22, 1): a column
y = torch.linspace(0, 11, 12)                   # (12,): a vector
z = x - y                                       # (22, 12)
print("shape:", tuple(z.shape), "| rule says:", broadcast_shape((22, 1), (12,)))

fig, axes = plt.subplots(1, 3, figsize=(6.4, 3.6), layout="constrained",
                         gridspec_kw={"width_ratios": [1, 6, 12]})
axes[0].imshow(x.numpy(), cmap="viridis", aspect="auto")
axes[0].set_title("x\n(22, 1)")
axes[0].set_xticks([0])
axes[1].imshow(y.reshape(1, 12).numpy(), cmap="viridis", aspect="auto")
axes[1].set_title(L["y_as_row"])
axes[1].set_yticks([0])
im = axes[2].imshow(z.numpy(), cmap="coolwarm", aspect="auto")
axes[2].set_title("z = x − y (22, 12)")
fig.colorbar(im, ax=axes[2])
for ax in axes[1:]:
    ax.set_xlabel(L["column_j"])
axes[0].set_ylabel(L["row_i"])
plt.show()

# %% [markdown]
# ## 3. 广播是视图，`repeat` 是复制 { #view-vs-copy }
#
# `expand` 让被拉伸的维度步长为 0，不分配任何内存；`repeat` 会分配完整的 22 × 12 张量。

# %%
column = torch.arange(22.0).reshape(22, 1)
view = broadcast_view(column, (22, 12))
copy = column.repeat(1, 12)
for name, t in [("expand", view), ("repeat", copy)]:
    print(f"{name}: shape {tuple(t.shape)}, stride {t.stride()}, "
          f"shares the column's memory: {t.data_ptr() == column.data_ptr()}, "
          f"storage bytes: {t.untyped_storage().nbytes()}")

# %% [markdown]
# ## 4. 静默的损失 bug 随 batch 增大而变大 { #silent-bug }
#
# 预测完全正确、形状为 `(N, 1)`，标签形状为 `(N,)` 时，手写的均方误差会对全部 $N^2$ 个组合的
# $(i - j)^2$ 取平均；对这组标签它等于 $(N^2 - 1)/6$，而不是 0。

# %% alt="折线图：预测完全正确时，手写 MSE 与 batch 大小 N（2 到 40）的关系。损失不是 0，而是按 (N² − 1)/6 呈二次增长，N = 40 时约为 267。"
sizes = np.arange(2, 41)
losses, fixed = [], []
for n in sizes:
    pred = torch.arange(float(n)).reshape(-1, 1)   # perfect predictions, shape (n, 1)
    target = torch.arange(float(n))                # labels, shape (n,)
    losses.append(mse_naive(pred, target).item())
    fixed.append(mse_checked(pred.squeeze(-1), target).item())

plt.figure(figsize=(5.5, 3.4), layout="constrained")
plt.plot(sizes, losses, marker=".")
plt.xlabel(L["batch_n"])
plt.ylabel(L["mse"])
plt.title(L["perfect_title"])
plt.grid(alpha=0.3)
plt.show()
print(f"N = 40: hand-written loss {losses[-1]:.1f}, (N^2 - 1)/6 = {(40**2 - 1) / 6:.1f}")
print(f"after squeeze(-1), largest loss over all N: {max(fixed)}")

# %% [markdown]
# ## 要点 { #remember }
#
# - 形状右对齐；每一维的大小必须相等或其中一个为 1。
# - 广播省掉的是输入的复制，而不是输出的大小。
# - 计算损失前先断言形状：`(N, 1)` 对 `(N,)` 得到的是矩阵，而不是报错。
