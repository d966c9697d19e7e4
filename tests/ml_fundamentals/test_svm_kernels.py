"""Tests for snippets/ml_fundamentals/svm_kernels.py (and its figure)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics.pairwise import polynomial_kernel as sk_polynomial_kernel
from sklearn.metrics.pairwise import rbf_kernel as sk_rbf_kernel
from sklearn.preprocessing import PolynomialFeatures
from sklearn.svm import SVC

from snippets.figures import LANGS
from snippets.ml_fundamentals.figures import FIGURE_DIR, write_figures
from snippets.ml_fundamentals.svm_kernels import (
    circles,
    compare_kernels,
    gram_rank,
    polynomial_feature_dim,
    polynomial_feature_map,
    polynomial_kernel,
    rbf_kernel,
    rbf_taylor_features,
)

RNG = np.random.default_rng(0)


def test_kernels_match_scikit_learn():
    x, y = RNG.normal(size=(7, 4)), RNG.normal(size=(5, 4))
    np.testing.assert_allclose(
        polynomial_kernel(x, y, degree=3, coef0=2.0),
        sk_polynomial_kernel(x, y, degree=3, gamma=1.0, coef0=2.0),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        rbf_kernel(x, y, gamma=0.3), sk_rbf_kernel(x, y, gamma=0.3), rtol=1e-12
    )


@pytest.mark.parametrize(
    "d, p, c", [(1, 1, 1.0), (2, 2, 1.0), (3, 3, 0.5), (5, 2, 2.0), (4, 4, 1.0)]
)
def test_explicit_polynomial_map_reproduces_the_kernel(d: int, p: int, c: float):
    x, y = RNG.normal(size=(6, d)), RNG.normal(size=(4, d))
    phi_x, phi_y = polynomial_feature_map(x, p, c), polynomial_feature_map(y, p, c)
    np.testing.assert_allclose(
        phi_x @ phi_y.T, polynomial_kernel(x, y, p, c), rtol=1e-10, atol=1e-10
    )
    # Its length is the page's formula, and it equals the count of monomials of degree <= p
    # that scikit-learn's PolynomialFeatures generates.
    assert phi_x.shape[1] == polynomial_feature_dim(d, p) == math.comb(d + p, p)
    assert phi_x.shape[1] == PolynomialFeatures(degree=p).fit(x).n_output_features_


@pytest.mark.parametrize("d, p", [(1, 3), (2, 2), (3, 4), (6, 2)])
def test_homogeneous_dimension_counts_monomials_of_degree_exactly_p(d: int, p: int):
    full = PolynomialFeatures(degree=p).fit(np.zeros((1, d))).n_output_features_
    lower = PolynomialFeatures(degree=p - 1).fit(np.zeros((1, d))).n_output_features_
    assert polynomial_feature_dim(d, p, homogeneous=True) == full - lower


@pytest.mark.parametrize("d, p", [(2, 2), (2, 3), (3, 2)])
def test_polynomial_gram_rank_is_capped_by_the_feature_dimension(d: int, p: int):
    x = RNG.normal(size=(60, d))
    assert gram_rank(polynomial_kernel(x, x, p), rtol=1e-9) == polynomial_feature_dim(d, p)


@pytest.mark.parametrize("n", [5, 20, 50])
def test_rbf_gram_matrix_has_full_rank_for_any_number_of_points(n: int):
    # No feature map of finite dimension D can produce a rank-n Gram matrix for n > D.
    x = np.column_stack([np.arange(n) % 5, np.arange(n) // 5]).astype(float)
    gram = rbf_kernel(x, x, gamma=1.0)
    assert gram_rank(gram) == n
    assert np.linalg.eigvalsh(gram).min() > 0


def test_rbf_taylor_features_converge_to_the_kernel():
    x = np.linspace(-2, 2, 9)
    exact = sk_rbf_kernel(x[:, None], gamma=0.5)
    errors = []
    for n_terms in (2, 5, 10, 20, 30):
        f = rbf_taylor_features(x, gamma=0.5, n_terms=n_terms)
        errors.append(np.abs(f @ f.T - exact).max())
    assert all(a > b for a, b in zip(errors, errors[1:], strict=False))
    assert errors[-1] < 1e-12
    # Each finite truncation has finite rank, so it is never the kernel itself.
    f = rbf_taylor_features(x, gamma=0.5, n_terms=5)
    assert gram_rank(f @ f.T) <= 5 < gram_rank(exact)


def test_mercer_valid_kernels_are_psd_and_some_similarities_are_not():
    x = RNG.normal(size=(30, 3))
    # exp(q . k / sqrt(d)), the unnormalised attention weight, is a valid kernel too.
    exp_dot = np.exp(x @ x.T / np.sqrt(3))
    for gram in (rbf_kernel(x, x, 0.7), polynomial_kernel(x, x, 3), exp_dot):
        eigenvalues = np.linalg.eigvalsh(gram)
        assert eigenvalues.min() > -1e-10 * eigenvalues.max()
    # Squared distance: zero diagonal, non-zero matrix -> trace 0 -> a negative eigenvalue.
    sq = -2 * x @ x.T + (x**2).sum(1)[:, None] + (x**2).sum(1)[None, :]
    assert np.linalg.eigvalsh(sq).min() < -1e-6
    # The "sigmoid kernel" tanh(a x.y + b) is not PSD in general.
    sigmoid = np.tanh(1.0 * x @ x.T - 1.0)
    assert np.linalg.eigvalsh(sigmoid).min() < -1e-6


def test_kernel_svm_equals_linear_svm_on_explicit_features():
    # The kernel trick: an SVM with k = (x.y + 1)^2 solves the same problem as a linear SVM
    # on phi(x), without ever building phi.
    x_train, x_test, y_train, _ = circles(seed=0)
    kernel_svm = SVC(kernel="poly", degree=2, gamma=1.0, coef0=1.0, C=1.0, tol=1e-8)
    feature_svm = SVC(kernel="linear", C=1.0, tol=1e-8)
    kernel_svm.fit(x_train, y_train)
    feature_svm.fit(polynomial_feature_map(x_train, 2), y_train)
    np.testing.assert_allclose(
        kernel_svm.decision_function(x_test),
        feature_svm.decision_function(polynomial_feature_map(x_test, 2)),
        atol=1e-4,
    )


def test_custom_kernel_callable_matches_builtin_rbf():
    x_train, x_test, y_train, _ = circles(seed=1)
    ours = SVC(kernel=lambda a, b: rbf_kernel(a, b, gamma=1.0)).fit(x_train, y_train)
    builtin = SVC(kernel="rbf", gamma=1.0).fit(x_train, y_train)
    np.testing.assert_allclose(ours.decision_function(x_test), builtin.decision_function(x_test),
                               atol=1e-6)


def test_rbf_beats_linear_on_circles_and_huge_gamma_overfits():
    results = compare_kernels(seed=0)
    linear_test = results["linear"][1]
    rbf_train, rbf_test, _ = results["RBF, gamma = 1"]
    assert linear_test < 0.7 and rbf_test > 0.95
    assert results["poly, p = 2"][1] > 0.95
    wide_train, wide_test, wide_sv = results["RBF, gamma = 1000"]
    assert wide_train == 1.0 and wide_test < rbf_test - 0.2
    assert wide_sv > results["RBF, gamma = 1"][2]


def test_committed_figures_are_reproducible(tmp_path):
    written = write_figures(tmp_path)
    assert [p.name for p in written] == [f"svm-decision-boundaries.{lang}.svg" for lang in LANGS]
    x_train, _, _, _ = circles(seed=0)
    n_support = sum(results[2] for name, results in compare_kernels().items()
                    if name in ("linear", "poly, p = 2", "RBF, gamma = 1"))
    for fresh in written:
        committed = FIGURE_DIR / fresh.name
        assert committed.read_bytes() == fresh.read_bytes(), f"{fresh.name} is stale: run make figures"
        # compact_svg keeps every point (200 data markers and the support vectors per panel)
        # and keeps the file small.
        svg = committed.read_text(encoding="utf-8")
        legend_markers = 3
        assert svg.count("<use ") >= 3 * len(x_train) + n_support + legend_markers
        assert len(svg.encode()) < 120_000
