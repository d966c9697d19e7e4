"""Positional encodings against transformers: DistilBERT's sinusoidal table, T5's relative
buckets and bias, Llama's rotary embedding, BLOOM's ALiBi; and RoPE's relative property."""

from __future__ import annotations

import math

import pytest
import torch
from transformers import GPT2Config, GPT2Model, LlamaConfig, T5Config, T5Model
from transformers.models.bloom.modeling_bloom import build_alibi_tensor
from transformers.models.distilbert.modeling_distilbert import _create_sinusoidal_embeddings
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding, apply_rotary_pos_emb
from transformers.models.t5.modeling_t5 import T5Attention

from snippets.foundations.positional_encodings import (
    alibi_bias,
    alibi_slopes,
    apply_rope,
    position_parameters,
    rope_cos_sin,
    rope_score,
    sinusoidal,
    t5_bias,
    t5_bucket,
)


def test_sinusoidal_equals_distilbert() -> None:
    out = torch.empty(50, 32)
    ref = _create_sinusoidal_embeddings(n_pos=50, dim=32, out=out)
    torch.testing.assert_close(sinusoidal(50, 32), ref)


def test_sinusoidal_shift_is_a_fixed_linear_map() -> None:
    """Vaswani et al.'s motivation: PE[pos + k] is a linear function of PE[pos], the same for
    every pos: each (sin, cos) pair is rotated by the angle k * omega_i."""
    d, k = 16, 7
    pe = sinusoidal(300, d)
    omega = 10000.0 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    shift = torch.zeros(d, d, dtype=torch.float64)
    for i, w in enumerate(omega.tolist()):
        c, s = math.cos(k * w), math.sin(k * w)
        # row vector [sin a, cos a] @ [[c, -s], [s, c]] = [sin(a + kw), cos(a + kw)]
        shift[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = torch.tensor([[c, -s], [s, c]])
    torch.testing.assert_close(pe[:-k].double() @ shift, pe[k:].double(), atol=1e-5, rtol=0)


@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("num_buckets,max_distance", [(32, 128), (16, 64), (64, 256)])
def test_t5_bucket_equals_transformers(bidirectional: bool, num_buckets: int,
                                       max_distance: int) -> None:
    rel = torch.arange(-2000, 2001)
    ref = T5Attention._relative_position_bucket(rel, bidirectional=bidirectional,
                                                num_buckets=num_buckets, max_distance=max_distance)
    ours = t5_bucket(rel, bidirectional, num_buckets, max_distance)
    assert torch.equal(ours, ref)


def test_t5_buckets_saturate_beyond_max_distance() -> None:
    """Every key at least 128 tokens before the query shares one bucket: T5 cannot tell
    a key 128 tokens away from one 10,000 tokens away."""
    far = t5_bucket(-torch.arange(128, 10_000), bidirectional=False)
    assert far.unique().tolist() == [31]
    near = t5_bucket(-torch.arange(0, 16), bidirectional=False)
    assert near.tolist() == list(range(16))  # one bucket per distance below 16
    # future keys all map to bucket 0 in the causal (decoder) variant
    assert t5_bucket(torch.arange(1, 50), bidirectional=False).unique().tolist() == [0]


@pytest.mark.parametrize("is_decoder", [False, True])
def test_t5_bias_equals_compute_bias(is_decoder: bool) -> None:
    config = T5Config(d_model=32, d_kv=8, num_heads=4, num_layers=1, d_ff=64,
                      relative_attention_num_buckets=32, relative_attention_max_distance=128,
                      is_decoder=is_decoder)
    torch.manual_seed(0)
    attn = T5Attention(config, has_relative_attention_bias=True, layer_idx=0)
    torch.nn.init.normal_(attn.relative_attention_bias.weight)
    ref = attn.compute_bias(40, 300)[0]  # (heads, n_q, n_k)
    ours = t5_bias(40, 300, attn.relative_attention_bias.weight.detach(),
                   bidirectional=not is_decoder)
    torch.testing.assert_close(ours, ref.detach())


def tiny_llama_rope(head_dim: int = 16, base: float = 10000.0) -> LlamaRotaryEmbedding:
    config = LlamaConfig(hidden_size=4 * head_dim, num_attention_heads=4, head_dim=head_dim,
                         num_hidden_layers=1, intermediate_size=32, vocab_size=10,
                         rope_parameters={"rope_type": "default", "rope_theta": base})
    return LlamaRotaryEmbedding(config)


@pytest.mark.parametrize("base", [10000.0, 500000.0])
def test_rope_equals_llama(base: float) -> None:
    torch.manual_seed(0)
    q, k = torch.randn(2, 4, 12, 16), torch.randn(2, 4, 12, 16)  # (batch, heads, seq, head_dim)
    positions = torch.tensor([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
                              [5, 6, 7, 8, 100, 101, 102, 103, 1000, 1001, 1002, 4095]])
    cos_ref, sin_ref = tiny_llama_rope(16, base)(q, positions)
    q_ref, k_ref = apply_rotary_pos_emb(q, k, cos_ref, sin_ref)
    for b in range(2):
        cos, sin = rope_cos_sin(positions[b], 16, base)
        exact = {"atol": 0, "rtol": 0}  # same formula, same op order: bit-identical
        torch.testing.assert_close(cos, cos_ref[b], **exact)
        torch.testing.assert_close(sin, sin_ref[b], **exact)
        torch.testing.assert_close(apply_rope(q[b], cos, sin), q_ref[b], **exact)
        torch.testing.assert_close(apply_rope(k[b], cos, sin), k_ref[b], **exact)


def test_rope_is_a_rotation() -> None:
    """Norms are preserved: RoPE changes directions, never lengths."""
    torch.manual_seed(0)
    x = torch.randn(30, 64)
    cos, sin = rope_cos_sin(torch.arange(30) * 37, 64)
    torch.testing.assert_close(apply_rope(x, cos, sin).norm(dim=-1), x.norm(dim=-1))


def test_transformers_rope_scores_depend_only_on_m_minus_n() -> None:
    """Same q at every position, same k at every position: with transformers' RoPE the
    score matrix is constant along each diagonal (a Toeplitz matrix), i.e. a function of
    m - n only. Without RoPE it is constant everywhere."""
    torch.manual_seed(1)
    n, d = 64, 16
    q = torch.randn(d, dtype=torch.float64).expand(1, 1, n, d)
    k = torch.randn(d, dtype=torch.float64).expand(1, 1, n, d)
    rope = tiny_llama_rope(d)
    cos, sin = rope(q, torch.arange(n)[None] + 1000)  # float32 angles, as in the model
    qr, kr = apply_rotary_pos_emb(q, k, cos.double(), sin.double())
    scores = (qr @ kr.transpose(-2, -1))[0, 0]  # scores[m, n]
    for offset in range(-n + 1, n):
        diagonal = torch.diagonal(scores, offset=offset)
        # float32 angles near position 1000 carry rounding of ~1e-7 relative; scores ~ 1
        assert diagonal.max() - diagonal.min() < 1e-3, offset
        if offset != 0:  # and the diagonals differ from each other
            assert (diagonal.mean() - torch.diagonal(scores).mean()).abs() > 1e-2, offset
    assert scores[0].std() > 0.1  # but it does vary with the distance


def test_rope_score_table_on_the_page() -> None:
    torch.manual_seed(0)
    q, k = torch.randn(64), torch.randn(64)
    s = {(m, n): rope_score(q, k, m, n, 64) for m, n in
         [(5, 2), (105, 102), (4005, 4002), (5, 0), (105, 100), (2, 5)]}
    assert s[(5, 2)] == pytest.approx(s[(105, 102)], abs=1e-4)
    assert s[(5, 2)] == pytest.approx(s[(4005, 4002)], abs=1e-3)  # float32 angles at 4000
    assert s[(5, 0)] == pytest.approx(s[(105, 100)], abs=1e-4)
    assert abs(s[(5, 2)] - s[(5, 0)]) > 0.1 and abs(s[(5, 2)] - s[(2, 5)]) > 0.1


@pytest.mark.parametrize("n_heads", [1, 4, 8, 12, 16, 20, 32])
def test_alibi_slopes_equal_bloom(n_heads: int) -> None:
    n = 10
    alibi = build_alibi_tensor(torch.ones(1, n, dtype=torch.long), n_heads, torch.float32)
    # BLOOM's tensor is slope_h * j for key j (one row, broadcast over queries)
    bloom_slopes = alibi[:, 0, 1]
    torch.testing.assert_close(alibi_slopes(n_heads), bloom_slopes)
    torch.testing.assert_close(alibi[:, 0, :], alibi_slopes(n_heads)[:, None] * torch.arange(n))


def test_alibi_bias_gives_bloom_softmax() -> None:
    """Our -m (i - j) and BLOOM's +m j differ by -m i, a constant per row: same softmax."""
    n, heads = 9, 8
    torch.manual_seed(0)
    scores = torch.randn(heads, n, n)
    causal = torch.ones(n, n, dtype=torch.bool).tril()
    bloom = build_alibi_tensor(torch.ones(1, n, dtype=torch.long), heads, torch.float32)
    ours = (scores + alibi_bias(n, heads)).masked_fill(~causal, float("-inf")).softmax(-1)
    ref = (scores + bloom).masked_fill(~causal, float("-inf")).softmax(-1)
    torch.testing.assert_close(ours, ref)


def test_alibi_slopes_are_geometric_for_powers_of_two() -> None:
    s = alibi_slopes(8)
    assert s[0].item() == 0.5 and s[-1].item() == 2**-8
    torch.testing.assert_close(s[1:] / s[:-1], torch.full((7,), 0.5))
    assert alibi_slopes(16)[0].item() == pytest.approx(1 / math.sqrt(2))


def test_position_parameter_counts_equal_real_models() -> None:
    counts = position_parameters(n_positions=1024, d_model=768, n_heads=12)
    with torch.device("meta"):
        gpt2 = GPT2Model(GPT2Config(n_positions=1024, n_embd=768, n_head=12, n_layer=12))
        t5 = T5Model(T5Config(d_model=768, d_kv=64, num_heads=12, num_layers=12,
                              relative_attention_num_buckets=32))
    assert gpt2.wpe.weight.numel() == counts["learned absolute"]
    t5_bias_params = {name: p.numel() for name, p in t5.named_parameters()
                      if "relative_attention_bias" in name}
    # one table in the encoder's first layer, one in the decoder's: shared by each stack
    assert len(t5_bias_params) == 2
    assert all(c == counts["T5 bias"] for c in t5_bias_params.values())
