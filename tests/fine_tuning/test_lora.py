"""From-scratch LoRA against PEFT 0.21's LoRA layers and against the algebra it claims."""

from __future__ import annotations

import math

import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import LlamaForCausalLM

from snippets.fine_tuning.lora import (
    ALL_LINEAR,
    ATTENTION_QV,
    LoRALinear,
    apply_lora,
    lora_layers,
    lora_params,
)
from snippets.fine_tuning.shapes import TINY, llama_config

R, ALPHA = 4, 8


def tiny_model() -> LlamaForCausalLM:
    torch.manual_seed(0)
    return LlamaForCausalLM(llama_config(TINY)).eval()


def ids() -> torch.Tensor:
    return torch.randint(0, TINY.vocab_size, (2, 9), generator=torch.Generator().manual_seed(1))


def random_layer(r: int = R, seed: int = 0) -> LoRALinear:
    torch.manual_seed(seed)
    layer = LoRALinear(torch.nn.Linear(24, 16), r, ALPHA)
    with torch.no_grad():
        layer.B.normal_()  # a trained-looking adapter
    return layer


def test_output_equals_base_layer_at_init():
    torch.manual_seed(0)
    base = torch.nn.Linear(24, 16)
    layer = LoRALinear(base, R, ALPHA)
    x = torch.randn(5, 24)
    assert torch.equal(layer(x), base(x))  # B = 0, so the update is exactly zero
    assert layer.A.abs().sum() > 0  # ...but A is not zero


def test_delta_has_rank_r():
    layer = random_layer()
    assert torch.linalg.matrix_rank(layer.delta_weight()).item() == R


def test_merge_gives_same_outputs_and_unmerge_restores_weights():
    layer = random_layer()
    x = torch.randn(5, 24)
    w0 = layer.base.weight.detach().clone()
    before = layer(x)
    layer.merge()
    torch.testing.assert_close(layer.base.weight, w0 + layer.B @ layer.A * (ALPHA / R))
    torch.testing.assert_close(layer(x), before)
    layer.unmerge()
    # W0 + D - D is W0 up to the rounding of W0 + D (at most one ulp of it per element).
    bound = torch.finfo(torch.float32).eps * (w0 + layer.delta_weight()).abs().detach()
    assert torch.all((layer.base.weight - w0).abs() <= bound)
    torch.testing.assert_close(layer(x), before)


def test_merge_unmerge_in_float64_is_also_one_rounding_not_bit_exact():
    layer = random_layer().double()
    w0 = layer.base.weight.detach().clone()
    layer.merge()
    layer.unmerge()
    # Same bound as in float32, with float64's epsilon: storing W0 + D rounds it.
    bound = torch.finfo(torch.float64).eps * (w0 + layer.delta_weight()).abs().detach()
    assert torch.all((layer.base.weight - w0).abs() <= bound)
    # ...and the page's warning is real: the round trip is not bit-exact for this layer.
    assert not torch.equal(layer.base.weight, w0)


def test_zero_b_init_still_trains_both_factors():
    torch.manual_seed(0)
    layer = LoRALinear(torch.nn.Linear(24, 16), R, ALPHA)
    x, target = torch.randn(8, 24), torch.randn(8, 16)
    torch.nn.functional.mse_loss(layer(x), target).backward()
    assert torch.count_nonzero(layer.A.grad) == 0  # dL/dA = B^T (...) = 0 while B = 0
    assert layer.B.grad.abs().sum() > 0  # dL/dB = (...) (A x)^T != 0, so B moves first
    # If A were zero as well, neither factor would ever get a gradient.
    dead = LoRALinear(torch.nn.Linear(24, 16), R, ALPHA)
    with torch.no_grad():
        dead.A.zero_()
    torch.nn.functional.mse_loss(dead(x), target).backward()
    assert torch.count_nonzero(dead.A.grad) == 0 and torch.count_nonzero(dead.B.grad) == 0


def build_pair(rslora: bool = False):
    """A PEFT LoRA model and our LoRA model on identical base weights with identical A, B."""
    config = LoraConfig(r=R, lora_alpha=ALPHA, target_modules=ATTENTION_QV, use_rslora=rslora)
    peft = get_peft_model(tiny_model(), config)
    ours = tiny_model()
    apply_lora(ours, ATTENTION_QV, R, ALPHA)
    torch.manual_seed(5)
    for name, module in ours.named_modules():
        if isinstance(module, LoRALinear):
            peft_layer = peft.get_submodule("base_model.model." + name)
            with torch.no_grad():
                peft_layer.lora_B["default"].weight.normal_()
                module.A.copy_(peft_layer.lora_A["default"].weight)
                module.B.copy_(peft_layer.lora_B["default"].weight)
            module.scaling = peft_layer.scaling["default"]
    return peft, ours


def test_identical_outputs_to_peft():
    peft, ours = build_pair()
    with torch.no_grad():
        expected = peft(input_ids=ids()).logits
        got = ours(input_ids=ids()).logits
        plain = tiny_model()(input_ids=ids()).logits
    torch.testing.assert_close(got, expected)
    assert not torch.allclose(got, plain, atol=1e-3)  # the adapters do something


def test_merge_matches_peft_merge_and_unload():
    peft, ours = build_pair()
    merged = peft.merge_and_unload()
    for layer in lora_layers(ours):
        layer.merge()
    for name, module in ours.named_modules():
        if isinstance(module, LoRALinear):
            torch.testing.assert_close(module.base.weight, merged.get_submodule(name).weight)


@pytest.mark.parametrize("rslora", [False, True])
def test_scaling_matches_peft(rslora):
    config = LoraConfig(r=R, lora_alpha=ALPHA, target_modules=["q_proj"], use_rslora=rslora)
    peft = get_peft_model(tiny_model(), config)
    peft_scaling = peft.get_submodule("base_model.model.model.layers.0.self_attn.q_proj").scaling
    ours = LoRALinear(torch.nn.Linear(4, 4), R, ALPHA, rslora=rslora).scaling
    expected = ALPHA / math.sqrt(R) if rslora else ALPHA / R
    assert peft_scaling["default"] == pytest.approx(expected)
    assert ours == pytest.approx(expected)


@pytest.mark.parametrize("targets", [ATTENTION_QV, ALL_LINEAR], ids=["qv", "all"])
def test_parameter_count_matches_peft(targets):
    peft = get_peft_model(tiny_model(), LoraConfig(r=R, lora_alpha=ALPHA, target_modules=targets))
    trainable, _ = peft.get_nb_trainable_parameters()
    ours = apply_lora(tiny_model(), targets, R, ALPHA)
    ours_trainable = sum(p.numel() for p in ours.parameters() if p.requires_grad)
    assert trainable == lora_params(TINY, targets, R) == ours_trainable


def test_training_changes_only_a_and_b_and_lowers_the_loss():
    model = apply_lora(tiny_model(), ALL_LINEAR, R, ALPHA).train()
    frozen = {n: p.detach().clone() for n, p in model.named_parameters() if not p.requires_grad}
    trained = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    assert trained and all(n.endswith((".A", ".B")) for n in trained)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    batch = ids()
    losses = []
    for _ in range(15):
        loss = model(input_ids=batch, labels=batch).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 0.3
    for n, p in model.named_parameters():
        if n in frozen:
            assert torch.equal(p, frozen[n]), n
        else:
            assert not torch.equal(p, trained[n]), n


@pytest.mark.parametrize("r", [8, 64])
@pytest.mark.parametrize("targets", [ATTENTION_QV, ALL_LINEAR], ids=["qv", "all"])
def test_printed_7b_counts_equal_peft_on_a_meta_model(targets, r):
    """The page's LLaMA-2-7B rows, counted by PEFT on a full-size model without storage."""
    from snippets.fine_tuning.shapes import LLAMA2_7B

    with torch.device("meta"):
        model = get_peft_model(LlamaForCausalLM(llama_config(LLAMA2_7B)),
                               LoraConfig(r=r, target_modules=targets))
        trainable, _ = model.get_nb_trainable_parameters()
    assert trainable == lora_params(LLAMA2_7B, targets, r)
