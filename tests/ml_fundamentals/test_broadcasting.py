"""Tests for snippets/ml_fundamentals/broadcasting.py against PyTorch and NumPy."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import torch

from snippets.ml_fundamentals.broadcasting import (
    CASES,
    broadcast_shape,
    broadcast_view,
    center_rows,
    center_rows_buggy,
    describe,
    grad_of_broadcast_operand,
    matmul_shape,
    mse_checked,
    mse_naive,
)


def _reference(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...] | None:
    """torch's own rule; None when torch refuses the pair."""
    try:
        return tuple(torch.broadcast_shapes(a, b))
    except RuntimeError:
        return None


SIZES = (0, 1, 2, 3)
SHAPES = [s for n in range(4) for s in itertools.product(SIZES, repeat=n)]


@pytest.mark.parametrize("a", SHAPES[::3])
def test_rule_matches_torch_and_numpy(a: tuple[int, ...]) -> None:
    for b in SHAPES:
        expected = _reference(a, b)
        if expected is None:
            with pytest.raises(ValueError):
                broadcast_shape(a, b)
            with pytest.raises(ValueError):
                np.broadcast_shapes(a, b)
        else:
            assert broadcast_shape(a, b) == expected
            assert np.broadcast_shapes(a, b) == expected


def test_question_a4_gives_a_22_by_12_matrix_of_pairwise_differences() -> None:
    x = torch.randn(22, 1, generator=torch.Generator().manual_seed(0))
    y = torch.randn(12, generator=torch.Generator().manual_seed(1))
    out = x - y
    assert broadcast_shape((22, 1), (12,)) == tuple(out.shape) == (22, 12)
    # Element (i, j) is x[i] - y[j]: compare with an explicit double loop.
    loop = torch.tensor([[x[i, 0].item() - y[j].item() for j in range(12)] for i in range(22)])
    torch.testing.assert_close(out, loop)


def test_the_sources_first_answer_is_wrong() -> None:
    # The source claims (22, 1) - (12, 1) gives (22, 1). It raises instead, with the
    # message the page quotes.
    message = (r"The size of tensor a \(22\) must match the size of tensor b \(12\) "
               r"at non-singleton dimension 0")
    with pytest.raises(RuntimeError, match=message):
        torch.zeros(22, 1) - torch.zeros(12, 1)
    with pytest.raises(ValueError):
        broadcast_shape((22, 1), (12, 1))


def test_describe_reports_what_torch_does() -> None:
    for a, b in CASES:
        expected = _reference(a, b)
        text = describe(a, b)
        assert text == (str(expected) if expected is not None else text)
        assert ("RuntimeError" in text) == (expected is None)


def test_expand_is_a_view_with_zero_stride() -> None:
    column = torch.arange(3.0).reshape(3, 1)
    view = broadcast_view(column, (3, 4))
    assert view.shape == (3, 4)
    assert view.stride() == (1, 0)
    assert view.data_ptr() == column.data_ptr()
    column[1, 0] = 42.0  # writing the source shows through every column of the view
    assert torch.equal(view[1], torch.full((4,), 42.0))
    torch.testing.assert_close(view, column.repeat(1, 4))


def test_mse_bug_and_fix() -> None:
    pred = torch.tensor([[1.0], [2.0], [3.0]])
    target = torch.tensor([1.0, 2.0, 3.0])
    # Perfect predictions, yet the naive loss is the mean over the 3x3 outer difference.
    outer = (pred.numpy() - target.numpy()) ** 2
    assert mse_naive(pred, target).item() == pytest.approx(outer.mean())
    assert mse_naive(pred, target).item() > 0
    # PyTorch's own loss computes the same wrong number, but warns about it.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wrong = torch.nn.functional.mse_loss(pred, target)
    assert any("target size" in str(w.message) for w in caught)
    torch.testing.assert_close(wrong, mse_naive(pred, target))
    # The checked version refuses the shapes, and is exact once they match.
    with pytest.raises(ValueError):
        mse_checked(pred, target)
    fixed = pred.squeeze(-1)
    torch.testing.assert_close(
        mse_checked(fixed, target), torch.nn.functional.mse_loss(fixed, target)
    )


def test_gradient_of_the_broadcast_operand_is_summed_over_rows() -> None:
    gen = torch.Generator().manual_seed(2)
    x, y = torch.randn(22, 1, generator=gen), torch.randn(12, generator=gen)
    grad = grad_of_broadcast_operand(x, y)
    # Independent check: differentiate the explicitly materialised version.
    y_leaf = y.clone().requires_grad_(True)
    (x.repeat(1, 12) - y_leaf.unsqueeze(0).repeat(22, 1)).sum().backward()
    torch.testing.assert_close(grad, y_leaf.grad)
    torch.testing.assert_close(grad, torch.full((12,), -22.0))
    # It is the upstream gradient (d/dz of sum(z) = 1, times dz/dy = -1) summed back to y's
    # shape, which is what Tensor.sum_to_size does.
    torch.testing.assert_close(grad, (-torch.ones(22, 12)).sum_to_size(12))


@pytest.mark.parametrize(
    ("a", "b"),
    [((8, 1, 5, 4), (3, 4, 6)), ((2, 3, 4), (4, 5)), ((1, 7, 2), (6, 1, 2, 9))],
)
def test_matmul_shape_matches_torch(a: tuple[int, ...], b: tuple[int, ...]) -> None:
    expected = tuple(torch.matmul(torch.zeros(a), torch.zeros(b)).shape)
    assert matmul_shape(a, b) == expected


def test_matmul_shape_rejects_mismatched_inner_sizes() -> None:
    with pytest.raises(RuntimeError):
        torch.matmul(torch.zeros(2, 3), torch.zeros(4, 5))
    with pytest.raises(ValueError):
        matmul_shape((2, 3), (4, 5))


def test_keepdim_centres_rows_and_its_absence_silently_does_not() -> None:
    x = torch.randn(4, 4, generator=torch.Generator().manual_seed(3))
    reference = torch.from_numpy(x.numpy() - x.numpy().mean(axis=1, keepdims=True))
    torch.testing.assert_close(center_rows(x), reference)
    torch.testing.assert_close(center_rows(x).mean(dim=1), torch.zeros(4), atol=1e-6, rtol=0)
    buggy = center_rows_buggy(x)  # no error for a square matrix ...
    assert buggy.shape == x.shape
    assert not torch.allclose(buggy, reference)  # ... but the wrong numbers
    # For a non-square matrix the same bug is caught by the shape rule.
    with pytest.raises(RuntimeError):
        center_rows_buggy(torch.zeros(4, 3))


def test_in_place_cannot_grow_the_left_operand() -> None:
    with pytest.raises(RuntimeError, match="broadcast shape"):
        torch.zeros(22, 1).sub_(torch.zeros(12))
    assert broadcast_shape((22, 1), (12,)) != (22, 1)
