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
# # Lab: broadcasting, seen and measured { #lab }
#
# This lab goes with the question [A 22×1 tensor minus a 12-dimensional tensor](broadcasting.md).
# It runs the same code as the page: the shape rule, a picture of the pairwise-difference
# table, the zero-stride view behind broadcasting, and the loss bug that broadcasting hides.

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
# ## 1. The cases an interviewer may mean { #cases }
#
# The shape rule (`broadcast_shape`) and PyTorch agree on every case; only the first two
# readings of the question are legal.

# %%
for a, b in CASES:
    print(f"{str(a):>9} - {str(b):<9} -> {describe(a, b)}")

# %% [markdown]
# ## 2. The result is a table of pairwise differences { #pairwise }
#
# Entry $(i, j)$ of `x - y` is $x_i - y_j$. The column varies down the rows, the vector
# varies along the columns, and the result varies in both.

# %% alt="Three heat maps: x as a 22 × 1 column, y drawn as a 1 × 12 row, and their difference z = x − y, a 22 × 12 table whose values rise from top to bottom and fall from left to right."
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
# ## 3. Broadcasting is a view; `repeat` is a copy { #view-vs-copy }
#
# `expand` gives the stretched dimension a stride of 0 and allocates nothing. `repeat`
# allocates the full 22 × 12 tensor.

# %%
column = torch.arange(22.0).reshape(22, 1)
view = broadcast_view(column, (22, 12))
copy = column.repeat(1, 12)
for name, t in [("expand", view), ("repeat", copy)]:
    print(f"{name}: shape {tuple(t.shape)}, stride {t.stride()}, "
          f"shares the column's memory: {t.data_ptr() == column.data_ptr()}, "
          f"storage bytes: {t.untyped_storage().nbytes()}")

# %% [markdown]
# ## 4. The silent loss bug grows with the batch { #silent-bug }
#
# With perfect predictions shaped `(N, 1)` and labels shaped `(N,)`, a hand-written mean
# squared error averages $(i - j)^2$ over all $N^2$ pairs, which equals $(N^2 - 1)/6$
# for these labels, instead of 0.

# %% alt="Line chart of the hand-written MSE of perfect predictions against batch size N from 2 to 40. Instead of zero, the loss grows quadratically, (N² − 1)/6, to about 267 at N = 40."
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
# ## What to remember { #remember }
#
# - Align shapes on the right; sizes must be equal or 1.
# - Broadcasting saves copies of the inputs, not the size of the output.
# - Assert shapes before a loss: `(N, 1)` against `(N,)` is a matrix, not an error.
