"""Tests for snippets/ml_fundamentals/log_softmax.py."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from snippets.ml_fundamentals.log_softmax import (
    cross_entropy,
    cross_entropy_grad,
    log_softmax,
    logsumexp,
    naive_log_softmax,
    sequence_log_prob,
)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_stable_log_softmax_matches_torch_on_ordinary_inputs(dtype):
    g = torch.Generator().manual_seed(0)
    z = 3 * torch.randn(16, 11, generator=g, dtype=dtype)
    torch.testing.assert_close(log_softmax(z), torch.log_softmax(z, dim=-1))
    torch.testing.assert_close(naive_log_softmax(z), torch.log_softmax(z, dim=-1))


@pytest.mark.parametrize(
    "values, dtype",
    [
        ([1000.0, 0.0, -1000.0], torch.float32),  # exp overflows
        ([0.0, -200.0], torch.float32),  # exp underflows to 0
        ([800.0, 799.0], torch.float64),  # overflow even in float64
        ([12.0, 0.0], torch.float16),  # ordinary logits overflow in float16
    ],
)
def test_stable_version_is_finite_where_the_naive_one_fails(values, dtype):
    z = torch.tensor(values, dtype=dtype)
    assert not torch.isfinite(naive_log_softmax(z)).all()
    stable = log_softmax(z)
    assert torch.isfinite(stable).all()
    torch.testing.assert_close(stable, torch.log_softmax(z, dim=-1))
    # Exact answer for comparison, computed in float64 from the formula z - max - log(...).
    z64 = z.double()
    expected = z64 - z64.max() - torch.log(torch.exp(z64 - z64.max()).sum())
    torch.testing.assert_close(stable.double(), expected, rtol=1e-3, atol=1e-3)


def test_log_of_torch_softmax_still_underflows():
    z = torch.tensor([0.0, -200.0])
    assert torch.log(torch.softmax(z, dim=-1))[1] == -math.inf
    assert log_softmax(z)[1] == pytest.approx(-200.0)


def test_logsumexp_matches_torch_including_masked_rows():
    z = torch.tensor(
        [
            [1.0, 2.0, 3.0],
            [1000.0, 1000.0, -math.inf],  # masked entry
            [-math.inf, -math.inf, -math.inf],  # fully masked row
        ]
    )
    torch.testing.assert_close(logsumexp(z).squeeze(-1), torch.logsumexp(z, dim=-1))
    assert logsumexp(z)[1].item() == pytest.approx(1000.0 + math.log(2.0))
    assert logsumexp(z)[2].item() == -math.inf
    # The log-softmax of a fully masked row has nothing to normalise: nan, as in PyTorch.
    ours, reference = log_softmax(z), torch.log_softmax(z, dim=-1)
    assert torch.isnan(ours[2]).all() and torch.isnan(reference[2]).all()
    torch.testing.assert_close(ours[:2], reference[:2])


def test_float32_exp_limits_quoted_on_the_page():
    tiny = torch.finfo(torch.float32).smallest_normal * 2.0**-23  # smallest subnormal, 2^-149
    assert math.log(tiny) == pytest.approx(-103.28, abs=0.005)
    assert math.log(tiny / 2) == pytest.approx(-103.97, abs=0.005)
    # Below log(tiny) exp still returns the smallest subnormal; below log(tiny / 2) it is 0.
    assert torch.exp(torch.tensor(-103.9)).item() == tiny
    assert torch.exp(torch.tensor(-104.0)).item() == 0.0
    assert math.isinf(torch.exp(torch.tensor(88.73)).item())
    assert math.isfinite(torch.exp(torch.tensor(88.72)).item())
    assert math.isinf(torch.exp(torch.tensor(11.1, dtype=torch.float16)).item())


def test_adding_the_maximum_back_loses_precision_at_large_logits():
    # z - logsumexp(z) = z - (m + log s) rounds m + log s at the float32 spacing near m
    # (6e-5 near 1000); log_softmax works with z - m and never adds m back.
    z = torch.tensor([1000.0, 1000.0])
    exact = -math.log(2.0)
    assert abs((z - logsumexp(z))[0].item() - exact) > 1e-5
    assert log_softmax(z)[0].item() == pytest.approx(exact, abs=1e-7)
    torch.testing.assert_close(log_softmax(z), torch.log_softmax(z, dim=-1))


def test_log_softmax_is_invariant_to_a_constant_shift():
    z = torch.randn(4, 7, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    torch.testing.assert_close(log_softmax(z + 123.4), log_softmax(z))
    # The result is normalised: logsumexp of log-probabilities is 0.
    torch.testing.assert_close(logsumexp(log_softmax(z)), torch.zeros(4, 1, dtype=z.dtype))


def test_two_class_softmax_is_sigmoid_of_the_logit_difference():
    a, b = torch.tensor(1.7, dtype=torch.float64), torch.tensor(-0.4, dtype=torch.float64)
    p = torch.exp(log_softmax(torch.stack([a, b])))[0]
    torch.testing.assert_close(p, torch.sigmoid(a - b))
    torch.testing.assert_close(torch.logit(p), a - b)


def test_cross_entropy_matches_torch():
    g = torch.Generator().manual_seed(2)
    logits = 4 * torch.randn(32, 10, generator=g, dtype=torch.float64)
    target = torch.randint(0, 10, (32,), generator=g)
    expected = F.cross_entropy(logits, target)
    torch.testing.assert_close(cross_entropy(logits, target), expected)
    torch.testing.assert_close(F.nll_loss(F.log_softmax(logits, -1), target), expected)


def test_cross_entropy_gradient_is_softmax_minus_one_hot():
    g = torch.Generator().manual_seed(3)
    logits = (4 * torch.randn(8, 5, generator=g, dtype=torch.float64)).requires_grad_()
    target = torch.randint(0, 5, (8,), generator=g)
    (ours,) = torch.autograd.grad(cross_entropy(logits, target), logits)
    (reference,) = torch.autograd.grad(F.cross_entropy(logits, target), logits)
    closed_form = cross_entropy_grad(logits.detach(), target)
    torch.testing.assert_close(ours, closed_form)
    torch.testing.assert_close(reference, closed_form)
    # Each row of the gradient sums to zero (probabilities and one-hot both sum to 1).
    torch.testing.assert_close(closed_form.sum(-1), torch.zeros(8, dtype=torch.float64))


def test_gradient_of_probability_vanishes_but_gradient_of_log_probability_does_not():
    z = torch.tensor([10.0, 0.0], dtype=torch.float64, requires_grad=True)
    p_y = torch.softmax(z, dim=-1)[1]
    (grad_p,) = torch.autograd.grad(p_y, z)
    (grad_nll,) = torch.autograd.grad(-log_softmax(z)[1], z)
    assert grad_p.abs().max() < 1e-4  # p_y (1 - p_y) ~ 4.5e-5
    p = torch.softmax(z.detach(), -1)
    torch.testing.assert_close(grad_nll, p - torch.tensor([0.0, 1.0], dtype=torch.float64))
    assert grad_nll.abs().max() > 0.99


def test_products_of_probabilities_underflow_but_log_sums_do_not():
    product, log_sum = sequence_log_prob(torch.full((500,), 0.1, dtype=torch.float64))
    assert product == 0.0
    assert log_sum == pytest.approx(500 * math.log(0.1))
    # Short sequences agree.
    probs = torch.tensor([0.5, 0.25, 0.1], dtype=torch.float64)
    product, log_sum = sequence_log_prob(probs)
    assert math.log(product) == pytest.approx(log_sum)


def test_softmax_before_cross_entropy_caps_how_low_the_loss_can_go():
    # Probabilities in [0, 1] passed as logits: even a perfect one-hot prediction has
    # loss log(1 + (C - 1) / e) instead of 0.
    classes = 10
    perfect = 100.0 * F.one_hot(torch.tensor([3]), classes).double()
    double = F.cross_entropy(torch.softmax(perfect, -1), torch.tensor([3]))
    assert double.item() == pytest.approx(math.log(1 + (classes - 1) / math.e), rel=1e-9)
    assert F.cross_entropy(perfect, torch.tensor([3])).item() == pytest.approx(0.0, abs=1e-12)


def test_causal_lm_loss_in_transformers_is_this_cross_entropy():
    # The loss every transformers causal LM uses (LlamaForCausalLM(..., labels=...) calls it).
    from transformers.loss.loss_utils import ForCausalLMLoss

    g = torch.Generator().manual_seed(4)
    vocab = 64
    logits = 5 * torch.randn(2, 9, vocab, generator=g).to(torch.bfloat16)
    labels = torch.randint(0, vocab, (2, 9), generator=g)
    loss = ForCausalLMLoss(logits, labels, vocab_size=vocab)
    # Token t predicts token t + 1: drop the last logit and the first label; float32 maths.
    shifted = logits[:, :-1].reshape(-1, vocab).float()
    expected = cross_entropy(shifted, labels[:, 1:].reshape(-1))
    torch.testing.assert_close(loss, expected)
