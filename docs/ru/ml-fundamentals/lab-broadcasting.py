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
# # Лабораторная работа: broadcasting наглядно и с замерами { #lab }
#
# Лабораторная работа к вопросу [Тензор 22×1 минус 12-мерный тензор](broadcasting.md). Здесь
# выполняется тот же код, что и на странице: правило форм, изображение таблицы попарных
# разностей, представление с нулевым шагом, на котором держится broadcasting, и ошибка в
# функции потерь, которую broadcasting скрывает.

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
# ## 1. Что может иметь в виду интервьюер { #cases }
#
# Правило форм (`broadcast_shape`) и PyTorch дают одинаковый ответ во всех случаях; допустимы только
# первые два прочтения вопроса.

# %%
for a, b in CASES:
    print(f"{str(a):>9} - {str(b):<9} -> {describe(a, b)}")

# %% [markdown]
# ## 2. Результат — таблица попарных разностей { #pairwise }
#
# Элемент $(i, j)$ тензора `x - y` равен $x_i - y_j$. Столбец меняется от строки к строке,
# вектор — от столбца к столбцу, а результат — в обоих направлениях.

# %% alt="Три тепловые карты: x — столбец 22 × 1, y, изображённый строкой 1 × 12, и их разность z = x − y — таблица 22 × 12, значения которой растут сверху вниз и убывают слева направо."
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
# ## 3. Broadcasting — это представление, `repeat` — копия { #view-vs-copy }
#
# `expand` задаёт растянутому измерению шаг 0 и ничего не выделяет. `repeat` выделяет
# полный тензор 22 × 12.

# %%
column = torch.arange(22.0).reshape(22, 1)
view = broadcast_view(column, (22, 12))
copy = column.repeat(1, 12)
for name, t in [("expand", view), ("repeat", copy)]:
    print(f"{name}: shape {tuple(t.shape)}, stride {t.stride()}, "
          f"shares the column's memory: {t.data_ptr() == column.data_ptr()}, "
          f"storage bytes: {t.untyped_storage().nbytes()}")

# %% [markdown]
# ## 4. Незаметная ошибка в функции потерь растёт с батчем { #silent-bug }
#
# При идеальных предсказаниях формы `(N, 1)` и метках формы `(N,)` самописная
# среднеквадратичная ошибка усредняет $(i - j)^2$ по всем $N^2$ парам; для этих меток это
# $(N^2 - 1)/6$ вместо 0.

# %% alt="Линейный график самописной MSE при идеальных предсказаниях в зависимости от размера батча N от 2 до 40. Вместо нуля потеря растёт квадратично, как (N² − 1)/6, и доходит примерно до 267 при N = 40."
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
# ## Что запомнить { #remember }
#
# - Формы выравниваются по правому краю; размеры должны совпадать или быть равны 1.
# - Broadcasting экономит копии входов, а не размер результата.
# - Проверяйте формы перед вычислением функции потерь: `(N, 1)` и `(N,)` дают матрицу, а не ошибку.
