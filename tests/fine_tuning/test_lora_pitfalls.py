"""LoRA pitfalls: each demonstration checked against PyTorch, transformers or PEFT."""

from __future__ import annotations

import warnings

import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import LlamaForCausalLM

from snippets.fine_tuning.lora import ATTENTION_QV, LoRALinear, apply_lora
from snippets.fine_tuning.lora_pitfalls import (
    fit_with_rank,
    lora_config_with_new_tokens,
    lora_gets_gradients,
    merge_error,
    mixed_batch_lora,
    quantize_4bit,
)
from snippets.fine_tuning.shapes import TINY, llama_config

warnings.filterwarnings("ignore", message="None of the inputs have requires_grad")


def weights(seed: int = 0) -> torch.Tensor:
    return torch.randn(64, 96, generator=torch.Generator().manual_seed(seed)) * 0.02


# --- rank and scaling -------------------------------------------------------------------

def test_alpha_over_r_wastes_extra_rank_and_rslora_uses_it():
    loss_small, norm_small = fit_with_rank(2, rslora=False)
    loss_big, norm_big = fit_with_rank(128, rslora=False)
    rs_loss_big, _ = fit_with_rank(128, rslora=True)
    # alpha/r: 64x the rank, an update of about the same size, still far from the target.
    assert abs(norm_big / norm_small - 1) < 0.2
    assert loss_big > 0.3
    # alpha/sqrt(r): the same rank fits the target.
    assert rs_loss_big < 0.05 * loss_big < loss_small


# --- merging into quantised weights -------------------------------------------------------

def test_quantizer_matches_torch_fake_quantize():
    w = weights()
    scale = w.abs().amax(dim=1) / 7
    expected = torch.fake_quantize_per_channel_affine(
        w, scale, torch.zeros(64, dtype=torch.int32), axis=0, quant_min=-8, quant_max=7
    )
    torch.testing.assert_close(quantize_4bit(w), expected)


def test_quantizer_is_idempotent_and_within_half_a_step():
    w = weights()
    q = quantize_4bit(w)
    torch.testing.assert_close(quantize_4bit(q), q)
    step = w.abs().amax(dim=1, keepdim=True) / 7
    assert torch.all((q - w).abs() <= step / 2 + 1e-9)


def test_small_update_is_erased_by_requantisation():
    w = weights()
    q = quantize_4bit(w)
    step = w.abs().amax(dim=1, keepdim=True) / 7
    signs = torch.randint(0, 2, w.shape, generator=torch.Generator().manual_seed(2)) * 2 - 1
    delta = 0.4 * step * signs  # every element moves by less than half a step...
    delta[q.abs() == q.abs().amax(dim=1, keepdim=True)] = 0  # ...and the scales stay put
    # the merged 4-bit model is the old one (up to float rounding of the recomputed scale)
    torch.testing.assert_close(quantize_4bit(q + delta), q, rtol=1e-6, atol=0)
    assert merge_error(w, delta, "4bit") == pytest.approx(1.0, rel=1e-5)


def test_sixteen_bit_merge_error_is_rounding_only():
    w = weights()
    delta = torch.randn(64, 96, generator=torch.Generator().manual_seed(1)) * 1e-3
    intended = quantize_4bit(w) + delta
    for store, eps in (("bf16", 2.0**-8), ("fp16", 2.0**-11)):
        bound = (eps * intended.abs()).norm() / delta.norm()  # half-ulp rounding per element
        assert merge_error(w, delta, store) <= bound.item()
    assert merge_error(w, delta, "fp16") < merge_error(w, delta, "bf16") < merge_error(
        w, delta, "4bit"
    )


# --- gradient checkpointing ---------------------------------------------------------------

@pytest.mark.parametrize(
    ("reentrant", "inputs_grad", "expected"),
    [(True, False, False), (True, True, True), (False, False, True), (False, True, True)],
)
def test_reentrant_checkpoint_needs_inputs_that_require_grad(reentrant, inputs_grad, expected):
    assert lora_gets_gradients(reentrant, inputs_grad) is expected


def test_transformers_enables_input_grads_for_checkpointing():
    torch.manual_seed(0)
    model = apply_lora(LlamaForCausalLM(llama_config(TINY)), ATTENTION_QV, 4, 8).train()
    model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": True})
    ids = torch.randint(0, TINY.vocab_size, (2, 6), generator=torch.Generator().manual_seed(0))
    loss = model(input_ids=ids, labels=ids).loss
    loss.backward()  # works: transformers 5.23 called enable_input_require_grads()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
    model.disable_input_require_grads()  # the situation of a hand-written loop
    assert not model(input_ids=ids, labels=ids).loss.requires_grad


# --- new tokens ---------------------------------------------------------------------------

def train_with_new_tokens(config: LoraConfig | None):
    torch.manual_seed(0)
    model = LlamaForCausalLM(llama_config(TINY))
    model.resize_token_embeddings(TINY.vocab_size + 2, mean_resizing=False)
    new = [TINY.vocab_size, TINY.vocab_size + 1]
    if config is None:
        model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=ATTENTION_QV))
    else:
        model = get_peft_model(model, config)
    before_in = model.get_input_embeddings()(torch.tensor(new)).detach().clone()
    ids = torch.tensor([[1, 2, new[0], 3, new[1], 4]] * 2)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(3):
        loss = model(input_ids=ids, labels=ids).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    after_in = model.get_input_embeddings()(torch.tensor(new)).detach()
    old_after = model.get_input_embeddings()(torch.tensor([1, 2, 3])).detach()
    return before_in, after_in, old_after, model


def test_lora_alone_leaves_new_token_rows_untrained():
    before, after, _, _ = train_with_new_tokens(None)
    assert torch.equal(before, after)


def test_trainable_token_indices_train_only_the_new_rows():
    new = [TINY.vocab_size, TINY.vocab_size + 1]
    before, after, old_after, model = train_with_new_tokens(
        lora_config_with_new_tokens(new, ATTENTION_QV)
    )
    assert not torch.allclose(before, after)
    torch.manual_seed(0)
    reference = LlamaForCausalLM(llama_config(TINY))
    assert torch.equal(old_after, reference.get_input_embeddings()(torch.tensor([1, 2, 3])))
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert any("lm_head" in n and "token" in n for n in trainable)


# --- several adapters ---------------------------------------------------------------------

def two_adapter_model():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(12, 10))
    config = LoraConfig(r=3, lora_alpha=6, target_modules=["0"], init_lora_weights=False)
    model = get_peft_model(net, config)
    model.add_adapter("b", LoraConfig(r=2, lora_alpha=8, target_modules=["0"],
                                      init_lora_weights=False))
    return model.eval()


def test_mixed_batch_matches_peft_adapter_names():
    model = two_adapter_model()
    layer = model.base_model.model[0]
    adapters = [
        (layer.lora_A[n].weight, layer.lora_B[n].weight, layer.scaling[n]) for n in ("default", "b")
    ]
    x = torch.randn(5, 12, generator=torch.Generator().manual_seed(1))
    names = ["default", "b", "__base__", "b", "default"]
    with torch.no_grad():
        expected = model(x, adapter_names=names)
        got = mixed_batch_lora(x, layer.base_layer, adapters, [0, 1, -1, 1, 0])
    torch.testing.assert_close(got, expected)


def test_adding_an_adapter_does_not_activate_it():
    model = two_adapter_model()
    x = torch.randn(3, 12)
    assert model.active_adapters == ["default"]
    with torch.no_grad():
        out_default = model(x)
        model.set_adapter("b")
        out_b = model(x)
    assert not torch.allclose(out_default, out_b)


def test_serving_b_on_weights_with_a_merged_applies_both():
    torch.manual_seed(0)
    base = torch.nn.Linear(12, 10)
    w0 = base.weight.detach().clone()
    a = LoRALinear(base, 2, 4)
    with torch.no_grad():
        a.B.normal_()
    a.merge()  # adapter a is now inside base.weight
    b = LoRALinear(base, 2, 4)
    with torch.no_grad():
        b.B.normal_()
    x = torch.randn(3, 12)
    expected_b_only = x @ (w0 + b.delta_weight()).T + base.bias
    wrong = x @ (w0 + a.delta_weight() + b.delta_weight()).T + base.bias
    torch.testing.assert_close(b(x), wrong)
    assert not torch.allclose(b(x), expected_b_only)
