"""The from-scratch LLaMA parts equal transformers' LLaMA modules with the same weights."""

from __future__ import annotations

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.models.llama import modeling_llama as hf

from snippets.architectures import llama_block as lb

DIM, HEADS, KV_HEADS, HIDDEN, VOCAB, LAYERS, T = 64, 8, 2, 176, 101, 2, 7


@pytest.fixture(scope="module")
def config() -> LlamaConfig:
    cfg = LlamaConfig(
        vocab_size=VOCAB, hidden_size=DIM, intermediate_size=HIDDEN, num_hidden_layers=LAYERS,
        num_attention_heads=HEADS, num_key_value_heads=KV_HEADS, max_position_embeddings=64,
        rms_norm_eps=1e-6, attn_implementation="eager",
    )
    return cfg


@pytest.fixture(scope="module")
def hf_model(config: LlamaConfig) -> LlamaForCausalLM:
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).eval()
    with torch.no_grad():  # RMSNorm gains start at 1: randomise them so they are tested
        for name, p in model.named_parameters():
            if "norm" in name:
                p.uniform_(0.5, 1.5)
    return model


def hf_cos_sin(config: LlamaConfig, t: int) -> tuple[torch.Tensor, torch.Tensor]:
    rotary = hf.LlamaRotaryEmbedding(config)
    return rotary(torch.zeros(1, t, DIM), torch.arange(t)[None])


def additive_causal_mask(t: int) -> torch.Tensor:
    mask = torch.full((t, t), float("-inf")).triu(1)
    return mask[None, None]


def test_rmsnorm_equals_transformers() -> None:
    torch.manual_seed(1)
    theirs = hf.LlamaRMSNorm(DIM, eps=1e-6)
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 1.5)
    ours = lb.RMSNorm(DIM, eps=1e-6)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(3, 5, DIM) * 4 + 1
    torch.testing.assert_close(ours(x), theirs(x))
    # the property: after removing the gain, every vector has root-mean-square 1
    y = ours(x) / ours.weight
    torch.testing.assert_close(y.pow(2).mean(-1), torch.ones(3, 5), atol=1e-4, rtol=0)


def test_rmsnorm_is_not_layernorm() -> None:
    x = torch.randn(4, DIM) + 3.0  # non-zero mean
    rms = lb.RMSNorm(DIM)(x)
    ln = torch.nn.functional.layer_norm(x, (DIM,))
    assert not torch.allclose(rms, ln, atol=1e-2)
    xc = x - x.mean(-1, keepdim=True)  # on centred input they agree up to eps
    torch.testing.assert_close(lb.RMSNorm(DIM, eps=1e-5)(xc), torch.nn.functional.layer_norm(
        xc, (DIM,), eps=1e-5), atol=1e-5, rtol=1e-5)


def test_rope_equals_transformers(config: LlamaConfig) -> None:
    cos_hf, sin_hf = hf_cos_sin(config, T)
    cos, sin = lb.rope_cos_sin(torch.arange(T), DIM // HEADS)
    torch.testing.assert_close(cos, cos_hf[0])
    torch.testing.assert_close(sin, sin_hf[0])
    q, k = torch.randn(2, 1, HEADS, T, DIM // HEADS).unbind(0)
    q_hf, k_hf = hf.apply_rotary_pos_emb(q, k, cos_hf, sin_hf)
    torch.testing.assert_close(lb.apply_rope(q, cos, sin), q_hf)
    torch.testing.assert_close(lb.apply_rope(k, cos, sin), k_hf)


def test_rope_score_depends_only_on_relative_position() -> None:
    torch.manual_seed(2)
    d = 16
    q, k = torch.randn(d), torch.randn(d)

    def score(m: int, n: int) -> torch.Tensor:
        cos, sin = lb.rope_cos_sin(torch.tensor([m, n]), d)
        qm = lb.apply_rope(q, cos[0], sin[0])
        kn = lb.apply_rope(k, cos[1], sin[1])
        return qm @ kn

    for offset in (0, 3, 40, 500):
        torch.testing.assert_close(score(7 + offset, 2 + offset), score(7, 2), atol=1e-4, rtol=1e-4)
    # rotation preserves the norm of each vector
    cos, sin = lb.rope_cos_sin(torch.tensor([123]), d)
    torch.testing.assert_close(lb.apply_rope(q, cos[0], sin[0]).norm(), q.norm())


def test_swiglu_mlp_equals_transformers(config: LlamaConfig, hf_model: LlamaForCausalLM) -> None:
    theirs = hf_model.model.layers[0].mlp
    ours = lb.SwiGLUMLP(DIM, HIDDEN)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(2, T, DIM)
    torch.testing.assert_close(ours(x), theirs(x))


def test_attention_equals_transformers(config: LlamaConfig, hf_model: LlamaForCausalLM) -> None:
    theirs = hf_model.model.layers[0].self_attn
    ours = lb.Attention(DIM, HEADS, KV_HEADS)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(2, T, DIM)
    cos_hf, sin_hf = hf_cos_sin(config, T)
    expected, _ = theirs(x, position_embeddings=(cos_hf, sin_hf),
                         attention_mask=additive_causal_mask(T))
    cos, sin = lb.rope_cos_sin(torch.arange(T), DIM // HEADS)
    torch.testing.assert_close(ours(x, cos, sin, lb.causal_mask(T)), expected)


@pytest.mark.parametrize("n_kv", [1, 2, 4, HEADS])  # MQA, GQA, GQA, MHA
def test_grouped_query_attention_equals_transformers(config: LlamaConfig, n_kv: int) -> None:
    cfg = LlamaConfig(**{**config.to_dict(), "num_key_value_heads": n_kv})
    cfg._attn_implementation = "eager"
    torch.manual_seed(n_kv)
    theirs = hf.LlamaAttention(cfg, layer_idx=0).eval()
    ours = lb.Attention(DIM, HEADS, n_kv)
    ours.load_state_dict(theirs.state_dict())
    assert ours.k_proj.weight.shape == (n_kv * DIM // HEADS, DIM)  # K/V shrink with n_kv
    x = torch.randn(1, T, DIM)
    cos_hf, sin_hf = hf_cos_sin(cfg, T)
    expected, _ = theirs(x, position_embeddings=(cos_hf, sin_hf),
                         attention_mask=additive_causal_mask(T))
    cos, sin = lb.rope_cos_sin(torch.arange(T), DIM // HEADS)
    torch.testing.assert_close(ours(x, cos, sin, lb.causal_mask(T)), expected)


def test_decoder_layer_equals_transformers(config: LlamaConfig,
                                           hf_model: LlamaForCausalLM) -> None:
    theirs = hf_model.model.layers[1]
    ours = lb.DecoderLayer(DIM, HEADS, KV_HEADS, HIDDEN, eps=1e-6)
    missing = ours.load_state_dict(theirs.state_dict(), strict=True)
    assert not missing.missing_keys and not missing.unexpected_keys
    x = torch.randn(2, T, DIM)
    cos_hf, sin_hf = hf_cos_sin(config, T)
    expected = theirs(x, attention_mask=additive_causal_mask(T),
                      position_embeddings=(cos_hf, sin_hf))
    cos, sin = lb.rope_cos_sin(torch.arange(T), DIM // HEADS)
    torch.testing.assert_close(ours(x, cos, sin, lb.causal_mask(T)), expected)


def test_whole_model_logits_equal_transformers(hf_model: LlamaForCausalLM) -> None:
    ours = lb.TinyLlama(VOCAB, DIM, LAYERS, HEADS, KV_HEADS, HIDDEN)
    state = {k.removeprefix("model."): v for k, v in hf_model.state_dict().items()}
    ours.load_state_dict(state, strict=True)
    ids = torch.randint(0, VOCAB, (2, T), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        expected = hf_model(ids).logits
        torch.testing.assert_close(ours(ids), expected, atol=1e-5, rtol=1e-4)


def test_no_biases_and_untied_head(hf_model: LlamaForCausalLM) -> None:
    ours = lb.TinyLlama(VOCAB, DIM, LAYERS, HEADS, KV_HEADS, HIDDEN)
    assert not [n for n, _ in ours.named_parameters() if n.endswith("bias")]
    assert not [n for n, _ in hf_model.named_parameters() if n.endswith("bias")]
    assert ours.lm_head.weight is not ours.embed_tokens.weight
    assert lb.count_params(ours) == lb.count_params(hf_model)
