"""Blockwise (FlashAttention-style) attention: exact, and memory linear instead of quadratic."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from snippets.attention.flash import (
    PeakMemory,
    blockwise_attention,
    memory_curve,
    naive_attention,
    peak_bytes,
)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("n,block_q,block_k", [(100, 32, 32), (129, 64, 16), (37, 8, 50),
                                               (64, 64, 64)])
def test_blockwise_equals_sdpa(n, block_q, block_k, causal) -> None:
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 3, n, 16) for _ in range(3))
    ref = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    out = blockwise_attention(q, k, v, block_q=block_q, block_k=block_k, causal=causal)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(naive_attention(q, k, v, causal=causal), ref, atol=1e-5,
                               rtol=1e-5)


def test_blockwise_cross_attention_and_large_logits() -> None:
    torch.manual_seed(1)
    q = torch.randn(20, 8) * 30  # large scores: the running max keeps exp() finite
    k, v = torch.randn(70, 8) * 30, torch.randn(70, 8)
    ref = F.scaled_dot_product_attention(q, k, v)
    out = blockwise_attention(q, k, v, block_q=7, block_k=16)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


def test_peak_memory_probe_counts_live_tensors_only() -> None:
    def work() -> torch.Tensor:
        a = torch.ones(1000)  # 4000 bytes
        b = torch.ones(500)  # +2000 -> 6000 live
        del a, b  # both freed
        c = torch.ones(250)  # 1000 live
        return c[:10]  # a view: no new memory

    with PeakMemory() as probe:
        kept = work()
    assert probe.peak == 6000
    assert probe.live == 1000 == kept.untyped_storage().nbytes()


def test_naive_memory_is_quadratic_blockwise_is_linear() -> None:
    lengths, d = [64, 128, 256], 32
    curve = memory_curve(lengths, head_dim=d, block=32)
    for n, naive in zip(lengths, curve["naive"], strict=True):
        assert naive >= 4 * n * n  # at least one fp32 n x n matrix
    ratios = [b / a for a, b in zip(curve["naive"], curve["naive"][1:], strict=False)]
    assert all(3.5 < r <= 4.0 for r in ratios)  # doubling n multiplies memory by ~4
    # Blockwise: the output (n x d fp32) plus a workspace that does not depend on n.
    workspace = {b - 4 * n * d for n, b in zip(lengths, curve["blockwise"], strict=True)}
    assert len(workspace) == 1
    assert curve["blockwise"][-1] * 4 < curve["naive"][-1]


def test_peak_bytes_excludes_inputs() -> None:
    q = torch.randn(256, 64)
    assert peak_bytes(lambda x: x[:10], q) == 0
