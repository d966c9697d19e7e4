"""GQA/MQA: equal to SDPA with enable_gqa and to transformers' repeat_kv; checkpoint pooling."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from transformers import LlamaConfig
from transformers.models.llama.modeling_llama import LlamaAttention, repeat_kv

from snippets.attention.gqa import (
    LLAMA2_70B,
    grouped_query_attention,
    llama2_70b_cache_table,
    mean_pool_kv_heads,
)
from snippets.attention.kv_cache import CausalSelfAttention


@pytest.mark.parametrize("n_heads,n_kv_heads", [(8, 8), (8, 2), (8, 1), (6, 3)])
@pytest.mark.parametrize("t,s,causal", [(10, 10, True), (10, 10, False), (1, 10, True),
                                        (3, 10, True)])
def test_gqa_equals_sdpa_enable_gqa(n_heads, n_kv_heads, t, s, causal) -> None:
    torch.manual_seed(0)
    q = torch.randn(2, n_heads, t, 16)
    k, v = torch.randn(2, n_kv_heads, s, 16), torch.randn(2, n_kv_heads, s, 16)
    mask = torch.ones(t, s, dtype=torch.bool).tril(s - t) if causal else None
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, enable_gqa=True)
    torch.testing.assert_close(grouped_query_attention(q, k, v, causal=causal), ref,
                               atol=1e-5, rtol=1e-5)


def test_gqa_equals_transformers_repeat_kv() -> None:
    torch.manual_seed(1)
    q = torch.randn(1, 12, 7, 8)
    k, v = torch.randn(1, 4, 7, 8), torch.randn(1, 4, 7, 8)
    ref = F.scaled_dot_product_attention(q, repeat_kv(k, 3), repeat_kv(v, 3), is_causal=True)
    torch.testing.assert_close(grouped_query_attention(q, k, v), ref, atol=1e-5, rtol=1e-5)


def test_mean_pooling_matches_a_loop_and_preserves_identical_heads() -> None:
    torch.manual_seed(2)
    n_heads, n_kv, head_dim, d_model = 8, 2, 4, 32
    w = torch.randn(n_heads * head_dim, d_model)
    pooled = mean_pool_kv_heads(w, n_heads, n_kv)
    heads = w.view(n_heads, head_dim, d_model)
    loop = torch.cat([heads[g * 4 : (g + 1) * 4].mean(0) for g in range(n_kv)])
    torch.testing.assert_close(pooled, loop)

    # If the heads of each group already share K and V, pooling changes nothing.
    mha = CausalSelfAttention(d_model, n_heads).eval()
    with torch.no_grad():
        for proj in (mha.k_proj, mha.v_proj):
            group_heads = proj.weight.view(n_kv, 4, head_dim, d_model)[:, :1]
            proj.weight.copy_(group_heads.expand(-1, 4, -1, -1).reshape(-1, d_model))
    gqa = CausalSelfAttention(d_model, n_heads, n_kv).eval()
    with torch.no_grad():
        gqa.q_proj.weight.copy_(mha.q_proj.weight)
        gqa.o_proj.weight.copy_(mha.o_proj.weight)
        gqa.k_proj.weight.copy_(mean_pool_kv_heads(mha.k_proj.weight, n_heads, n_kv))
        gqa.v_proj.weight.copy_(mean_pool_kv_heads(mha.v_proj.weight, n_heads, n_kv))
    x = torch.randn(2, 6, d_model)
    torch.testing.assert_close(gqa(x)[0], mha(x)[0], atol=1e-5, rtol=1e-5)


def test_llama2_70b_table_matches_the_published_shape() -> None:
    # Build Llama-2-70B's attention layer on the meta device (no memory) from its config.
    cfg = LlamaConfig(hidden_size=8192, num_attention_heads=64, num_key_value_heads=8,
                      num_hidden_layers=80, intermediate_size=28672)
    with torch.device("meta"):
        attn = LlamaAttention(cfg, layer_idx=0)
    kv_width = attn.k_proj.out_features + attn.v_proj.out_features  # values per token per layer
    per_token_fp16 = cfg.num_hidden_layers * kv_width * 2
    table = llama2_70b_cache_table(seq_len=1)
    assert table["GQA-8"] == per_token_fp16
    assert table["MHA"] == 8 * table["GQA-8"] == 64 * table["MQA"]
    assert LLAMA2_70B["head_dim"] == cfg.hidden_size // cfg.num_attention_heads
    # 4096 tokens of GQA-8 cache: 1.25 GiB, i.e. 320 KiB per token.
    assert llama2_70b_cache_table(4096)["GQA-8"] == 4096 * 320 * 1024
