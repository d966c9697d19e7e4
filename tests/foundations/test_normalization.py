"""Norms and norm placement: LayerNorm against torch.nn.LayerNorm, RMSNorm against
transformers' LlamaRMSNorm, the blocks against torch.nn.TransformerEncoderLayer, and the
gradient-norm and QK-norm claims the page makes."""

from __future__ import annotations

import pytest
import torch
from transformers.models.llama.modeling_llama import LlamaRMSNorm

from snippets.foundations.normalization import (
    Block,
    LayerNorm,
    RMSNorm,
    TinyLM,
    attention_logits,
    ffn_grad_norms,
    late_early_ratio,
)


def test_layernorm_equals_torch() -> None:
    torch.manual_seed(0)
    x = torch.randn(4, 10, 32) * 3 + 2
    ours, ref = LayerNorm(32), torch.nn.LayerNorm(32)
    with torch.no_grad():
        for p in (ref.weight, ref.bias):
            p.normal_()
        ours.weight.copy_(ref.weight)
        ours.bias.copy_(ref.bias)
    torch.testing.assert_close(ours(x), ref(x))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_rmsnorm_equals_llama(dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    x = (torch.randn(4, 10, 32) * 3 + 2).to(dtype)
    ours, ref = RMSNorm(32, eps=1e-6), LlamaRMSNorm(32, eps=1e-6)
    with torch.no_grad():
        ref.weight.normal_()
        ours.weight.copy_(ref.weight)
    ours, ref = ours.to(dtype), ref.to(dtype)
    torch.testing.assert_close(ours(x), ref(x), atol=0, rtol=0)  # same op order: bit-equal


def test_rmsnorm_is_layernorm_without_centering() -> None:
    """On inputs whose mean is already zero, RMSNorm and LayerNorm (no bias) coincide;
    otherwise they differ."""
    torch.manual_seed(0)
    x = torch.randn(8, 64)
    centred = x - x.mean(-1, keepdim=True)
    ln = torch.nn.LayerNorm(64, elementwise_affine=False, eps=1e-6)
    torch.testing.assert_close(RMSNorm(64, eps=1e-6)(centred), ln(centred))
    assert not torch.allclose(RMSNorm(64)(x + 1.0), ln(x + 1.0), atol=1e-2)


def test_rmsnorm_output_has_unit_rms_and_is_scale_invariant() -> None:
    torch.manual_seed(0)
    x = torch.randn(5, 128)
    y = RMSNorm(128)(x)
    torch.testing.assert_close(y.pow(2).mean(-1), torch.ones(5), atol=1e-5, rtol=0)
    torch.testing.assert_close(RMSNorm(128)(7.0 * x), y, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("placement,norm_first", [("post", False), ("pre", True)])
def test_block_equals_transformer_encoder_layer(placement: str, norm_first: bool) -> None:
    torch.manual_seed(0)
    ref = torch.nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64, dropout=0.0,
                                           batch_first=True, norm_first=norm_first).eval()
    ours = Block(32, 4, 64, placement).eval()
    ours.load_state_dict(ref.state_dict())  # same parameter names, strict
    x = torch.randn(3, 9, 32)
    mask = torch.ones(9, 9, dtype=torch.bool).triu(1)
    with torch.no_grad():
        torch.testing.assert_close(ours(x, mask), ref(x, src_mask=mask), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=1e-5)


def test_deepnorm_with_alpha_one_is_post_ln() -> None:
    torch.manual_seed(0)
    post, deep = Block(32, 4, 64, "post"), Block(32, 4, 64, "deepnorm", alpha=1.0)
    deep.load_state_dict(post.state_dict())
    x = torch.randn(2, 5, 32)
    torch.testing.assert_close(deep(x), post(x))
    deep.alpha = 2.0
    assert not torch.allclose(deep(x), post(x), atol=1e-3)


def test_deepnorm_init_scales_v_out_and_ffn_only() -> None:
    """DeepNet's init: v_proj, out_proj, fc1, fc2 divided by (8N)^(1/4); q and k untouched."""
    torch.manual_seed(0)
    post = TinyLM("post", n_layers=4)
    torch.manual_seed(0)
    deep = TinyLM("deepnorm", n_layers=4)
    beta = (8 * 4) ** -0.25
    for bp, bd in zip(post.blocks, deep.blocks, strict=True):
        w_post, w_deep = bp.self_attn.in_proj_weight, bd.self_attn.in_proj_weight
        torch.testing.assert_close(w_deep[:64], w_post[:64])  # q
        torch.testing.assert_close(w_deep[64:128], w_post[64:128])  # k
        torch.testing.assert_close(w_deep[128:], beta * w_post[128:])  # v
        for name in ("linear1", "linear2"):
            torch.testing.assert_close(getattr(bd, name).weight, beta * getattr(bp, name).weight)
        torch.testing.assert_close(bd.self_attn.out_proj.weight, beta * bp.self_attn.out_proj.weight)
        assert bd.alpha == pytest.approx((2 * 4) ** 0.25)


def test_final_norm_only_for_pre_ln() -> None:
    assert isinstance(TinyLM("pre", n_layers=2).final_norm, torch.nn.LayerNorm)
    assert isinstance(TinyLM("post", n_layers=2).final_norm, torch.nn.Identity)


def test_grad_norm_profiles_and_depth() -> None:
    """What the page reports, on the page's model with 3 seeds and shorter sequences (for
    speed; the thresholds hold for every set of 3 seeds we tried):
    - Pre-LN's gradients shrink toward the output layers; Post-LN's stay roughly flat;
      DeepNorm's are flat and smaller by about beta / alpha.
    - Xiong et al. (2020), Theorem 1: the last layer's gradient is O(d sqrt(ln d)) for
      Post-LN, independent of depth, and O(d sqrt(ln d / L)) for Pre-LN."""
    kw = {"seeds": 3, "seq": 16}
    post, pre, deep = (ffn_grad_norms(p, 12, **kw) for p in ("post", "pre", "deepnorm"))
    assert late_early_ratio(pre) < 0.75
    assert pre[-1] < 0.5 * pre[0]
    assert 0.8 < late_early_ratio(post) < 1.35
    assert max(deep) / min(deep) < 1.06
    alpha, beta = (2 * 12) ** 0.25, (8 * 12) ** -0.25
    assert sum(deep) / sum(post) == pytest.approx(beta / alpha, rel=0.2)
    post_3, pre_3 = (ffn_grad_norms(p, 3, **kw)[-1] for p in ("post", "pre"))
    assert 0.85 < post[-1] / post_3 < 1.3  # independent of depth
    assert 0.45 < pre[-1] / pre_3 < 0.7  # 1 / sqrt(12 / 3) = 0.5 in the theory
    assert pre[-1] < post[-1]


def test_qk_norm_bounds_logits() -> None:
    torch.manual_seed(0)
    x, w_q, w_k = torch.randn(64, 64), torch.randn(64, 64) / 8, torch.randn(64, 64) / 8
    plain = [attention_logits(x, s * w_q, s * w_k, qk_norm=False).abs().max() for s in (1, 4)]
    assert plain[1] / plain[0] == pytest.approx(16.0, rel=1e-4)  # logits grow as s^2
    normed = [attention_logits(x, s * w_q, s * w_k, qk_norm=True) for s in (1, 4, 16)]
    torch.testing.assert_close(normed[0], normed[2], atol=1e-4, rtol=1e-4)
    assert all(n.abs().max() <= 64**0.5 for n in normed)  # Cauchy-Schwarz bound sqrt(d)


def test_qk_norm_equals_llama_rmsnorm_on_q_and_k() -> None:
    """The normalisation used above is LlamaRMSNorm with gain 1 (eps aside), applied to q
    and k as Qwen3 and Gemma 3 do per head."""
    torch.manual_seed(0)
    x, w_q, w_k = torch.randn(16, 32), torch.randn(32, 32), torch.randn(32, 32)
    norm = LlamaRMSNorm(32, eps=0.0)
    ref = norm(x @ w_q) @ norm(x @ w_k).T / 32**0.5
    torch.testing.assert_close(attention_logits(x, w_q, w_k, qk_norm=True), ref.detach())
