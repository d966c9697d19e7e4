"""RoPE scaling: inverse frequencies equal transformers' rope init functions; masks and ALiBi."""

from __future__ import annotations

import math

import pytest
import torch
from transformers import LlamaConfig
from transformers.masking_utils import sliding_window_causal_mask_function
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
from transformers.models.bloom.modeling_bloom import _get_alibi_slopes, build_alibi_tensor
from transformers.models.llama.modeling_llama import (
    LlamaRotaryEmbedding,
    apply_rotary_pos_emb,
)

from snippets.attention.rope_scaling import (
    alibi_bias,
    alibi_slopes,
    apply_rope,
    dynamic_ntk_inv_freq,
    linear_inv_freq,
    ntk_inv_freq,
    pairs_beyond_training,
    rope_inv_freq,
    scaled_inv_freq,
    sliding_window_causal_mask,
    yarn_inv_freq,
)

HEAD_DIM, BASE, TRAINED = 128, 10000.0, 4096


def config(head_dim: int = HEAD_DIM, max_pos: int = TRAINED, **rope) -> LlamaConfig:
    return LlamaConfig(hidden_size=4 * head_dim, num_attention_heads=4, head_dim=head_dim,
                       max_position_embeddings=max_pos,
                       rope_parameters={"rope_theta": BASE, **rope})


def test_default_frequencies_equal_llama_rotary_embedding() -> None:
    hf, _ = LlamaRotaryEmbedding.compute_default_rope_parameters(config(rope_type="default"))
    torch.testing.assert_close(rope_inv_freq(HEAD_DIM, BASE), hf)


@pytest.mark.parametrize("factor", [2.0, 4.0, 8.0])
def test_linear_equals_transformers(factor: float) -> None:
    hf, scale = ROPE_INIT_FUNCTIONS["linear"](config(rope_type="linear", factor=factor), "cpu")
    torch.testing.assert_close(linear_inv_freq(HEAD_DIM, BASE, factor), hf)
    assert scale == 1.0


@pytest.mark.parametrize("factor", [1.0, 2.0, 4.0])
@pytest.mark.parametrize("seq_len", [100, 4096, 6000, 16384])
def test_dynamic_equals_transformers(factor: float, seq_len: int) -> None:
    cfg = config(rope_type="dynamic", factor=factor)
    hf, _ = ROPE_INIT_FUNCTIONS["dynamic"](cfg, "cpu", seq_len=seq_len)
    ours = dynamic_ntk_inv_freq(HEAD_DIM, BASE, seq_len, TRAINED, factor)
    torch.testing.assert_close(ours, hf)
    if seq_len <= TRAINED:  # inside the trained window nothing changes
        torch.testing.assert_close(ours, rope_inv_freq(HEAD_DIM, BASE))


@pytest.mark.parametrize("s", [2.0, 4.0, 8.0])
def test_static_ntk_equals_dynamic_at_s_times_the_trained_length(s: float) -> None:
    cfg = config(rope_type="dynamic", factor=1.0)
    hf, _ = ROPE_INIT_FUNCTIONS["dynamic"](cfg, "cpu", seq_len=int(s * TRAINED))
    ntk = ntk_inv_freq(HEAD_DIM, BASE, s)
    torch.testing.assert_close(ntk, hf)
    default = rope_inv_freq(HEAD_DIM, BASE)
    assert ntk[0] == default[0]  # fastest pair untouched
    torch.testing.assert_close(ntk[-1], default[-1] / s)  # slowest pair slowed by exactly s


@pytest.mark.parametrize(
    "factor,trained,beta_fast,beta_slow",
    [(4.0, 4096, 32, 1), (16.0, 4096, 32, 1), (8.0, 2048, 16, 2), (2.0, 8192, 32, 1)],
)
def test_yarn_equals_transformers(factor, trained, beta_fast, beta_slow) -> None:
    cfg = config(max_pos=int(trained * factor), rope_type="yarn", factor=factor,
                 original_max_position_embeddings=trained, beta_fast=beta_fast,
                 beta_slow=beta_slow)
    hf, hf_scale = ROPE_INIT_FUNCTIONS["yarn"](cfg, "cpu")
    ours, scale = yarn_inv_freq(HEAD_DIM, BASE, factor, trained, beta_fast, beta_slow)
    torch.testing.assert_close(ours, hf)
    assert scale == pytest.approx(hf_scale)
    assert scale == pytest.approx(0.1 * math.log(factor) + 1)


@pytest.mark.parametrize("rope", [{"rope_type": "default"},
                                  {"rope_type": "linear", "factor": 4.0},
                                  {"rope_type": "yarn", "factor": 4.0,
                                   "original_max_position_embeddings": 1024}])
def test_apply_rope_equals_transformers(rope: dict) -> None:
    torch.manual_seed(0)
    head_dim = 32
    cfg = config(head_dim=head_dim, max_pos=4096, **rope)
    rotary = LlamaRotaryEmbedding(cfg)
    q, k = torch.randn(1, 2, 50, head_dim), torch.randn(1, 2, 50, head_dim)
    positions = torch.arange(3000, 3050)
    cos, sin = rotary(q, positions[None])
    hf_q, hf_k = apply_rotary_pos_emb(q, k, cos, sin)
    method = "none" if rope["rope_type"] == "default" else rope["rope_type"]
    trained = rope.get("original_max_position_embeddings", 4096)
    inv = scaled_inv_freq(method, head_dim, BASE, rope.get("factor", 1.0), trained)
    scale = yarn_inv_freq(head_dim, BASE, 4.0, trained)[1] if method == "yarn" else 1.0
    torch.testing.assert_close(apply_rope(q, positions, inv, scale), hf_q, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(apply_rope(k, positions, inv, scale), hf_k, atol=1e-4, rtol=1e-4)


def test_rope_scores_depend_only_on_relative_position() -> None:
    torch.manual_seed(1)
    q, k = torch.randn(64), torch.randn(64)
    inv = rope_inv_freq(64)

    def score(m: int, n: int) -> float:
        qm = apply_rope(q[None], torch.tensor([m]), inv)[0]
        kn = apply_rope(k[None], torch.tensor([n]), inv)[0]
        return float(qm @ kn)

    assert score(10, 3) == pytest.approx(score(1010, 1003), abs=1e-3)


def test_position_interpolation_equals_dividing_positions() -> None:
    torch.manual_seed(2)
    x, positions = torch.randn(7, 16), torch.arange(0, 7000, 1000)
    scaled = apply_rope(x, positions, linear_inv_freq(16, BASE, 4.0))
    divided = apply_rope(x, positions / 4.0, rope_inv_freq(16, BASE))
    torch.testing.assert_close(scaled, divided, atol=1e-4, rtol=1e-4)


def transformers_inv_freq(method: str, factor: float, seq_len: int) -> torch.Tensor:
    """The inverse frequencies transformers uses for each row of the printed table.

    Static NTK is transformers' dynamic scaling (factor 1) evaluated at seq_len = s times the
    trained length (checked above); "dynamic" is the same function at the current length."""
    if method == "none":
        return LlamaRotaryEmbedding.compute_default_rope_parameters(config(rope_type="default"))[0]
    if method == "linear":
        return ROPE_INIT_FUNCTIONS["linear"](config(rope_type="linear", factor=factor), "cpu")[0]
    if method == "ntk":
        cfg = config(rope_type="dynamic", factor=1.0)
        return ROPE_INIT_FUNCTIONS["dynamic"](cfg, "cpu", seq_len=int(factor * TRAINED))[0]
    if method == "dynamic":
        cfg = config(rope_type="dynamic", factor=1.0)
        return ROPE_INIT_FUNCTIONS["dynamic"](cfg, "cpu", seq_len=seq_len)[0]
    cfg = config(max_pos=int(factor * TRAINED), rope_type="yarn", factor=factor,
                 original_max_position_embeddings=TRAINED)
    return ROPE_INIT_FUNCTIONS["yarn"](cfg, "cpu")[0]


@pytest.mark.parametrize("method", ["none", "linear", "ntk", "dynamic", "yarn"])
def test_pairs_beyond_training_counts_by_brute_force(method: str) -> None:
    """Every row of the printed table, recounted by scanning every position with
    transformers' own frequencies. Dynamic scaling changes the frequencies with the length,
    so for it every length from the trained one to 4x is scanned as well."""
    factor, target = 4.0, 4 * TRAINED
    default = transformers_inv_freq("none", factor, TRAINED).double()
    trained_positions = torch.arange(TRAINED + 1, dtype=torch.float64)  # 0..4096
    trained_max = (trained_positions[:, None] * default[None, :]).max(dim=0).values
    if method == "dynamic":
        # The frequencies for a sequence of length L, at every L from 4096 to 16384 (the
        # formula of transformers' dynamic type, vectorised over L and checked against it at
        # every 512th length). Such a sequence uses positions 0..L-1 with the frequencies
        # for L, so its largest angle is (L - 1) * inv_L.
        lengths = torch.arange(TRAINED, target + 1)
        scale = (lengths.double() / TRAINED)[:, None]
        exponent = torch.arange(0, HEAD_DIM, 2, dtype=torch.float64)[None, :] / HEAD_DIM
        inv_per_length = 1.0 / (BASE * scale ** (HEAD_DIM / (HEAD_DIM - 2))) ** exponent
        for row in [*range(0, len(lengths), 512), len(lengths) - 1]:
            hf = transformers_inv_freq("dynamic", factor, int(lengths[row]))
            torch.testing.assert_close(inv_per_length[row].float(), hf)
        reached = ((lengths.double() - 1)[:, None] * inv_per_length).max(dim=0).values
    else:
        inv = transformers_inv_freq(method, factor, target).double()
        positions = torch.arange(target + 1, dtype=torch.float64)  # 0..16384
        reached = (positions[:, None] * inv[None, :]).max(dim=0).values
    never_full_turn = trained_max < 2 * math.pi
    count = int((never_full_turn & (reached > trained_max * (1 + 1e-5))).sum())
    ours = scaled_inv_freq(method, HEAD_DIM, BASE, factor, TRAINED, seq_len=target)
    assert pairs_beyond_training(ours, HEAD_DIM, BASE, TRAINED, target) == count
    assert (count > 0) == (method in ("none", "ntk", "dynamic"))  # what the page says


@pytest.mark.parametrize("window", [1, 3, 8, 40])
def test_sliding_window_mask_equals_transformers(window: int) -> None:
    n = 20
    fn = sliding_window_causal_mask_function(window)
    hf = torch.tensor([[bool(fn(0, 0, torch.tensor(i), torch.tensor(j))) for j in range(n)]
                       for i in range(n)])
    ours = sliding_window_causal_mask(n, window)
    assert torch.equal(ours, hf)
    assert int(ours.sum(dim=1).max()) == min(window, n)  # never more than `window` keys


@pytest.mark.parametrize("n_heads", [8, 12, 16, 6])
def test_alibi_slopes_equal_bloom(n_heads: int) -> None:
    torch.testing.assert_close(alibi_slopes(n_heads), _get_alibi_slopes(n_heads, "cpu"))


def test_alibi_bias_gives_the_same_softmax_as_bloom() -> None:
    torch.manual_seed(3)
    n, heads = 10, 8
    scores = torch.randn(heads, n, n)
    causal = torch.ones(n, n, dtype=torch.bool).tril()
    bloom = build_alibi_tensor(torch.ones(1, n), heads, torch.float32).view(heads, 1, n)
    ours = (scores + alibi_bias(n, heads)).masked_fill(~causal, float("-inf")).softmax(-1)
    ref = (scores + bloom).masked_fill(~causal, float("-inf")).softmax(-1)
    torch.testing.assert_close(ours, ref)  # bloom adds slope * j; softmax ignores -slope * i
