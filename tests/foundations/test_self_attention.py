"""Self-attention from scratch against PyTorch's scaled_dot_product_attention, and the
variance and saturation numbers the page quotes."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from snippets.foundations.self_attention import (
    attention,
    causal_mask,
    combine,
    naive_attention_cost,
    padding_mask,
    scaling_stats,
    softmax_jacobian_norm,
    to_additive,
)

# float32: the two implementations sum in different orders; 1e-5 is about 80 float32
# rounding units (eps 1.19e-7) at the outputs' scale (values are O(1)).
TOL = {"atol": 1e-5, "rtol": 1e-5}


def qkv(batch: int = 2, heads: int = 3, n_q: int = 7, n_k: int = 7, d: int = 16,
        seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    torch.manual_seed(seed)
    return (torch.randn(batch, heads, n_q, d), torch.randn(batch, heads, n_k, d),
            torch.randn(batch, heads, n_k, d))


def test_no_mask_equals_sdpa() -> None:
    q, k, v = qkv()
    torch.testing.assert_close(attention(q, k, v), F.scaled_dot_product_attention(q, k, v), **TOL)


def test_cross_attention_shapes_equal_sdpa() -> None:
    q, k, v = qkv(n_q=5, n_k=11, d=8)
    out = attention(q, k, v)
    assert out.shape == (2, 3, 5, 8)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v), **TOL)


def test_causal_equals_sdpa_is_causal() -> None:
    q, k, v = qkv(n_q=9, n_k=9)
    ref = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    torch.testing.assert_close(attention(q, k, v, causal=True), ref, **TOL)
    torch.testing.assert_close(attention(q, k, v, mask=causal_mask(9)), ref, **TOL)


def test_causal_changes_the_result() -> None:
    q, k, v = qkv()
    assert not torch.allclose(attention(q, k, v, causal=True), attention(q, k, v), atol=1e-3)


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_causal_and_padding_mask_equal_sdpa(kind: str) -> None:
    n = 8
    q, k, v = qkv(n_q=n, n_k=n)
    mask = combine(causal_mask(n), padding_mask(torch.tensor([8, 5]), n))  # (2, 1, n, n)
    assert mask.shape == (2, 1, n, n)
    attn_mask = mask if kind == "bool" else to_additive(mask)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
    torch.testing.assert_close(attention(q, k, v, mask=attn_mask), ref, **TOL)
    # causal=True plus a padding mask is the same as the combined mask
    pad = padding_mask(torch.tensor([8, 5]), n)
    torch.testing.assert_close(attention(q, k, v, mask=pad, causal=True), ref, **TOL)


def test_additive_masks_combine_by_addition() -> None:
    n = 6
    q, k, v = qkv(n_q=n, n_k=n)
    pad = padding_mask(torch.tensor([6, 3]), n)
    summed = to_additive(causal_mask(n)) + to_additive(pad)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=combine(causal_mask(n), pad))
    torch.testing.assert_close(attention(q, k, v, mask=summed), ref, **TOL)


def test_arbitrary_float_bias_equals_sdpa() -> None:
    """A float mask is any additive bias (e.g. ALiBi or T5 buckets), not only 0/-inf."""
    q, k, v = qkv(n_q=6, n_k=6)
    bias = torch.randn(3, 6, 6)
    torch.testing.assert_close(attention(q, k, v, mask=bias),
                               F.scaled_dot_product_attention(q, k, v, attn_mask=bias), **TOL)


def test_padded_keys_get_zero_weight() -> None:
    """Changing the values of padded keys must not change any output of that sequence."""
    n = 8
    q, k, v = qkv(n_q=n, n_k=n)
    mask = padding_mask(torch.tensor([8, 5]), n)
    out = attention(q, k, v, mask=mask, causal=True)
    v2 = v.clone()
    v2[1, :, 5:] = 1e3
    torch.testing.assert_close(attention(q, k, v2, mask=mask, causal=True), out)


def test_fully_masked_row_is_zero_like_sdpa() -> None:
    """Left padding plus causal: the first query of sequence 1 may see no key at all."""
    n = 5
    q, k, v = qkv(n_q=n, n_k=n)
    real = torch.tensor([[True] * 5, [False, False, True, True, True]])  # left-padded
    mask = combine(causal_mask(n), real[:, None, None, :])
    ours = attention(q, k, v, mask=mask)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert torch.isfinite(ours).all()
    assert (ours[1, :, :2] == 0).all()
    torch.testing.assert_close(ours, ref, **TOL)
    # the plain formula gives NaN there
    scores = (q @ k.transpose(-2, -1) / 4).masked_fill(~mask, float("-inf"))
    assert scores.softmax(-1)[1, :, 0].isnan().all()


def test_jacobian_norm_matches_autograd() -> None:
    torch.manual_seed(0)
    s = torch.randn(5) * 3
    jac = torch.autograd.functional.jacobian(lambda x: x.softmax(-1), s)
    torch.testing.assert_close(softmax_jacobian_norm(s), torch.linalg.matrix_norm(jac))
    one_hot_like = torch.tensor([100.0, 0.0, 0.0])
    assert softmax_jacobian_norm(one_hot_like) < 1e-20


@pytest.mark.parametrize("d_k", [16, 64, 512])
def test_score_variance_is_d_k_and_one_after_scaling(d_k: int) -> None:
    s = scaling_stats(d_k)
    assert s["q.k"]["var"] == pytest.approx(d_k, rel=0.05)
    assert s["q.k/sqrt(d_k)"]["var"] == pytest.approx(1.0, rel=0.05)


def test_unscaled_softmax_saturates_as_d_k_grows() -> None:
    stats = {d: scaling_stats(d) for d in (16, 64, 512)}
    raw = [stats[d]["q.k"] for d in (16, 64, 512)]
    scaled = [stats[d]["q.k/sqrt(d_k)"] for d in (16, 64, 512)]
    # Without the scale the largest weight tends to 1 and the gradient to 0 ...
    assert raw[0]["max_p"] < raw[1]["max_p"] < raw[2]["max_p"]
    assert raw[1]["max_p"] > 0.8 and raw[2]["max_p"] > 0.99
    assert raw[2]["jac"] < 0.01 < scaled[2]["jac"] / 10
    assert scaled[2]["jac"] / raw[2]["jac"] > 15  # "about twenty times smaller"
    # ... though at small d_k a softmax split over a few keys has a *larger* gradient
    assert raw[0]["jac"] > scaled[0]["jac"]
    assert raw[2]["dead"] > 0.5 and raw[1]["dead"] > 0.1
    # ... with it, every d_k gives the same, unsaturated softmax.
    for s in scaled:
        assert 0.05 < s["max_p"] < 0.07
        assert s["jac"] == pytest.approx(scaled[0]["jac"], rel=0.02)
        assert s["dead"] == 0.0


def test_scaled_weights_are_not_uniform() -> None:
    """The scaled softmax is spread out but not flat: its gradient exceeds the uniform one."""
    uniform = softmax_jacobian_norm(torch.zeros(128)).item()
    assert uniform == pytest.approx(math.sqrt(1 / 128 - 1 / 128**2), rel=1e-5)
    assert scaling_stats(64)["q.k/sqrt(d_k)"]["jac"] > 1.3 * uniform


def test_naive_cost_is_quadratic() -> None:
    a, b = naive_attention_cost(1024, 128), naive_attention_cost(2048, 128)
    assert b["flops"] == 4 * a["flops"] and b["score_bytes"] == 4 * a["score_bytes"]
    assert naive_attention_cost(32768, 128)["score_bytes"] == 4 * 2**30  # 4 GiB in fp32
    # 4 n^2 d = the FLOPs of the two matmuls counted by torch's FLOP counter
    from torch.utils.flop_counter import FlopCounterMode

    q, k, v = (torch.randn(1, 64, 32) for _ in range(3))
    with FlopCounterMode(display=False) as counter:
        (q @ k.transpose(-2, -1)).softmax(-1) @ v
    assert counter.get_total_flops() == naive_attention_cost(64, 32)["flops"]


def test_multihead_attention_reads_bool_masks_the_other_way() -> None:
    """nn.MultiheadAttention: True = masked. SDPA and our attention: True = may attend."""
    torch.manual_seed(0)
    d, n = 8, 6
    mha = torch.nn.MultiheadAttention(d, num_heads=1, bias=False, batch_first=True)
    with torch.no_grad():  # identity projections: MHA computes plain attention on x
        mha.in_proj_weight.copy_(torch.cat([torch.eye(d)] * 3))
        mha.out_proj.weight.copy_(torch.eye(d))
    x = torch.randn(1, n, d)
    allowed = combine(causal_mask(n), torch.tensor([True] * 4 + [False] * 2))
    ours = attention(x, x, x, mask=allowed)
    theirs = mha(x, x, x, attn_mask=~allowed, need_weights=False)[0]
    torch.testing.assert_close(theirs, ours, **TOL)
    inverted = mha(x, x, x, attn_mask=allowed, need_weights=False)[0]
    assert not torch.allclose(inverted, ours, atol=1e-3)
