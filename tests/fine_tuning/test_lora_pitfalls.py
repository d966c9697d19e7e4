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


def update_below_half_a_step(q: torch.Tensor, step: torch.Tensor) -> torch.Tensor:
    """+-0.4 of a step on every element, except the row maxima, so the scales stay put."""
    signs = torch.randint(0, 2, q.shape, generator=torch.Generator().manual_seed(2)) * 2 - 1
    delta = 0.4 * step * signs
    delta[q.abs() == q.abs().amax(dim=1, keepdim=True)] = 0
    return delta


def test_small_update_is_erased_by_requantisation():
    w = weights()
    q = quantize_4bit(w)
    step = w.abs().amax(dim=1, keepdim=True) / 7
    delta = update_below_half_a_step(q, step)
    requantised = quantize_4bit(q + delta)
    # Every element is back on exactly its old 4-bit code (an exact integer comparison). The
    # dequantised values may differ in the last bit, because the scale is recomputed as
    # max|q| / 7 and max|q| = 7 * step was itself rounded.
    assert torch.equal(torch.round(requantised / step), torch.round(q / step))
    assert merge_error(w, delta, "4bit") == pytest.approx(1.0, rel=1e-5)


def test_requantisation_is_bit_exact_when_the_scales_are_powers_of_two():
    codes = torch.randint(-7, 8, (64, 96), generator=torch.Generator().manual_seed(3))
    codes[:, 0] = 7  # every row reaches the largest code, so its scale is exactly 2^-7
    q = codes.float() * 2.0**-7
    assert torch.equal(quantize_4bit(q), q)
    delta = update_below_half_a_step(q, torch.full((64, 1), 2.0**-7))
    assert torch.equal(quantize_4bit(q + delta), q)  # the update is gone, bit for bit


@pytest.mark.parametrize("store, dtype", [("bf16", torch.bfloat16), ("fp16", torch.float16)])
def test_sixteen_bit_merge_error_is_within_half_an_ulp_per_element(store, dtype):
    w = weights()
    delta = torch.randn(64, 96, generator=torch.Generator().manual_seed(1)) * 1e-3
    intended = quantize_4bit(w) + delta
    stored16 = intended.to(dtype)
    stored = stored16.float()
    # The neighbours of each stored value in the 16-bit format: rounding to nearest puts the
    # intended value at most half-way to the neighbour on its side (half an ulp, subnormals too).
    up = torch.nextafter(stored16, torch.full_like(stored16, float("inf"))).float()
    down = torch.nextafter(stored16, torch.full_like(stored16, float("-inf"))).float()
    above, below = intended >= stored, intended < stored
    assert torch.all((intended - stored)[above] <= (up - stored)[above] / 2)
    assert torch.all((stored - intended)[below] <= (stored - down)[below] / 2)
    # merge_error is the norm of exactly these per-element errors, relative to the update
    assert merge_error(w, delta, store) == pytest.approx(
        ((stored - intended).norm() / delta.norm()).item(), rel=1e-6)


def test_sixteen_bit_merges_lose_less_than_requantising():
    w = weights()
    delta = torch.randn(64, 96, generator=torch.Generator().manual_seed(1)) * 1e-3
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

def output_head_weight(model) -> torch.Tensor:
    """The (vocab, hidden) weight of the output head, read through its forward pass, so that it
    also works for PEFT's TrainableTokensWrapper (a bias-free head applied to the identity)."""
    with torch.no_grad():
        return model.get_output_embeddings()(torch.eye(TINY.hidden_size)).T.clone()


def train_with_new_tokens(config: LoraConfig | None):
    torch.manual_seed(0)
    model = LlamaForCausalLM(llama_config(TINY))
    assert not model.config.tie_word_embeddings  # lm_head has its own new rows
    model.resize_token_embeddings(TINY.vocab_size + 2, mean_resizing=False)
    new = [TINY.vocab_size, TINY.vocab_size + 1]
    if config is None:
        model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=ATTENTION_QV))
    else:
        model = get_peft_model(model, config)
    before_in = model.get_input_embeddings()(torch.tensor(new)).detach().clone()
    head_before = output_head_weight(model)
    ids = torch.tensor([[1, 2, new[0], 3, new[1], 4]] * 2)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(3):
        loss = model(input_ids=ids, labels=ids).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    after_in = model.get_input_embeddings()(torch.tensor(new)).detach()
    old_after = model.get_input_embeddings()(torch.tensor([1, 2, 3])).detach()
    return before_in, after_in, old_after, model, (head_before, output_head_weight(model))


def test_lora_alone_leaves_new_token_rows_untrained():
    before, after, _, _, (head_before, head_after) = train_with_new_tokens(None)
    assert torch.equal(before, after)
    new = slice(TINY.vocab_size, None)
    assert torch.equal(head_before[new], head_after[new])  # the untied lm_head's new rows too


def test_trainable_token_indices_train_only_the_new_rows():
    new = [TINY.vocab_size, TINY.vocab_size + 1]
    before, after, old_after, model, (head_before, head_after) = train_with_new_tokens(
        lora_config_with_new_tokens(new, ATTENTION_QV)
    )
    assert not torch.allclose(before, after)
    torch.manual_seed(0)
    reference = LlamaForCausalLM(llama_config(TINY))
    assert torch.equal(old_after, reference.get_input_embeddings()(torch.tensor([1, 2, 3])))
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert any("lm_head" in n and "token" in n for n in trainable)
    # the untied lm_head: its new rows train, its old rows stay bit-identical
    assert not torch.allclose(head_before[new], head_after[new])
    assert torch.equal(head_before[: TINY.vocab_size], head_after[: TINY.vocab_size])
    assert torch.equal(head_after[: TINY.vocab_size], reference.lm_head.weight)


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


def tiny_lora_model(seed: int):
    """A tiny random LLaMA (the same base weights every time) with one LoRA adapter whose
    weights depend on `seed`; init_lora_weights=False makes the adapter change the output."""
    torch.manual_seed(0)
    base = LlamaForCausalLM(llama_config(TINY)).eval()
    torch.manual_seed(seed)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=ATTENTION_QV, init_lora_weights=False)
    return get_peft_model(base, config).eval()


def test_load_adapter_does_not_activate_it(tmp_path):
    ids = torch.randint(0, TINY.vocab_size, (2, 6), generator=torch.Generator().manual_seed(4))
    saved = tiny_lora_model(seed=2)
    saved.save_pretrained(tmp_path)  # adapter_config.json + adapter weights, no download
    with torch.no_grad():
        logits_b = saved(input_ids=ids).logits
    model = tiny_lora_model(seed=1)
    with torch.no_grad():
        logits_default = model(input_ids=ids).logits
        model.load_adapter(tmp_path, adapter_name="b")
        assert model.active_adapters == ["default"]
        assert torch.equal(model(input_ids=ids).logits, logits_default)  # still the old one
        model.set_adapter("b")
        logits_after_switch = model(input_ids=ids).logits
    torch.testing.assert_close(logits_after_switch, logits_b)
    assert not torch.allclose(logits_after_switch, logits_default, atol=1e-3)


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
