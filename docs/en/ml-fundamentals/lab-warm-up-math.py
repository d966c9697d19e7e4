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
# # Lab: warm-up math in code { #lab }
#
# The interview warm-up questions of this section, run and plotted: broadcasting shapes,
# rank and the SVD, SVM kernels, log-softmax stability, and the latent space of a VAE.
# Every function comes from `snippets/ml_fundamentals/`, the same code the pages show and
# the tests check. The whole lab runs in well under a minute on a laptop CPU.

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
# ## 1. Broadcasting: the shape rule { #broadcasting }
#
# Align shapes on the right, pad with 1s, and require equal sizes or a 1 in every
# dimension. The rule from [the broadcasting page](broadcasting.md) agrees with
# `torch.broadcast_shapes` on the interview's cases, including the one that fails.

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
# ## 2. Rank and the SVD { #rank-svd }
#
# A rank-3 matrix plus small noise is numerically full-rank, but its singular values show
# the three directions that matter. The error of the best rank-$k$ approximation, measured
# directly, lands on the Eckart–Young formula $\sqrt{\sum_{i>k} \sigma_i^2}$.

# %% alt="Left: the singular values of a noisy rank-3 matrix of 40 × 30 on a log scale: three large values, then a drop of more than two orders of magnitude to the noise. Right: the error of the best rank-k approximation, measured and from the Eckart–Young formula; the two coincide and fall sharply at k = 3."
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
# The same theorem on a photograph (one colour channel of an image bundled with
# scikit-learn). A handful of rank-one terms already keeps the layout; fine texture needs
# many more.

# %% alt="A grayscale photograph of a Chinese temple tower, rank 427, and its best rank-1, 5, 20 and 80 approximations. Rank 1 is only horizontal and vertical bands, the building is recognisable at rank 20, and rank 80 is close to the original; the relative error falls from 30.5% to 8.8%."
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
# ## 3. SVM kernels { #kernels }
#
# How fast the polynomial feature space grows with the input dimension $d$, how the RBF
# kernel's infinite feature map converges when truncated, and what the kernels do to two
# concentric circles.

# %% alt="Left: log-log chart of the dimension of the feature space of the kernel (x·y + 1)^p against input dimension d, for p = 2, 3 and 4, reaching about 10^13 at d = 4,096 and p = 4. Right: the largest error of an RBF kernel built from n Taylor features, on a log scale, falls from about 1 to about 10^−15 at n = 30."
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

# %% alt="Three SVM decision boundaries on two concentric rings of points. The linear kernel draws a straight line and reaches training accuracy 0.61; the polynomial kernel with p = 2 and the RBF kernel with gamma = 1 draw a circle between the rings and reach 1.00. Support vectors are circled."
svm_decision_boundaries()
plt.show()

# %% [markdown]
# ## 4. Log-softmax stability { #log-softmax }
#
# Two logits $(s, 0)$: the exact log-probability of the second class is
# $-s - \log(1 + e^{-s})$ for $s > 0$. The formula written literally breaks once $e^{s}$
# overflows or $e^{-s}$ underflows; `log_softmax` via log-sum-exp does not. In float16 the
# break comes at $s \approx 11$.

# %% alt="Two line charts of log p(class 2) for logits (s, 0), in float32 and in float16. The log-sum-exp form (thick line) stays finite everywhere; the literal log(exp / sum exp) agrees with it until exp overflows, then gives −inf, marked by red crosses: beyond s ≈ 89 in float32 and s ≈ 11 in float16."
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
# ## 5. The VAE's latent space { #vae }
#
# The same network trained as a plain autoencoder and as a VAE (300 full-batch steps
# each, 2-dimensional codes), coloured by digit. The autoencoder's codes sit wherever the
# encoder put them; the VAE's codes are pulled into the region of the prior
# $\mathcal{N}(0, I)$ (the dashed circles mark radius 1 and 2), so sampling from the prior
# lands among them.

# %% alt="Scatter plots of the 2-D codes of handwritten digits, coloured by digit, with dashed circles of radius 1 and 2 at the origin. The plain autoencoder's codes stretch over tens of units in an irregular shape, mostly far outside the circles; the VAE's codes fill a disc of radius about 2 around the origin, as its standard normal prior asks."
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
# ## What to remember { #remember }
#
# - Broadcasting aligns shapes on the right; (22, 1) − (12,) is (22, 12), (22, 1) − (12, 1)
#   is an error.
# - Rank is the number of non-zero singular values; in floating point, the number above a
#   tolerance. Dropping singular values costs exactly their root-sum-of-squares.
# - A kernel is an inner product in a feature space you never build: $\binom{d+p}{p}$
#   dimensions for a polynomial kernel, infinitely many for RBF.
# - Compute log-softmax as $z - \operatorname{LSE}(z)$, never as `log(softmax(z))`.
# - The KL term is what turns an autoencoder's codes into a latent space you can sample.
