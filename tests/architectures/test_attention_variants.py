"""Attention variants against PyTorch's implementations and their defining formulas."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from snippets.architectures import attention_variants as av

D, HEADS = 16, 4


def test_scaled_dot_product_equals_torch_sdpa() -> None:
    torch.manual_seed(0)
    q, k, v = torch.randn(3, 2, HEADS, 5, D // HEADS).unbind(0)
    out, w = av.scaled_dot_product(q, k, v)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v))
    torch.testing.assert_close(w.sum(-1), torch.ones(2, HEADS, 5))
    causal = torch.ones(5, 5, dtype=torch.bool).tril()
    out_c, _ = av.scaled_dot_product(q, k, v, causal)
    torch.testing.assert_close(out_c, F.scaled_dot_product_attention(q, k, v, is_causal=True))


@pytest.mark.parametrize("causal", [False, True])
def test_multi_head_self_attention_equals_torch(causal: bool) -> None:
    torch.manual_seed(1)
    theirs = torch.nn.MultiheadAttention(D, HEADS, batch_first=True).eval()
    ours = av.MultiHeadAttention(D, HEADS)
    ours.load_state_dict(theirs.state_dict())  # same parameter names and layout
    x = torch.randn(2, 6, D)
    keep = torch.ones(6, 6, dtype=torch.bool).tril() if causal else None
    expected, _ = theirs(x, x, x, attn_mask=None if keep is None else ~keep,
                         need_weights=False)
    torch.testing.assert_close(ours(x, x, keep), expected)


def test_cross_attention_equals_torch() -> None:
    """Queries from the decoder (7 positions), keys and values from the encoder (4)."""
    torch.manual_seed(2)
    theirs = torch.nn.MultiheadAttention(D, HEADS, batch_first=True).eval()
    ours = av.MultiHeadAttention(D, HEADS)
    ours.load_state_dict(theirs.state_dict())
    decoder, encoder = torch.randn(2, 7, D), torch.randn(2, 4, D)
    expected, _ = theirs(decoder, encoder, encoder, need_weights=False)
    out = ours(decoder, encoder)
    assert out.shape == (2, 7, D)  # one output per query, whatever the memory length
    torch.testing.assert_close(out, expected)


def test_additive_score_equals_its_formula() -> None:
    torch.manual_seed(3)
    score = av.AdditiveScore(D, 12, 10)
    q, k = torch.randn(1, 3, D), torch.randn(1, 5, 12)
    s = score(q, k)
    for i in range(3):
        for j in range(5):
            expected = score.w.weight[0] @ torch.tanh(score.w_q.weight @ q[0, i]
                                                       + score.w_k.weight @ k[0, j])
            torch.testing.assert_close(s[0, i, j], expected)
    torch.testing.assert_close(av.attend(s, torch.randn(1, 5, 2)).shape, (1, 3, 2))


def test_general_score_with_identity_is_dot_product() -> None:
    torch.manual_seed(4)
    score = av.GeneralScore(D, D)
    with torch.no_grad():
        score.w.weight.copy_(torch.eye(D))
    q, k = torch.randn(1, 3, D), torch.randn(1, 5, D)
    torch.testing.assert_close(score(q, k), q @ k.transpose(-2, -1))
    scaled = score(q, k) / math.sqrt(D)  # the Transformer's score is the scaled version
    _, w = av.scaled_dot_product(q, k, k)
    torch.testing.assert_close(scaled.softmax(-1), w)


def test_din_keeps_interest_intensity_softmax_does_not() -> None:
    """Duplicate every behaviour: softmax pooling returns the same vector (weights renormalise),
    DIN's sum of activation weights and its output double."""
    torch.manual_seed(5)
    unit = av.DinActivationUnit(D)
    behaviours, ad = torch.randn(2, 5, D), torch.randn(2, D)
    mask = torch.ones(2, 5)
    twice, mask2 = behaviours.repeat(1, 2, 1), torch.ones(2, 10)
    torch.testing.assert_close(unit(twice, ad, mask2), 2 * unit(behaviours, ad, mask))
    w = unit.weights(behaviours, ad)
    soft = (w.softmax(-1)[..., None] * behaviours).sum(1)
    soft2 = (unit.weights(twice, ad).softmax(-1)[..., None] * twice).sum(1)
    torch.testing.assert_close(soft2, soft)


def test_din_ignores_padded_behaviours() -> None:
    torch.manual_seed(6)
    unit = av.DinActivationUnit(D)
    behaviours, ad = torch.randn(1, 5, D), torch.randn(1, D)
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0, 0.0]])
    torch.testing.assert_close(unit(behaviours, ad, mask),
                               unit(behaviours[:, :3], ad, torch.ones(1, 3)))
