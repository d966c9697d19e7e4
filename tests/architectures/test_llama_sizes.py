"""LLaMA size formulas agree with transformers' models built from the same config."""

from __future__ import annotations

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM, LlamaModel

from snippets.architectures import llama_sizes as ls


def hf_param_count(s: ls.LlamaShape) -> int:
    cfg = LlamaConfig(
        vocab_size=s.vocab, hidden_size=s.dim, num_hidden_layers=s.n_layers,
        num_attention_heads=s.n_heads, num_key_value_heads=s.n_kv_heads,
        intermediate_size=ls.ffn_hidden_dim(s.dim, s.multiple_of, s.ffn_dim_multiplier),
    )
    with torch.device("meta"):  # shapes only, no memory
        model = LlamaForCausalLM(cfg)
    return sum(p.numel() for p in model.parameters())


# published intermediate_size values of the released checkpoints' configs
@pytest.mark.parametrize(("dim", "multiple_of", "mult", "published"), [
    (4096, 256, None, 11008), (5120, 256, None, 13824), (6656, 256, None, 17920),
    (8192, 256, None, 22016), (8192, 4096, 1.3, 28672),
])
def test_ffn_width_matches_released_configs(dim: int, multiple_of: int, mult: float | None,
                                            published: int) -> None:
    assert ls.ffn_hidden_dim(dim, multiple_of, mult) == published


@pytest.mark.parametrize("shape", [*ls.LLAMA_1, ls.LLAMA_2_70B, ls.LLAMA_2_70B_IF_MHA],
                         ids=lambda s: s.name)
def test_param_count_equals_transformers_model(shape: ls.LlamaShape) -> None:
    assert ls.param_count(shape) == hf_param_count(shape)


def test_param_counts_match_the_paper_sizes() -> None:
    # LLaMA paper, Table 2: 6.7B, 13.0B, 32.5B, 65.2B (the paper truncates to 0.1B)
    truncated = [ls.param_count(s) // 10**8 / 10 for s in ls.LLAMA_1]
    assert truncated == [6.7, 13.0, 32.5, 65.2]


def test_kv_cache_size_equals_transformers_cache() -> None:
    shape = ls.LlamaShape("tiny", dim=32, n_layers=3, n_heads=8, n_kv_heads=2, vocab=50)
    cfg = LlamaConfig(vocab_size=50, hidden_size=32, intermediate_size=64, num_hidden_layers=3,
                      num_attention_heads=8, num_key_value_heads=2, dtype=torch.float16)
    torch.manual_seed(0)
    model = LlamaModel(cfg).to(torch.float16)
    t = 5
    cache = model(torch.randint(0, 50, (1, t)), use_cache=True).past_key_values
    stored = sum(layer.keys.numel() * layer.keys.element_size()
                 + layer.values.numel() * layer.values.element_size() for layer in cache.layers)
    assert stored == t * ls.kv_cache_bytes_per_token(shape, bytes_per_value=2)
