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
# # Лабораторная работа: разминочная математика в коде { #lab }
#
# Разминочные вопросы этого раздела в виде кода и графиков: формы при broadcasting, ранг
# и SVD, ядра SVM, устойчивость log-softmax и латентное пространство VAE. Все функции взяты из
# `snippets/ml_fundamentals/` — это тот же код, что показан на страницах и проверен тестами.
# Вся работа выполняется на CPU ноутбука меньше чем за минуту.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits, load_sample_image

from snippets.figures import figure_labels
from snippets.ml_fundamentals.broadcasting import broadcast_shape
from snippets.ml_fundamentals.figures import svm_decision_boundaries
from snippets.ml_fundamentals.log_softmax import log_softmax, naive_log_softmax
from snippets.ml_fundamentals.matrix_rank import best_rank_k, eckart_young_error, numerical_rank
from snippets.ml_fundamentals.svm_kernels import (
    polynomial_feature_dim,
    rbf_kernel,
    rbf_taylor_features,
)
from snippets.ml_fundamentals.vae import load_binary_digits, train

_ = torch.manual_seed(0)
torch.set_num_threads(1)  # tiny tensors: one thread avoids oversubscription on shared CPUs
L = figure_labels("lab_warm_up")  # the figures' words, drawn in each page's language

# %% [markdown]
# ## 1. Broadcasting: правило форм { #broadcasting }
#
# Формы выравниваются справа, дополняются единицами слева, и в каждом измерении размеры должны
# совпадать или один из них должен быть равен 1. Правило со [страницы о broadcasting](broadcasting.md)
# совпадает с `torch.broadcast_shapes` во всех случаях из собеседования, включая случай с
# ошибкой.

# %%
pairs = [((22, 1), (12,)), ((22, 1), (12, 1)), ((8, 1, 5), (3, 1)), ((2, 1, 4), (7, 1)),
         ((5,), ())]
for a, b in pairs:
    try:
        ours = broadcast_shape(a, b)
    except ValueError:
        ours = "error"
    try:
        theirs = tuple(torch.broadcast_shapes(a, b))
    except RuntimeError:
        theirs = "error"
    print(f"{str(a):>10} with {str(b):<8} -> rule: {str(ours):<12} torch: {theirs}")

# %% [markdown]
# ## 2. Ранг и SVD { #rank-svd }
#
# Матрица ранга 3 с небольшим шумом численно имеет полный ранг, но сингулярные числа
# показывают три направления, которые действительно важны. Ошибка наилучшего приближения
# ранга $k$, измеренная напрямую, совпадает с формулой Эккарта — Янга $\sqrt{\sum_{i>k} \sigma_i^2}$.

# %% alt="Слева: сингулярные числа зашумлённой матрицы ранга 3 размером 40 × 30 в логарифмическом масштабе: три больших значения, затем падение до уровня шума больше чем на два порядка. Справа: ошибка наилучшего приближения ранга k, измеренная и вычисленная по формуле Эккарта — Янга; обе кривые совпадают и резко падают при k = 3."
g = torch.Generator().manual_seed(0)
signal = torch.randn(40, 3, generator=g, dtype=torch.float64) @ torch.randn(
    3, 30, generator=g, dtype=torch.float64
)
noisy = signal + 0.01 * torch.randn(40, 30, generator=g, dtype=torch.float64)
sigma = torch.linalg.svdvals(noisy)
ks = list(range(0, 11))
measured = [float(torch.linalg.matrix_norm(noisy - best_rank_k(noisy, k), "fro")) for k in ks]
formula = [eckart_young_error(noisy, k)[0] for k in ks]
print("numerical rank:", numerical_rank(noisy))
print("effective rank (rtol = 1e-2):", numerical_rank(noisy, rtol=1e-2))

fig, axes = plt.subplots(1, 2, figsize=(6.4, 3.4), layout="constrained")
axes[0].semilogy(range(1, len(sigma) + 1), sigma.numpy(), "o-", ms=3)
axes[0].set(title=L["singular_values"], xlabel=L["index_i"], ylabel="σᵢ")
axes[1].semilogy(ks, measured, "o", label=L["measured"])
axes[1].semilogy(ks, formula, "-", label=L["formula"])
axes[1].set(title=L["rank_error_title"], xlabel="k")
axes[1].legend()
plt.show()

# %% [markdown]
# Та же теорема на фотографии (один цветовой канал изображения, которое поставляется со
# scikit-learn). Всего нескольких слагаемых ранга один хватает, чтобы сохранить композицию; для
# мелкой текстуры их нужно гораздо больше.

# %% alt="Полутоновая фотография башни китайского храма (ранг 427) и её наилучшие приближения рангов 1, 5, 20 и 80. Ранг 1 — лишь горизонтальные и вертикальные полосы, при ранге 20 здание уже узнаётся, а ранг 80 близок к оригиналу; относительная ошибка падает с 30,5 % до 8,8 %."
image = torch.tensor(load_sample_image("china.jpg")[:, :, 0], dtype=torch.float64) / 255
ranks = [1, 5, 20, 80]
fig, axes = plt.subplots(1, len(ranks) + 1, figsize=(6.4, 1.9), layout="constrained")
axes[0].imshow(image.numpy(), cmap="gray")
axes[0].set_title(L("original", r=numerical_rank(image)))
for ax, k in zip(axes[1:], ranks):
    approx = best_rank_k(image, k)
    rel = float(torch.linalg.matrix_norm(image - approx) / torch.linalg.matrix_norm(image))
    ax.imshow(approx.clamp(0, 1).numpy(), cmap="gray")
    ax.set_title(L("rank_error", k=k, e=rel))
for ax in axes:
    ax.axis("off")
plt.show()

# %% [markdown]
# ## 3. Ядра SVM { #kernels }
#
# Как быстро растёт полиномиальное пространство признаков с размерностью входа $d$, как
# сходится обрезанное бесконечное отображение признаков RBF-ядра и что ядра делают с двумя
# концентрическими окружностями.

# %% alt="Слева: график в двойном логарифмическом масштабе — размерность пространства признаков ядра (x·y + 1)^p в зависимости от размерности входа d при p = 2, 3 и 4; при d = 4096 и p = 4 она доходит примерно до 10^13. Справа: наибольшая ошибка RBF-ядра, построенного из n признаков ряда Тейлора, в логарифмическом масштабе; она падает примерно с 1 до 10^−15 при n = 30."
fig, axes = plt.subplots(1, 2, figsize=(6.4, 3.4), layout="constrained")
ds = np.array([2, 10, 100, 784, 4096])
for p in (2, 3, 4):
    axes[0].loglog(ds, [polynomial_feature_dim(int(d), p) for d in ds], "o-", label=f"p = {p}")
axes[0].set(title=L["feature_dim_title"], xlabel=L["input_dim"])
axes[0].legend()

x1 = np.linspace(-2, 2, 9)
exact = rbf_kernel(x1[:, None], x1[:, None], gamma=0.5)
n_terms = np.arange(1, 31)
errors = []
for n in n_terms:
    phi = rbf_taylor_features(x1, gamma=0.5, n_terms=int(n))
    errors.append(np.abs(phi @ phi.T - exact).max())
axes[1].semilogy(n_terms, errors, "o-", ms=3)
axes[1].set(title=L["taylor_title"], xlabel=L["n_features"], ylabel=L["max_error"])
plt.show()

# %% alt="Три границы решений SVM на двух концентрических кольцах точек. Линейное ядро проводит прямую и достигает точности 0,61 на обучающей выборке; полиномиальное ядро с p = 2 и RBF-ядро с gamma = 1 проводят окружность между кольцами и достигают 1,00. Опорные векторы обведены."
svm_decision_boundaries()
plt.show()

# %% [markdown]
# ## 4. Устойчивость log-softmax { #log-softmax }
#
# Два логита $(s, 0)$: точный логарифм вероятности второго класса при $s > 0$ равен
# $-s - \log(1 + e^{-s})$. Буквальная формула ломается, как только $e^{s}$ переполняется или
# $e^{-s}$ уходит в ноль; `log_softmax` через log-sum-exp — нет. Во float16 поломка наступает
# при $s \approx 11$.

# %% alt="Два линейных графика log p(класс 2) для логитов (s, 0) во float32 и во float16. Вариант через log-sum-exp (толстая линия) везде конечен; буквальная формула log(exp / sum exp) совпадает с ним, пока exp не переполнится, а затем даёт −inf (эти точки отмечены красными крестиками): после s ≈ 89 во float32 и после s ≈ 11 во float16."
fig, axes = plt.subplots(1, 2, figsize=(6.4, 3.6), layout="constrained")
failures = {}
for ax, dtype, top in [(axes[0], torch.float32, 150.0), (axes[1], torch.float16, 20.0)]:
    s = torch.linspace(-top, top, 601)
    z = torch.stack([s, torch.zeros_like(s)], dim=-1).to(dtype)
    naive = naive_log_softmax(z)[:, 1].float()
    stable = log_softmax(z)[:, 1].float()
    ax.plot(s, stable, lw=3, alpha=0.5, label="log-sum-exp")
    shown = torch.where(torch.isfinite(naive), naive, torch.nan)
    ax.plot(s, shown, "--", label="log(exp / Σ exp)")
    bad = ~torch.isfinite(naive)
    failures[str(dtype)] = (int(bad.sum()), len(s))
    ax.plot(s[bad], torch.zeros(int(bad.sum())), "rx", ms=3, label=L["nan_inf"])
    name = str(dtype).removeprefix("torch.")
    ax.set(title=L("logp_title", dtype=name), xlabel="s")
    ax.legend()
plt.show()
for dtype, (n_bad, n) in failures.items():
    print(f"{dtype}: the literal formula fails for {n_bad} of {n} values of s")

# %% [markdown]
# ## 5. Латентное пространство VAE { #vae }
#
# Одна и та же сеть, обученная как обычный автокодировщик и как VAE (по 300 шагов на полном
# батче, двумерные коды), с раскраской по цифрам. Коды автокодировщика лежат там, куда их
# поместил кодировщик; коды VAE стянуты в область априорного распределения $\mathcal{N}(0, I)$
# (пунктирные окружности — радиусы 1 и 2), поэтому сэмплы из априорного распределения
# попадают в их гущу.

# %% alt="Точечные диаграммы двумерных кодов рукописных цифр с раскраской по цифрам и пунктирными окружностями радиусов 1 и 2 с центром в начале координат. Коды обычного автокодировщика образуют облако неправильной формы размером в десятки единиц, большей частью далеко за пределами окружностей; коды VAE заполняют круг радиусом около 2 вокруг начала координат, как того требует стандартное нормальное априорное распределение."
x = load_binary_digits()
labels = load_digits().target
models = {"autoencoder": train(x, variational=False), "VAE": train(x, variational=True)}
fig, axes = plt.subplots(1, 2, figsize=(6.4, 3.4), layout="constrained")
for ax, (name, model) in zip(axes, models.items()):
    with torch.no_grad():
        codes, _ = model.encode(x)
    points = ax.scatter(codes[:, 0], codes[:, 1], c=labels, cmap="tab10", s=4, rasterized=True)
    for radius in (1, 2):
        ax.add_patch(plt.Circle((0, 0), radius, fill=False, ls="--", color="k", lw=0.8))
    ax.set(title=L("codes", model=L[name]), aspect="equal")
fig.colorbar(points, ax=axes, label=L["digit"])
plt.show()

# %% [markdown]
# ## Что запомнить { #remember }
#
# - Broadcasting выравнивает формы справа; (22, 1) − (12,) даёт (22, 12), а (22, 1) − (12, 1) —
#   ошибку.
# - Ранг — число ненулевых сингулярных чисел; в числах с плавающей точкой — число тех, что
#   выше допуска. Ошибка от отбрасывания сингулярных чисел равна ровно корню из суммы их квадратов.
# - Ядро — скалярное произведение в пространстве признаков, которое никогда не строится:
#   $\binom{d+p}{p}$ измерений у полиномиального ядра, бесконечно много у RBF.
# - Считайте log-softmax как $z - \operatorname{LSE}(z)$, а не как `log(softmax(z))`.
# - Именно KL-слагаемое превращает коды автокодировщика в латентное пространство, из которого
#   можно сэмплировать.
