"""From-scratch prompt methods against PEFT 0.21 on a tiny LLaMA with grouped-query attention."""

from __future__ import annotations

import pytest
import torch
from peft import (
    PrefixTuningConfig,
    PromptEncoderConfig,
    PromptTuningConfig,
    TaskType,
    get_peft_model,
)
from transformers import LlamaForCausalLM
from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

from snippets.fine_tuning.prompt_methods import (
    PrefixKV,
    PromptEncoder,
    SoftPrompt,
    attention_with_prefix,
    forward_with_prefix,
    forward_with_soft_prompt,
    p_tuning_params,
    prefix_mlp_output_weights,
    prefix_tuning_params,
    prompt_tuning_params,
)
from snippets.fine_tuning.shapes import TINY, llama_config

N = 5  # virtual tokens
CAUSAL = TaskType.CAUSAL_LM


def tiny_model(seed: int = 0) -> LlamaForCausalLM:
    torch.manual_seed(seed)
    model = LlamaForCausalLM(llama_config(TINY)).eval()
    assert TINY.num_kv_heads < TINY.num_heads  # the tests must exercise GQA
    return model


def peft_model(config):
    torch.manual_seed(1)
    model = get_peft_model(tiny_model(), config)
    model.eval()
    return model


def input_ids() -> torch.Tensor:
    return torch.randint(0, TINY.vocab_size, (2, 7), generator=torch.Generator().manual_seed(2))


def encoder_state(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.prompt_encoder["default"].state_dict().items()}


def numel(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


CASES = {
    "prompt tuning": (PromptTuningConfig(task_type=CAUSAL, num_virtual_tokens=N),
                      prompt_tuning_params(N, TINY)),
    "p-tuning": (PromptEncoderConfig(task_type=CAUSAL, num_virtual_tokens=N),
                 p_tuning_params(N, TINY, TINY.hidden_size)),
    "p-tuning v2": (PrefixTuningConfig(task_type=CAUSAL, num_virtual_tokens=N),
                    prefix_tuning_params(N, TINY)),
    "prefix + mlp": (PrefixTuningConfig(task_type=CAUSAL, num_virtual_tokens=N,
                                        prefix_projection=True),
                     prefix_tuning_params(N, TINY, TINY.kv_dim)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_formula_equals_peft_count(name):
    config, formula = CASES[name]
    trainable, _ = peft_model(config).get_nb_trainable_parameters()
    assert trainable == formula


def test_prefix_width_is_kv_width_under_gqa():
    # A prefix sized with hidden_size would be num_heads / num_kv_heads times too wide.
    assert prefix_tuning_params(N, TINY) == N * TINY.num_layers * 2 * TINY.num_kv_heads * (
        TINY.hidden_size // TINY.num_heads
    )
    assert prefix_tuning_params(N, TINY) < N * TINY.num_layers * 2 * TINY.hidden_size


def test_from_scratch_modules_have_formula_counts():
    assert numel(SoftPrompt(N, TINY.hidden_size)) == prompt_tuning_params(N, TINY)
    assert numel(PromptEncoder(N, TINY.hidden_size, TINY.hidden_size)) == p_tuning_params(
        N, TINY, TINY.hidden_size
    )
    assert numel(PrefixKV(TINY, N)) == prefix_tuning_params(N, TINY)
    assert numel(PrefixKV(TINY, N, TINY.kv_dim)) == prefix_tuning_params(N, TINY, TINY.kv_dim)


def test_soft_prompt_matches_peft_prompt_tuning():
    model = peft_model(CASES["prompt tuning"][0])
    ours = SoftPrompt(N, TINY.hidden_size)
    ours.embedding.data.copy_(encoder_state(model)["embedding.weight"])
    ids = input_ids()
    with torch.no_grad():
        expected = model(input_ids=ids).logits
        got = forward_with_soft_prompt(model.get_base_model(), ours, ids)
    assert got.shape == (2, N + 7, TINY.vocab_size)  # logits for the virtual positions too
    torch.testing.assert_close(got, expected)


def test_prompt_encoder_matches_peft_p_tuning():
    model = peft_model(CASES["p-tuning"][0])
    state = encoder_state(model)
    ours = PromptEncoder(N, TINY.hidden_size, TINY.hidden_size)
    ours.embedding.data.copy_(state["embedding.weight"])
    for i in (0, 2, 4):
        ours.mlp[i].weight.data.copy_(state[f"mlp_head.{i}.weight"])
        ours.mlp[i].bias.data.copy_(state[f"mlp_head.{i}.bias"])
    ids = input_ids()
    with torch.no_grad():
        expected = model(input_ids=ids).logits
        got = forward_with_soft_prompt(model.get_base_model(), ours, ids)
    torch.testing.assert_close(got, expected)


@pytest.mark.parametrize("projection", [False, True])
def test_prefix_matches_peft_prefix_tuning(projection):
    name = "prefix + mlp" if projection else "p-tuning v2"
    model = peft_model(CASES[name][0])
    state = encoder_state(model)
    ours = PrefixKV(TINY, N, TINY.kv_dim if projection else None)
    ours.embedding.data.copy_(state["embedding.weight"])
    if projection:
        for i in (0, 2):
            ours.mlp[i].weight.data.copy_(state[f"transform.{i}.weight"])
            ours.mlp[i].bias.data.copy_(state[f"transform.{i}.bias"])
    else:  # give the prefix a visible effect (PEFT's default init is N(0, 1) already)
        assert state["embedding.weight"].std() > 0.5
    ids = input_ids()
    with torch.no_grad():
        expected = model(input_ids=ids).logits
        got = forward_with_prefix(model.get_base_model(), ours, ids)
        plain = model.get_base_model()(input_ids=ids).logits
    assert got.shape == (2, 7, TINY.vocab_size)  # no extra positions: the prefix is in the cache
    torch.testing.assert_close(got, expected)
    assert not torch.allclose(got, plain, atol=1e-3)  # the prefix changed the output


def test_attention_with_prefix_matches_llama_attention():
    model = tiny_model()
    prefix = PrefixKV(TINY, N)
    prefix.embedding.data.normal_(generator=torch.Generator().manual_seed(3))
    attn = model.model.layers[0].self_attn
    seen = {}

    def hook(module, args, kwargs, output):
        seen["hidden"] = kwargs.get("hidden_states", args[0] if args else None)
        seen["cos_sin"] = kwargs["position_embeddings"]
        seen["out"] = output[0]

    handle = attn.register_forward_hook(hook, with_kwargs=True)
    with torch.no_grad():
        forward_with_prefix(model, prefix, input_ids())
    handle.remove()

    h, (cos, sin) = seen["hidden"], seen["cos_sin"]
    b, t, _ = h.shape
    hd = TINY.head_dim
    with torch.no_grad():
        q = attn.q_proj(h).view(b, t, -1, hd).transpose(1, 2)
        k = attn.k_proj(h).view(b, t, -1, hd).transpose(1, 2)
        v = attn.v_proj(h).view(b, t, -1, hd).transpose(1, 2)
        q, k = apply_rotary_pos_emb(q, k, cos, sin)
        pk, pv = prefix.key_values(b)[0]
        out = attention_with_prefix(q, k, v, pk, pv)
        out = attn.o_proj(out.transpose(1, 2).reshape(b, t, -1))
    torch.testing.assert_close(out, seen["out"])


def test_real_tokens_start_at_position_n():
    model = tiny_model()
    seen = {}

    def hook(module, args, kwargs, output):
        seen["pos"] = kwargs["position_ids"] if "position_ids" in kwargs else args[1]

    handle = model.model.rotary_emb.register_forward_hook(hook, with_kwargs=True)
    with torch.no_grad():
        forward_with_prefix(model, PrefixKV(TINY, N), input_ids())
    handle.remove()
    assert seen["pos"][0].tolist() == list(range(N, N + 7))


@pytest.mark.parametrize("module", ["soft", "encoder", "prefix", "prefix+mlp"])
def test_only_prompt_parameters_get_gradients(module):
    model = tiny_model()
    model.requires_grad_(False)
    prompt = {
        "soft": SoftPrompt(N, TINY.hidden_size),
        "encoder": PromptEncoder(N, TINY.hidden_size, 16),
        "prefix": PrefixKV(TINY, N),
        "prefix+mlp": PrefixKV(TINY, N, 8),
    }[module]
    ids = input_ids()
    if isinstance(prompt, PrefixKV):
        logits = forward_with_prefix(model, prompt, ids)
    else:
        logits = forward_with_soft_prompt(model, prompt, ids)[:, N:]
    loss = torch.nn.functional.cross_entropy(
        logits[:, :-1].reshape(-1, TINY.vocab_size), ids[:, 1:].reshape(-1)
    )
    loss.backward()
    assert all(p.grad is None for p in model.parameters())
    for p in prompt.parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0


def test_peft_freezes_the_base_model():
    for config, _ in CASES.values():
        model = peft_model(config)
        trainable = {n for n, p in model.named_parameters() if p.requires_grad}
        assert trainable and all(n.startswith("prompt_encoder.") for n in trainable)


# --- the printed 7B/8B rows, against PEFT on full-size models on the meta device ------------

@pytest.mark.parametrize("shape_name", ["LLAMA2_7B", "LLAMA3_8B"])
def test_printed_rows_equal_peft_on_full_size_meta_models(shape_name):
    from snippets.fine_tuning import shapes

    s = getattr(shapes, shape_name)
    configs = [
        (PromptTuningConfig(task_type=CAUSAL, num_virtual_tokens=20), prompt_tuning_params(20, s)),
        (PromptEncoderConfig(task_type=CAUSAL, num_virtual_tokens=20),
         p_tuning_params(20, s, s.hidden_size)),
        (PrefixTuningConfig(task_type=CAUSAL, num_virtual_tokens=20), prefix_tuning_params(20, s)),
        (PrefixTuningConfig(task_type=CAUSAL, num_virtual_tokens=20, prefix_projection=True),
         prefix_tuning_params(20, s, s.kv_dim)),
    ]
    for config, formula in configs:
        with torch.device("meta"):
            model = get_peft_model(LlamaForCausalLM(shapes.llama_config(s)), config)
            trainable, _ = model.get_nb_trainable_parameters()
        assert trainable == formula, type(config).__name__
    # The last config (prefix_projection=True): its MLP's output layer is the printed
    # "of which output W" row, and the rest of the count is embedding + first layer + biases.
    mlp = model.prompt_encoder["default"].transform
    assert mlp[2].weight.numel() == prefix_mlp_output_weights(s, s.kv_dim)
    rest = model.prompt_encoder["default"].embedding.weight.numel() + sum(
        p.numel() for p in mlp[0].parameters()) + mlp[2].bias.numel()
    assert trainable == prefix_mlp_output_weights(s, s.kv_dim) + rest
