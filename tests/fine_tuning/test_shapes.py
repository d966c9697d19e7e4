"""Closed-form parameter counts against LlamaForCausalLM built from a config."""

from __future__ import annotations

import pytest
from transformers import LlamaForCausalLM

from snippets.fine_tuning.shapes import TINY, DecoderShape, count_base_params, llama_config


@pytest.mark.parametrize(
    "shape",
    [TINY, DecoderShape(100, 48, 96, 3, 6, 6), DecoderShape(50, 64, 80, 2, 8, 1)],
    ids=["gqa", "mha", "mqa"],
)
def test_count_equals_transformers(shape):
    model = LlamaForCausalLM(llama_config(shape))
    assert count_base_params(shape) == sum(p.numel() for p in model.parameters())


def test_kv_dim_is_what_k_proj_outputs():
    model = LlamaForCausalLM(llama_config(TINY))
    assert model.model.layers[0].self_attn.k_proj.out_features == TINY.kv_dim
