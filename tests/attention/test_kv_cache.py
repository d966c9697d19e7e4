"""KV cache: cached decoding equals recomputation; cache bytes match the formula and HF."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from transformers import LlamaConfig, LlamaForCausalLM

from snippets.attention.kv_cache import (
    CausalSelfAttention,
    TinyDecoder,
    cache_nbytes,
    generate_with_cache,
    generate_without_cache,
    kv_cache_bytes,
)


@pytest.mark.parametrize("n_kv_heads", [4, 2, 1])  # MHA, GQA, MQA
def test_cached_decoding_equals_full_recomputation(n_kv_heads: int) -> None:
    torch.manual_seed(0)
    model = TinyDecoder(n_heads=4, n_kv_heads=n_kv_heads, n_layers=2).eval()
    prompt = torch.randint(0, 100, (2, 5))
    with_cache = generate_with_cache(model, prompt, steps=12)
    without = generate_without_cache(model, prompt, steps=12)
    assert torch.equal(with_cache, without)
    # Logits too, not only the argmax: feed the sequence one token at a time.
    full_logits, _ = model(with_cache)
    logits, cache = model(with_cache[:, :5])
    steps = [logits]
    for t in range(5, with_cache.shape[1]):
        logits, cache = model(with_cache[:, t : t + 1], cache)
        steps.append(logits)
    torch.testing.assert_close(torch.cat(steps, dim=1), full_logits, atol=1e-5, rtol=1e-5)


def test_attention_layer_matches_sdpa_on_the_whole_sequence() -> None:
    torch.manual_seed(1)
    layer = CausalSelfAttention(d_model=32, n_heads=4, n_kv_heads=2).eval()
    x = torch.randn(1, 9, 32)
    out_full, _ = layer(x)
    # Independent reference: project, repeat K/V heads, causal SDPA.
    q = layer.q_proj(x).view(1, 9, 4, 8).transpose(1, 2)
    k = layer.k_proj(x).view(1, 9, 2, 8).transpose(1, 2).repeat_interleave(2, dim=1)
    v = layer.v_proj(x).view(1, 9, 2, 8).transpose(1, 2).repeat_interleave(2, dim=1)
    ref = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    ref = layer.o_proj(ref.transpose(1, 2).reshape(1, 9, 32))
    torch.testing.assert_close(out_full, ref, atol=1e-6, rtol=1e-5)
    # Prefill 6 tokens, then 3 decode steps with the cache: same outputs.
    out_a, past = layer(x[:, :6])
    outs = [out_a]
    for t in range(6, 9):
        o, past = layer(x[:, t : t + 1], past)
        outs.append(o)
    torch.testing.assert_close(torch.cat(outs, dim=1), out_full, atol=1e-6, rtol=1e-5)


def test_is_causal_with_one_query_is_a_trap() -> None:
    """SDPA's is_causal aligns the mask top-left: one query would see only key 0."""
    torch.manual_seed(2)
    q, k, v = torch.randn(1, 1, 1, 8), torch.randn(1, 1, 6, 8), torch.randn(1, 1, 6, 8)
    wrong = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    torch.testing.assert_close(wrong, v[:, :, :1])
    right = F.scaled_dot_product_attention(q, k, v)  # the newest token sees every cached key
    assert not torch.allclose(wrong, right)


def test_cache_bytes_formula_matches_tensors_held() -> None:
    torch.manual_seed(3)
    model = TinyDecoder(d_model=64, n_heads=8, n_kv_heads=2, n_layers=3).eval()
    _, cache = model(torch.randint(0, 100, (4, 11)))
    expected = kv_cache_bytes(n_layers=3, n_kv_heads=2, head_dim=8, seq_len=11, batch=4,
                              bytes_per_value=4)
    assert cache_nbytes(cache) == expected


def test_cache_bytes_formula_matches_transformers_dynamic_cache() -> None:
    torch.manual_seed(4)
    cfg = LlamaConfig(vocab_size=50, hidden_size=64, intermediate_size=96, num_hidden_layers=3,
                      num_attention_heads=8, num_key_value_heads=2, max_position_embeddings=64)
    model = LlamaForCausalLM(cfg).eval()
    with torch.no_grad():
        out = model(torch.randint(0, 50, (2, 13)), use_cache=True)
    held = sum(layer.keys.nbytes + layer.values.nbytes for layer in out.past_key_values.layers)
    assert held == kv_cache_bytes(n_layers=3, n_kv_heads=2, head_dim=8, seq_len=13, batch=2,
                                  bytes_per_value=4)
