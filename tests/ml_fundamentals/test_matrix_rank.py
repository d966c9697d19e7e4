"""Tests for snippets/ml_fundamentals/matrix_rank.py: every statement of the page."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
import torch
from sklearn.decomposition import TruncatedSVD

from snippets.ml_fundamentals.matrix_rank import (
    best_rank_k,
    eckart_young_error,
    lora_delta,
    lora_parameter_count,
    numerical_rank,
    rank_by_elimination,
    solution_count,
)

RNG = np.random.default_rng(0)


def random_integer_matrix(m: int, n: int, r: int) -> list[list[int]]:
    """An m x n integer matrix of rank at most r (a product of m x r and r x n factors)."""
    left = RNG.integers(-3, 4, size=(m, r))
    right = RNG.integers(-3, 4, size=(r, n))
    return (left @ right).tolist()


def random_float_matrix(m: int, n: int, r: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(int(RNG.integers(1_000_000)))
    left = torch.randn(m, r, generator=g, dtype=torch.float64)
    return left @ torch.randn(r, n, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("trial", range(30))
def test_exact_rank_matches_sympy_and_torch(trial: int):
    m, n = (int(v) for v in RNG.integers(1, 7, size=2))
    r = int(RNG.integers(0, min(m, n) + 1))
    a = random_integer_matrix(m, n, r)
    expected = sympy.Matrix(a).rank()
    assert rank_by_elimination(a) == expected
    assert int(torch.linalg.matrix_rank(torch.tensor(a, dtype=torch.float64))) == expected
    assert expected <= r


@pytest.mark.parametrize("trial", range(30))
def test_row_rank_equals_column_rank(trial: int):
    m, n = (int(v) for v in RNG.integers(1, 8, size=2))
    a = random_integer_matrix(m, n, int(RNG.integers(0, min(m, n) + 1)))
    transposed = [list(col) for col in zip(*a, strict=True)]
    assert rank_by_elimination(a) == rank_by_elimination(transposed)


@pytest.mark.parametrize("shape_rank", [(5, 5, 5), (8, 5, 3), (5, 8, 2), (30, 20, 7), (6, 6, 0)])
def test_numerical_rank_matches_torch_and_numpy(shape_rank):
    m, n, r = shape_rank
    a = random_float_matrix(m, n, r)
    assert numerical_rank(a) == int(torch.linalg.matrix_rank(a)) == r
    assert numerical_rank(a) == int(np.linalg.matrix_rank(a.numpy()))


def test_noise_makes_a_low_rank_matrix_numerically_full_rank():
    a = random_float_matrix(40, 30, 3)
    g = torch.Generator().manual_seed(0)
    noisy = a + 1e-2 * torch.randn(40, 30, generator=g, dtype=a.dtype)
    assert numerical_rank(noisy) == 30
    # With a tolerance at the noise level the "effective" rank is 3 again.
    assert numerical_rank(noisy, rtol=1e-2) == 3


@pytest.mark.parametrize("trial", range(30))
def test_square_matrix_invertible_iff_full_rank(trial: int):
    n = int(RNG.integers(1, 6))
    r = int(RNG.integers(0, n + 1))
    a = random_integer_matrix(n, n, r)
    full = rank_by_elimination(a) == n
    assert full == (sympy.Matrix(a).det() != 0)
    if full:
        inv = sympy.Matrix(a).inv()
        assert inv * sympy.Matrix(a) == sympy.eye(n)
    else:
        with pytest.raises(ValueError):  # sympy: "Matrix det == 0; not invertible."
            sympy.Matrix(a).inv()


def test_full_column_rank_rectangular_matrix_has_only_a_left_inverse():
    # rank = number of columns is not enough for an inverse unless the matrix is square.
    a = random_float_matrix(5, 3, 3)
    assert numerical_rank(a) == 3
    pinv = torch.linalg.pinv(a)
    torch.testing.assert_close(pinv @ a, torch.eye(3, dtype=a.dtype))
    assert not torch.allclose(a @ pinv, torch.eye(5, dtype=a.dtype), atol=1e-6)
    with pytest.raises(RuntimeError):
        torch.linalg.inv(a)


@pytest.mark.parametrize("trial", range(30))
def test_solution_count_matches_sympy_linsolve(trial: int):
    m, n = (int(v) for v in RNG.integers(1, 5, size=2))
    a = random_integer_matrix(m, n, int(RNG.integers(0, min(m, n) + 1)))
    b = RNG.integers(-3, 4, size=m).tolist()
    symbols = sympy.symbols(f"x0:{n}")
    solutions = sympy.linsolve((sympy.Matrix(a), sympy.Matrix(b)), *symbols)
    if solutions == sympy.EmptySet:
        expected = "none"
    else:
        (solution,) = solutions
        free = set().union(*(sympy.sympify(v).free_symbols for v in solution))
        expected = "infinitely many" if free else "unique"
    assert solution_count(a, b) == expected


def test_solution_count_agrees_with_least_squares_residual():
    a = [[1, 2, 3], [2, 4, 6], [1, 0, 1]]
    at = torch.tensor(a, dtype=torch.float64)
    for b, status in [([1, 2, 0], "infinitely many"), ([1, 3, 0], "none")]:
        bt = torch.tensor(b, dtype=torch.float64)
        x = torch.linalg.lstsq(at, bt.unsqueeze(1), driver="gelsd").solution.squeeze(1)
        consistent = torch.allclose(at @ x, bt, atol=1e-9)
        assert solution_count(a, b) == status
        assert consistent == (status != "none")


@pytest.mark.parametrize("k", [0, 1, 2, 3, 5])
def test_eckart_young_error_formula(k: int):
    a = random_float_matrix(12, 9, 9)
    approx = best_rank_k(a, k)
    assert numerical_rank(approx) == k if k else float(approx.abs().max()) == 0.0
    fro, spec = eckart_young_error(a, k)
    s = np.linalg.svd(a.numpy(), compute_uv=False)
    assert fro == pytest.approx(float(np.sqrt((s[k:] ** 2).sum())), rel=1e-10)
    assert spec == pytest.approx(float(s[k]), rel=1e-10)
    assert float(torch.linalg.matrix_norm(a - approx, "fro")) == pytest.approx(fro, rel=1e-9)
    assert float(torch.linalg.matrix_norm(a - approx, 2)) == pytest.approx(spec, rel=1e-9)


def test_truncated_svd_matches_scikit_learn():
    a = random_float_matrix(20, 15, 15)
    svd = TruncatedSVD(n_components=4, algorithm="arpack", random_state=0).fit(a.numpy())
    reference = svd.inverse_transform(svd.transform(a.numpy()))
    np.testing.assert_allclose(best_rank_k(a, 4).numpy(), reference, atol=1e-9)


def test_no_rank_k_matrix_beats_the_truncated_svd():
    a = random_float_matrix(10, 8, 8)
    k = 3
    best_fro, best_spec = eckart_young_error(a, k)
    g = torch.Generator().manual_seed(1)
    a_k = best_rank_k(a, k)
    u, s, vh = torch.linalg.svd(a_k, full_matrices=False)
    for trial in range(300):
        if trial % 2:
            # random rank-k competitors
            cand = torch.randn(10, k, generator=g, dtype=a.dtype) @ torch.randn(
                k, 8, generator=g, dtype=a.dtype
            )
            cand = cand * (a.norm() / cand.norm())
        else:
            # small perturbations of the optimum that stay rank k
            cand = (u[:, :k] + 0.05 * torch.randn(10, k, generator=g, dtype=a.dtype)) @ (
                torch.diag(s[:k]) @ vh[:k]
                + 0.05 * torch.randn(k, 8, generator=g, dtype=a.dtype)
            )
        assert float(torch.linalg.matrix_norm(a - cand, "fro")) >= best_fro - 1e-12
        assert float(torch.linalg.matrix_norm(a - cand, 2)) >= best_spec - 1e-12


@pytest.mark.parametrize("r", [1, 2, 4, 8])
def test_lora_update_has_rank_at_most_r(r: int):
    delta = lora_delta(64, 48, r=r, alpha=16, seed=r)
    assert numerical_rank(delta) == r
    # Adding it to a weight raises the rank by at most r (subadditivity of rank).
    w = random_float_matrix(64, 48, 10)
    assert numerical_rank(w + delta) <= numerical_rank(w) + r


def test_peft_lora_delta_weight_has_rank_r():
    from peft import LoraConfig, get_peft_model  # imports transformers: keep it local

    class Tiny(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.proj = torch.nn.Linear(48, 64)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.proj(x)

    torch.manual_seed(0)
    r = 4
    model = get_peft_model(Tiny(), LoraConfig(r=r, lora_alpha=8, target_modules=["proj"]))
    layer = model.base_model.model.proj
    # PEFT initialises B to zero, so the update starts at rank 0 ...
    assert numerical_rank(layer.get_delta_weight("default")) == 0
    # ... and after training (here: random factors) it has rank r.
    torch.nn.init.normal_(layer.lora_B["default"].weight)
    delta = layer.get_delta_weight("default").detach()  # float32, like the model
    assert delta.shape == (64, 48)
    assert numerical_rank(delta) == r
    # In float64 the float32 rounding noise would count as rank: tolerance follows the dtype.
    assert numerical_rank(delta.double()) == min(delta.shape) == 48
    a = layer.lora_A["default"].weight.detach()
    b = layer.lora_B["default"].weight.detach()
    torch.testing.assert_close(delta, (8 / r) * b @ a)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable == lora_parameter_count(64, 48, r)[1]


def test_tiny_determinant_does_not_mean_singular():
    scaled = 0.1 * torch.eye(50, dtype=torch.float64)
    assert abs(float(torch.linalg.det(scaled))) < 1e-40
    assert numerical_rank(scaled) == 50
    assert float(torch.linalg.cond(scaled)) == pytest.approx(1.0)


def test_gram_matrix_has_the_same_rank():
    # rank(A^T A) = rank(A) over the reals: A^T A x = 0 implies ||A x||^2 = 0.
    for r in (1, 3, 5):
        a = random_integer_matrix(7, 5, r)
        at = [list(col) for col in zip(*a, strict=True)]
        gram = (sympy.Matrix(at) * sympy.Matrix(a)).tolist()
        assert rank_by_elimination(gram) == rank_by_elimination(a)


def test_softmax_bottleneck_log_probabilities_have_rank_at_most_d_plus_1():
    # Logits H W^T for N contexts and V words have rank <= d; log_softmax subtracts one
    # number per row (a rank-one term), so log-probabilities have rank <= d + 1.
    g = torch.Generator().manual_seed(0)
    n_contexts, vocab, d = 200, 100, 8
    h = torch.randn(n_contexts, d, generator=g, dtype=torch.float64)
    w = torch.randn(vocab, d, generator=g, dtype=torch.float64)
    logits = h @ w.T
    assert numerical_rank(logits) == d
    assert numerical_rank(torch.log_softmax(logits, dim=-1)) == d + 1
