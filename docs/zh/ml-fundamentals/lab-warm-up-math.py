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
# # 实验：用代码做热身数学题 { #lab }
#
# 把本章的面试热身题跑一遍、画出来：广播的形状、秩与 SVD、SVM 核函数、log-softmax 的数值
# 稳定性，以及 VAE 的隐空间。所有函数都来自 `snippets/ml_fundamentals/`，与各页展示并经过测试
# 的是同一份代码。整个实验在笔记本电脑的 CPU 上一分钟之内就能跑完。

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
# ## 1. 广播：形状规则 { #broadcasting }
#
# 形状从右对齐，左边补 1，每一维要么相等、要么其中一个是 1。[广播一页](broadcasting.md)中的规则
# 在面试的几种情形上都与 `torch.broadcast_shapes` 一致，包括会报错的那种。

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
# ## 2. 秩与 SVD { #rank-svd }
#
# 秩为 3 的矩阵加上很小的噪声，在数值上是满秩的，但奇异值揭示了真正重要的三个方向。直接测得的
# 最优秩 $k$ 近似误差，恰好落在 Eckart–Young 公式 $\sqrt{\sum_{i>k} \sigma_i^2}$ 上。

# %% alt="左图：一个 40 × 30、秩为 3 的带噪声矩阵的奇异值，对数刻度：三个大奇异值之后，骤降两个数量级以上，落到噪声水平。右图：最优秩 k 近似的误差，分别为直接测量值和 Eckart–Young 公式给出的值；两者重合，并在 k = 3 处急剧下降。"
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
# 同一个定理用在一张照片上（scikit-learn 自带图片的一个颜色通道）。寥寥几个秩一项就保留了整体
# 布局；细节纹理则需要多得多的项。

# %% alt="一张中国寺庙塔楼的灰度照片（秩 427），及其最优秩 1、5、20 和 80 近似。秩 1 只剩横竖条纹，秩 20 时已能认出建筑，秩 80 已接近原图；相对误差从 30.5% 降到 8.8%。"
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
# ## 3. SVM 核函数 { #kernels }
#
# 多项式特征空间随输入维数 $d$ 增长得有多快，RBF 核的无穷维特征映射截断后如何收敛，以及几种核
# 在两个同心圆上的表现。

# %% alt="左图：核 (x·y + 1)^p 的特征空间维数与输入维数 d 的双对数坐标图，p = 2、3 和 4，在 d = 4,096、p = 4 时达到约 10^13。右图：由 n 个泰勒特征构造的 RBF 核的最大误差，对数刻度，从约 1 降到 n = 30 时的约 10^−15。"
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

# %% alt="两个同心点环上的三种 SVM 决策边界。线性核画出一条直线，训练准确率为 0.61；p = 2 的多项式核和 gamma = 1 的 RBF 核在两环之间画出一个圆，准确率达到 1.00。支持向量用圆圈标出。"
svm_decision_boundaries()
plt.show()

# %% [markdown]
# ## 4. log-softmax 的数值稳定性 { #log-softmax }
#
# 两个 logits $(s, 0)$：当 $s > 0$ 时，第二类的精确对数概率是 $-s - \log(1 + e^{-s})$。按字面写的
# 公式一旦 $e^{s}$ 上溢或 $e^{-s}$ 下溢就会失效；通过 log-sum-exp 计算的 `log_softmax` 则不会。在
# float16 中，失效点在 $s \approx 11$ 处。

# %% alt="两幅折线图：logits 为 (s, 0) 时的 log p(class 2)，分别在 float32 和 float16 下计算。log-sum-exp 形式（粗线）处处有限；按字面写的 log(exp / sum exp) 在 exp 上溢之前与之一致，之后给出 −inf，用红叉标出：float32 中在 s ≈ 89 之后，float16 中在 s ≈ 11 之后。"
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
# ## 5. VAE 的隐空间 { #vae }
#
# 同一个网络分别按普通自编码器和 VAE 训练（各 300 步全批量训练，2 维编码），按数字着色。自编码器
# 的编码落在编码器随意放置的地方；VAE 的编码被拉进先验 $\mathcal{N}(0, I)$ 所在的区域（虚线圆表示
# 半径 1 和 2），所以从先验采样会落在它们中间。

# %% alt="手写数字 2 维编码的散点图，按数字着色，原点处画有半径 1 和 2 的虚线圆。普通自编码器的编码散布在几十个单位的范围内，形状不规则，大多远在圆外；VAE 的编码填满原点周围半径约 2 的圆盘，正如其标准正态先验所要求的。"
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
# ## 要点 { #remember }
#
# - 广播从右对齐形状；(22, 1) − (12,) 得到 (22, 12)，(22, 1) − (12, 1) 会报错。
# - 秩是非零奇异值的个数；在浮点数中，是超过容差的奇异值个数。丢掉一些奇异值的代价，恰好是它们
#   平方和的平方根。
# - 核函数是某个特征空间中的内积，而这个空间从不需要显式构造：多项式核 $\binom{d+p}{p}$ 维，RBF 核无穷维。
# - 把 log-softmax 算成 $z - \operatorname{LSE}(z)$，永远不要算成 `log(softmax(z))`。
# - 正是 KL 项把自编码器的编码变成了可以采样的隐空间。
