"""GLU variants: formulas against PyTorch and transformers, and the parameter budget."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from transformers import GlmConfig, LlamaConfig
from transformers.activations import ACT2FN
from transformers.models.glm.modeling_glm import GlmMLP
from transformers.models.llama.modeling_llama import LlamaMLP

from snippets.architectures import glu
from snippets.architectures.llama_sizes import ffn_hidden_dim

DIM, HIDDEN = 48, 128


def test_glu_equals_torch_glu() -> None:
    """torch.nn.functional.glu(cat[a, b]) = a * sigmoid(b): our gate is on the W branch."""
    torch.manual_seed(0)
    ffn = glu.GatedFFN(DIM, HIDDEN, "GLU")
    x = torch.randn(4, DIM)
    hidden = F.glu(torch.cat([ffn.v(x), ffn.w(x)], dim=-1), dim=-1)
    torch.testing.assert_close(ffn(x), ffn.w2(hidden))


@pytest.mark.parametrize(("variant", "act"), [
    ("Bilinear", lambda z: z), ("ReGLU", torch.relu),
    ("GEGLU", lambda z: 0.5 * z * (1 + torch.erf(z / 2**0.5))),  # exact GELU
    ("SwiGLU", lambda z: z * torch.sigmoid(z)),  # Swish with beta = 1
])
def test_each_variant_matches_its_formula(variant: str, act) -> None:
    torch.manual_seed(1)
    ffn = glu.GatedFFN(DIM, HIDDEN, variant)
    x = torch.randn(4, DIM)
    expected = (act(x @ ffn.w.weight.T) * (x @ ffn.v.weight.T)) @ ffn.w2.weight.T
    torch.testing.assert_close(ffn(x), expected)


def test_swiglu_equals_transformers_llama_mlp() -> None:
    torch.manual_seed(2)
    cfg = LlamaConfig(hidden_size=DIM, intermediate_size=HIDDEN, num_attention_heads=4,
                      hidden_act="silu")
    theirs = LlamaMLP(cfg)
    ours = glu.GatedFFN(DIM, HIDDEN, "SwiGLU")
    ours.load_state_dict({"w.weight": theirs.gate_proj.weight, "v.weight": theirs.up_proj.weight,
                          "w2.weight": theirs.down_proj.weight})
    x = torch.randn(3, 5, DIM)
    torch.testing.assert_close(ours(x), theirs(x))


def test_swiglu_equals_transformers_glm_fused_mlp() -> None:
    """GLM-4 / ChatGLM2 keep gate and up in one matrix and split the output in two."""
    torch.manual_seed(3)
    cfg = GlmConfig(hidden_size=DIM, intermediate_size=HIDDEN, num_attention_heads=4,
                    num_key_value_heads=2, head_dim=12, hidden_act="silu")
    theirs = GlmMLP(cfg)
    gate, up = theirs.gate_up_proj.weight.chunk(2, dim=0)
    ours = glu.GatedFFN(DIM, HIDDEN, "SwiGLU")
    ours.load_state_dict({"w.weight": gate, "v.weight": up, "w2.weight": theirs.down_proj.weight})
    x = torch.randn(3, 5, DIM)
    torch.testing.assert_close(ours(x), theirs(x))


def test_geglu_uses_the_same_gelu_as_transformers() -> None:
    z = torch.linspace(-4, 4, 101)
    torch.testing.assert_close(glu.GATES["GEGLU"](z), ACT2FN["gelu"](z))
    torch.testing.assert_close(glu.GATES["SwiGLU"](z), ACT2FN["silu"](z))


@pytest.mark.parametrize("dim", [96, 384, 768, 1536])  # 8 * dim divisible by 3
def test_matched_width_has_the_parameters_of_a_4d_relu_ffn(dim: int) -> None:
    hidden = glu.matched_hidden(dim)
    assert hidden == int(hidden)
    with torch.device("meta"):  # shapes only: no memory, no random initialisation
        relu = glu.ReluFFN(dim, 4 * dim)
        gated = {variant: glu.GatedFFN(dim, int(hidden), variant) for variant in glu.GATES}
    for ffn in gated.values():
        assert glu.n_params(ffn) == glu.n_params(relu)
    assert glu.n_params(relu) == 8 * dim * dim  # closed form: 2 matrices of d x 4d


def test_llama_width_is_the_matched_width_rounded_up() -> None:
    for dim in (4096, 5120, 6656, 8192):
        exact = glu.matched_hidden(dim)
        width = ffn_hidden_dim(dim, multiple_of=256)
        assert width % 256 == 0 and exact <= width < exact + 256
