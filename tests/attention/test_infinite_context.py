"""B17: the loss is a sum of logs (no vanishing product); the length costs of Llama-2-70B."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from transformers import LlamaConfig, LlamaForCausalLM

from snippets.attention.gqa import llama2_70b_cache_table
from snippets.attention.infinite_context import (
    attention_flop_share,
    costs_at,
    first_token_gradient,
    llama2_70b_parameters,
    sequence_nll,
    sequence_probability,
)


def test_sequence_nll_equals_cross_entropy_sum() -> None:
    torch.manual_seed(0)
    logits, targets = torch.randn(37, 11), torch.randint(0, 11, (37,))
    ref = F.cross_entropy(logits, targets, reduction="sum")
    torch.testing.assert_close(sequence_nll(logits, targets), ref)


def test_gradient_at_a_token_does_not_depend_on_sequence_length() -> None:
    torch.manual_seed(1)
    logits, targets = torch.randn(2000, 30), torch.randint(0, 30, (2000,))
    closed_form = logits[0].softmax(-1) - F.one_hot(targets[0], 30).float()
    for n in (1, 10, 2000):
        torch.testing.assert_close(first_token_gradient(logits[:n], targets[:n]), closed_form)
    assert closed_form.norm() <= math.sqrt(2)  # bounded, never vanishing or exploding


def test_the_product_underflows_but_the_log_sum_does_not() -> None:
    torch.manual_seed(2)
    logits, targets = torch.randn(1000, 50), torch.randint(0, 50, (1000,))
    short = sequence_probability(logits[:10].double(), targets[:10])
    torch.testing.assert_close(short, torch.exp(-sequence_nll(logits[:10].double(), targets[:10])))
    assert sequence_probability(logits, targets).item() == 0.0  # float32 underflow
    assert math.isfinite(sequence_nll(logits, targets).item())


def test_parameter_count_equals_transformers_llama2_70b_on_meta_device() -> None:
    cfg = LlamaConfig(hidden_size=8192, intermediate_size=28672, num_hidden_layers=80,
                      num_attention_heads=64, num_key_value_heads=8, vocab_size=32000,
                      tie_word_embeddings=False)
    with torch.device("meta"):
        model = LlamaForCausalLM(cfg)
    assert llama2_70b_parameters() == sum(p.numel() for p in model.parameters())


def test_attention_flops_match_a_per_query_count() -> None:
    n, d, layers, vocab = 300, 8192, 80, 32000
    brute = sum(layers * 2 * (2 * (i + 1) * d) for i in range(n))  # QK^T and PV per query
    matmul = 2 * (llama2_70b_parameters() - vocab * d) * n
    assert attention_flop_share(n) == pytest.approx(brute / matmul)
    # The share grows linearly with n, so total attention cost is quadratic.
    assert attention_flop_share(2 * n - 1) == pytest.approx(2 * attention_flop_share(n - 1))


def test_costs_table_is_consistent() -> None:
    for n in (4096, 131_072):
        c = costs_at(n)
        assert c["kv_cache_gib"] * 2**30 == llama2_70b_cache_table(n)["GQA-8"]
        assert c["score_matrix_gib"] * 2**30 == n * n * 2
