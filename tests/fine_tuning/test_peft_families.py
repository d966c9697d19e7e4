"""Parameter-count formulas against PEFT 0.21 (and module counts), and the SFT loss
against transformers' own causal-LM loss."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from peft import IA3Config, LNTuningConfig, LoraConfig, TaskType, get_peft_model
from transformers import LlamaForCausalLM

from snippets.fine_tuning.lora import ALL_LINEAR, ATTENTION_QV, lora_params
from snippets.fine_tuning.peft_families import (
    BottleneckAdapter,
    adapter_params,
    dora_params,
    ia3_params,
    method_table,
    norm_tuning_params,
    per_block_params,
    sft_labels,
    sft_loss,
)
from snippets.fine_tuning.shapes import LLAMA2_7B, TINY, count_base_params, llama_config


def tiny_model() -> LlamaForCausalLM:
    torch.manual_seed(0)
    return LlamaForCausalLM(llama_config(TINY))


def peft_trainable(config) -> int:
    return get_peft_model(tiny_model(), config).get_nb_trainable_parameters()[0]


@pytest.mark.parametrize(
    ("config", "formula"),
    [
        (IA3Config(task_type=TaskType.CAUSAL_LM), ia3_params(TINY)),
        (LNTuningConfig(task_type=TaskType.CAUSAL_LM), norm_tuning_params(TINY)),
        (LoraConfig(r=4, target_modules=ATTENTION_QV), lora_params(TINY, ATTENTION_QV, 4)),
        (LoraConfig(r=4, target_modules="all-linear"), lora_params(TINY, ALL_LINEAR, 4)),
        (LoraConfig(r=4, target_modules="all-linear", use_dora=True),
         dora_params(TINY, ALL_LINEAR, 4)),
    ],
    ids=["ia3", "ln-tuning", "lora-qv", "lora-all", "dora-all"],
)
def test_formula_equals_peft_count(config, formula):
    assert peft_trainable(config) == formula


def test_block_and_adapter_counts_equal_module_sizes():
    model = tiny_model()
    block = sum(p.numel() for p in model.model.layers[-1].parameters())
    assert per_block_params(TINY) == block
    adapter = sum(p.numel() for p in BottleneckAdapter(TINY.hidden_size, 8).parameters())
    assert adapter_params(TINY, 8) == TINY.num_layers * 2 * adapter


def test_llama_has_no_biases_so_bitfit_trains_nothing():
    model = tiny_model()
    assert not [n for n, _ in model.named_parameters() if n.endswith(".bias")]
    assert dict((m, n) for _, m, n in method_table(TINY))["BitFit (biases only)"] == 0


def test_table_shares_are_fractions_of_the_full_model():
    rows = method_table(LLAMA2_7B)
    full = count_base_params(LLAMA2_7B)
    assert rows[0][2] == full
    assert all(0 <= n < full for _, _, n in rows[1:])


def test_sft_loss_equals_transformers_loss_with_masked_prompt():
    model = tiny_model().eval()
    ids = torch.randint(0, TINY.vocab_size, (2, 10), generator=torch.Generator().manual_seed(0))
    labels = sft_labels(ids, [4, 6])
    with torch.no_grad():
        out = model(input_ids=ids, labels=labels)
        ours = sft_loss(out.logits, labels)
    torch.testing.assert_close(ours, out.loss)


def test_sft_loss_counts_only_response_tokens():
    logits = torch.randn(1, 6, 5, generator=torch.Generator().manual_seed(0))
    ids = torch.tensor([[0, 1, 2, 3, 4, 0]])
    labels = sft_labels(ids, [3])  # tokens 3..5 are the response
    # brute force: positions 2, 3, 4 predict tokens 3, 4, 0
    expected = torch.stack([F.cross_entropy(logits[0, t], ids[0, t + 1]) for t in (2, 3, 4)])
    torch.testing.assert_close(sft_loss(logits, labels), expected.mean())
    assert labels[0, :3].eq(-100).all() and labels[0, 3:].eq(ids[0, 3:]).all()


# --- the 7B table itself, against PEFT on a full-size model on the meta device --------------

META_CONFIGS = {
    "RMSNorm weights only": LNTuningConfig(task_type=TaskType.CAUSAL_LM),
    "IA3": IA3Config(task_type=TaskType.CAUSAL_LM),
    "LoRA r=8 on q, v": LoraConfig(r=8, target_modules=ATTENTION_QV),
    "LoRA / QLoRA r=16, all linear": LoraConfig(r=16, target_modules="all-linear"),
    "DoRA r=16, all linear": LoraConfig(r=16, target_modules="all-linear", use_dora=True),
}


def meta_peft_trainable(config) -> tuple[int, int]:
    """PEFT's count on a LLaMA-2-7B-shaped model whose tensors have shapes but no storage."""
    with torch.device("meta"):
        model = LlamaForCausalLM(llama_config(LLAMA2_7B))
        return get_peft_model(model, config).get_nb_trainable_parameters()


def test_7b_base_count_equals_transformers_on_meta():
    with torch.device("meta"):
        model = LlamaForCausalLM(llama_config(LLAMA2_7B))
    assert sum(p.numel() for p in model.parameters()) == count_base_params(LLAMA2_7B)


@pytest.mark.parametrize("method", list(META_CONFIGS))
def test_7b_table_row_equals_peft_on_meta(method):
    table = {m: n for _, m, n in method_table(LLAMA2_7B)}
    trainable, total = meta_peft_trainable(META_CONFIGS[method])
    assert trainable == table[method]
    assert total - trainable == count_base_params(LLAMA2_7B)
