"""SVM kernels: the kernel trick, explicit feature maps and how many dimensions they have.

Used by the page ml-fundamentals/svm-kernels (source question A9).
"""

from __future__ import annotations

import itertools
import math

import numpy as np


# --8<-- [start:kernels]
def polynomial_kernel(x: np.ndarray, y: np.ndarray, degree: int, coef0: float = 1.0) -> np.ndarray:
    """k(x, y) = (x . y + c)^p for all pairs of rows of x and y."""
    return (x @ y.T + coef0) ** degree


def rbf_kernel(x: np.ndarray, y: np.ndarray, gamma: float) -> np.ndarray:
    """k(x, y) = exp(-gamma * ||x - y||^2) for all pairs of rows of x and y."""
    sq_dist = (x**2).sum(1)[:, None] - 2 * x @ y.T + (y**2).sum(1)[None, :]
    return np.exp(-gamma * np.maximum(sq_dist, 0.0))
# --8<-- [end:kernels]


# --8<-- [start:poly-features]
def polynomial_feature_map(x: np.ndarray, degree: int, coef0: float = 1.0) -> np.ndarray:
    """Explicit phi with phi(x) . phi(y) = (x . y + c)^p.

    Append sqrt(c) to x, expand (x~ . y~)^p with the multinomial theorem: one coordinate
    per monomial x~^alpha with |alpha| = p, scaled by sqrt(p! / prod(alpha_i!)).
    """
    n, d = x.shape
    x_ext = np.hstack([x, np.full((n, 1), math.sqrt(coef0))])
    columns = []
    for combo in itertools.combinations_with_replacement(range(d + 1), degree):
        alpha = np.bincount(combo, minlength=d + 1)
        multinomial = math.factorial(degree) / math.prod(math.factorial(a) for a in alpha)
        columns.append(math.sqrt(multinomial) * np.prod(x_ext ** alpha, axis=1))
    return np.stack(columns, axis=1)


def polynomial_feature_dim(d: int, degree: int, homogeneous: bool = False) -> int:
    """Number of monomials: C(d + p, p) for (x . y + c)^p with c > 0,
    C(d + p - 1, p) for the homogeneous (x . y)^p."""
    return math.comb(d + degree - 1, degree) if homogeneous else math.comb(d + degree, degree)
# --8<-- [end:poly-features]


# --8<-- [start:rbf-features]
def rbf_taylor_features(x: np.ndarray, gamma: float, n_terms: int) -> np.ndarray:
    """First n_terms coordinates of an explicit feature map of the 1-D RBF kernel.

    exp(-g (x - y)^2) = exp(-g x^2) exp(-g y^2) sum_k (2g)^k x^k y^k / k!, so
    phi_k(x) = exp(-g x^2) sqrt((2g)^k / k!) x^k, for k = 0, 1, 2, ... without end.
    """
    k = np.arange(n_terms)
    log_coef = 0.5 * (k * math.log(2 * gamma) - np.array([math.lgamma(i + 1) for i in k]))
    return np.exp(-gamma * x[:, None] ** 2 + log_coef[None, :]) * x[:, None] ** k[None, :]
# --8<-- [end:rbf-features]


# --8<-- [start:gram-rank]
def gram_rank(gram: np.ndarray, rtol: float = 1e-10) -> int:
    """Rank of a Gram matrix K_ij = k(x_i, x_j). If k(x, y) = phi(x) . phi(y) with phi of
    dimension D, then K = Phi Phi^T has rank <= D, whatever the number of points."""
    eigenvalues = np.linalg.eigvalsh(gram)
    return int((eigenvalues > rtol * eigenvalues.max()).sum())
# --8<-- [end:gram-rank]


# --8<-- [start:svm]
def circles(seed: int = 0):
    """Two concentric noisy circles (not linearly separable), split 200 / 200."""
    from sklearn.datasets import make_circles
    from sklearn.model_selection import train_test_split

    x, y = make_circles(n_samples=400, noise=0.1, factor=0.5, random_state=seed)
    return train_test_split(x, y, test_size=0.5, random_state=seed)


def make_models() -> dict:
    from sklearn.svm import SVC

    return {
        "linear": SVC(kernel="linear", C=1.0),
        "poly, p = 2": SVC(kernel="poly", degree=2, gamma=1.0, coef0=1.0, C=1.0),
        "RBF, gamma = 1": SVC(kernel="rbf", gamma=1.0, C=1.0),
        "RBF, gamma = 1000": SVC(kernel="rbf", gamma=1000.0, C=1.0),
    }


def compare_kernels(seed: int = 0) -> dict[str, tuple[float, float, int]]:
    """{kernel: (train accuracy, test accuracy, number of support vectors)}."""
    x_train, x_test, y_train, y_test = circles(seed)
    results = {}
    for name, model in make_models().items():
        model.fit(x_train, y_train)
        results[name] = (
            model.score(x_train, y_train),
            model.score(x_test, y_test),
            int(model.n_support_.sum()),
        )
    return results
# --8<-- [end:svm]


if __name__ == "__main__":
    print("feature-space dimension of (x . y + 1)^p, C(d + p, p):")
    for d, p in [(2, 2), (2, 3), (100, 2), (100, 3), (784, 2), (784, 3), (4096, 2)]:
        print(f"  d = {d:4d}, p = {p}: {polynomial_feature_dim(d, p):>14,}")

    rng = np.random.default_rng(0)
    pts = rng.normal(size=(50, 2))
    phi = polynomial_feature_map(pts, degree=2)
    same = np.allclose(phi @ phi.T, polynomial_kernel(pts, pts, degree=2), rtol=1e-12, atol=1e-12)
    print(f"\nphi for d = 2, p = 2: {phi.shape[1]} coordinates; phi(x).phi(y) == k(x, y): {same}")
    print(f"rank of the 50 x 50 Gram matrix: poly p = 2 -> {gram_rank(phi @ phi.T)}, ", end="")
    grid = np.stack(np.meshgrid(np.arange(5.0), np.arange(10.0)), -1).reshape(-1, 2)
    print(f"RBF -> {gram_rank(rbf_kernel(grid, grid, gamma=1.0))} (50 grid points)")

    x1 = np.linspace(-2, 2, 9)
    exact = rbf_kernel(x1[:, None], x1[:, None], gamma=0.5)
    print("\n1-D RBF (gamma = 0.5) from truncated Taylor features, x in [-2, 2]:")
    for n_terms in (2, 5, 10, 20):
        f = rbf_taylor_features(x1, gamma=0.5, n_terms=n_terms)
        print(f"  {n_terms:2d} features: max error {np.abs(f @ f.T - exact).max():.1e}")

    print("\nSVMs on two concentric circles (200 train / 200 test points):")
    print(f"  {'kernel':18s} {'train':>6s} {'test':>6s} {'support vectors':>16s}")
    for name, (train, test, n_sv) in compare_kernels().items():
        print(f"  {name:18s} {train:6.3f} {test:6.3f} {n_sv:16d}")
