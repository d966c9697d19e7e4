"""The memory calculator against real tensors: a tiny LLaMA's parameters, gradients, AdamW
states and KV cache, and the parameter counts of Llama-2-7B/70B built on the meta device."""

from __future__ import annotations

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from snippets.training_efficiency.memory_calculator import (
    LLAMA2_7B,
    LLAMA2_70B,
    RECIPES,
    LlamaShape,
    activation_bytes_per_layer,
    checkpointed_activation_bytes_per_layer,
    kv_cache_bytes,
    model_state_bytes,
    parameter_count,
    weight_bytes,
)
from snippets.training_efficiency.memory_measure import (
    MasterWeightAdamW,
    model_state_report,
    tensor_bytes,
)

TINY = LlamaShape(vocab=64, hidden=32, intermediate=48, layers=2, heads=4, kv_heads=2)


def hf_config(m: LlamaShape) -> LlamaConfig:
    return LlamaConfig(
        vocab_size=m.vocab, hidden_size=m.hidden, intermediate_size=m.intermediate,
        num_hidden_layers=m.layers, num_attention_heads=m.heads, num_key_value_heads=m.kv_heads,
        tie_word_embeddings=m.tied_embeddings, max_position_embeddings=4096,
    )


def tiny_model(dtype: torch.dtype = torch.float32) -> LlamaForCausalLM:
    torch.manual_seed(0)
    return LlamaForCausalLM(hf_config(TINY)).to(dtype)


def one_backward(model: LlamaForCausalLM) -> None:
    ids = torch.randint(0, TINY.vocab, (2, 8), generator=torch.Generator().manual_seed(1))
    model(input_ids=ids, labels=ids).loss.backward()


@pytest.mark.parametrize("shape", [TINY, LlamaShape(64, 32, 48, 2, 4, 4, tied_embeddings=True)])
def test_parameter_count_matches_transformers(shape):
    model = LlamaForCausalLM(hf_config(shape))
    assert parameter_count(shape) == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("shape", [LLAMA2_7B, LLAMA2_70B])
def test_parameter_count_of_llama2_on_meta_device(shape):
    with torch.device("meta"):  # no memory is allocated
        model = LlamaForCausalLM(hf_config(shape))
    assert parameter_count(shape) == sum(p.numel() for p in model.parameters())


def test_fp32_adamw_bytes_after_one_step():
    model = tiny_model()
    n = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    one_backward(model)
    opt.step()
    measured = model_state_report(model, opt)
    predicted = model_state_bytes(n, RECIPES["fp32 AdamW"])
    assert measured["weights"] == predicted["weights"]
    assert measured["gradients"] == predicted["gradients"]
    assert measured["optimizer states"] == predicted["optimizer states"]
    n_tensors = len(list(model.parameters()))
    assert measured["optimizer scalars"] == 4 * n_tensors  # one fp32 `step` per tensor


def test_mixed_precision_adamw_bytes_after_one_step():
    model = tiny_model(torch.bfloat16)
    n = sum(p.numel() for p in model.parameters())
    trainer = MasterWeightAdamW(model)
    one_backward(model)
    trainer.step()
    measured = trainer.report()
    predicted = model_state_bytes(n, RECIPES["mixed-precision AdamW"])
    for key in ("weights", "gradients", "master weights", "optimizer states"):
        assert measured[key] == predicted[key], key
    assert sum(predicted.values()) == 16 * n


def test_master_weights_keep_small_updates_that_bf16_loses():
    """The reason for the fp32 copy: a bf16 parameter alone cannot absorb a tiny update."""
    model = tiny_model(torch.bfloat16)
    trainer = MasterWeightAdamW(model, lr=1e-5)
    before = [m.detach().clone() for m in trainer.master]
    one_backward(model)
    trainer.step()
    moved = sum(int((m != b).sum()) for m, b in zip(trainer.master, before, strict=True))
    assert moved > 0.9 * sum(m.numel() for m in trainer.master)
    # the same relative change is invisible in bf16 for most weights
    w = before[1].bfloat16()
    assert bool(((w.float() * (1 + 1e-5)).bfloat16() == w).float().mean() > 0.9)


def test_zero_paper_gpt2_example():
    """Rajbhandari et al. 2020, sec. 3.1: a 1.5B model needs 3 GB of fp16 weights and at
    least 24 GB of model states with mixed-precision Adam."""
    n = 1_500_000_000
    assert weight_bytes(n, 16) == 3e9
    assert sum(model_state_bytes(n, RECIPES["mixed-precision AdamW"]).values()) == 24e9


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_kv_cache_formula_matches_transformers_cache(dtype):
    model = tiny_model(dtype)
    batch, seq = 3, 7
    ids = torch.randint(0, TINY.vocab, (batch, seq))
    cache = model(input_ids=ids, use_cache=True).past_key_values
    tensors = [t for layer in cache.layers for t in (layer.keys, layer.values)]
    element = torch.empty((), dtype=dtype).element_size()
    assert tensor_bytes(tensors) == kv_cache_bytes(TINY, seq, batch, element)


def test_weight_bytes_against_real_storage():
    n, group = 4096, 128
    assert weight_bytes(n, 16) == torch.empty(n, dtype=torch.bfloat16).nbytes
    assert weight_bytes(n, 8) == torch.empty(n, dtype=torch.int8).nbytes
    # int4: two 4-bit values per byte, plus one fp16 scale per group of 128 weights
    q = torch.randint(0, 16, (n,), dtype=torch.uint8)
    packed = q[0::2] | (q[1::2] << 4)
    scales = torch.empty(n // group, dtype=torch.float16)
    assert weight_bytes(n, 4, group_size=group) == packed.nbytes + scales.nbytes


def test_activation_estimate_structure():
    s, b, h, a = 2048, 1, 12288, 96
    full = activation_bytes_per_layer(s, b, h, a)
    assert full == s * b * h * 34 + 5 * a * s * s * b  # linear part + attention matrices
    assert activation_bytes_per_layer(2 * s, b, h, a, False) == 2 * activation_bytes_per_layer(
        s, b, h, a, False)  # linear in s without stored attention matrices
    assert activation_bytes_per_layer(s, 2 * b, h, a) == 2 * full  # linear in batch
    assert checkpointed_activation_bytes_per_layer(s, b, h) == torch.empty(
        s, b, h, dtype=torch.bfloat16).nbytes  # one 16-bit layer input


@pytest.mark.parametrize("shape", [LLAMA2_7B, LLAMA2_70B])
def test_worked_examples_against_transformers_on_meta_device(shape):
    """The page's 7B/70B figures: bf16 weight bytes and the KV cache of 4096 tokens equal the
    bytes of a real Llama-2 config's bf16 parameters and of the DynamicCache its forward pass
    fills, all on the meta device (shapes and dtypes only, nothing allocated)."""
    seq = 4096
    with torch.device("meta"):
        model = LlamaForCausalLM(hf_config(shape)).to(torch.bfloat16)
        cache = model(input_ids=torch.zeros(1, seq, dtype=torch.long), use_cache=True,
                      logits_to_keep=1).past_key_values
    n = parameter_count(shape)
    assert weight_bytes(n, 16) == sum(p.numel() * p.element_size() for p in model.parameters())
    # meta tensors share no storage, so count shapes: numel x element size
    hf_kv = sum(t.numel() * t.element_size() for layer in cache.layers
                for t in (layer.keys, layer.values))
    assert len(cache.layers) == shape.layers
    assert kv_cache_bytes(shape, seq_len=seq, batch=1) == hf_kv
