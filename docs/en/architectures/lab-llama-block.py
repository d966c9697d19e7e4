# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lab: build a LLaMA block { #lab }
#
# This lab goes with [the LLaMA architecture](llama.md). It assembles a decoder block from the
# from-scratch parts in `snippets/architectures/llama_block.py`, checks every part against
# Hugging Face transformers' LLaMA with the same random weights, and then looks at two things
# the page only states: how rotary embeddings make attention scores decay with distance, and
# where the parameters and the KV cache of a real LLaMA go.

# %%
import matplotlib.pyplot as plt
import torch
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.models.llama import modeling_llama as hf

from snippets.architectures import llama_block as lb
from snippets.architectures.llama_sizes import (
    LLAMA_1,
    LLAMA_2_70B,
    LLAMA_2_70B_IF_MHA,
    ffn_hidden_dim,
    kv_cache_bytes_per_token,
)
from snippets.architectures.rope import relative_upper_bound, score_of_equal_vectors
from snippets.figures import figure_labels

_ = torch.manual_seed(0)
L = figure_labels("lab_llama_block")  # the figures' words, drawn in each page's language

# %% [markdown]
# ## 1. A tiny LLaMA from a config { #config }
#
# Random weights, 2 layers, 8 query heads sharing 2 key/value heads (grouped-query attention).
# Nothing is downloaded. The RMSNorm gains start at 1, so we randomise them too: otherwise a
# bug in the gain would go unnoticed.

# %%
config = LlamaConfig(
    vocab_size=101, hidden_size=64, intermediate_size=176, num_hidden_layers=2,
    num_attention_heads=8, num_key_value_heads=2, attn_implementation="eager",
)
reference = LlamaForCausalLM(config).eval()
with torch.no_grad():
    for name, p in reference.named_parameters():
        if "norm" in name:
            p.uniform_(0.5, 1.5)
print(reference.model.layers[0])

# %% [markdown]
# ## 2. Part by part against transformers { #parts }
#
# Each from-scratch module has the parameter names of its transformers counterpart, so the
# state dict loads unchanged. `close` reports the largest absolute difference.

# %%
def close(a: torch.Tensor, b: torch.Tensor) -> str:
    return f"max |diff| = {(a - b).abs().max().item():.2e}"


t, head_dim = 9, 64 // 8
x = torch.randn(2, t, 64)
theirs_layer = reference.model.layers[0]

norm = lb.RMSNorm(64)
norm.load_state_dict(theirs_layer.input_layernorm.state_dict())
print("RMSNorm      ", close(norm(x), theirs_layer.input_layernorm(x)))

mlp = lb.SwiGLUMLP(64, 176)
mlp.load_state_dict(theirs_layer.mlp.state_dict())
print("SwiGLU MLP   ", close(mlp(x), theirs_layer.mlp(x)))

cos_hf, sin_hf = hf.LlamaRotaryEmbedding(config)(x, torch.arange(t)[None])
cos, sin = lb.rope_cos_sin(torch.arange(t), head_dim)
print("RoPE cos/sin ", close(cos, cos_hf[0]), close(sin, sin_hf[0]))

additive_mask = torch.full((t, t), float("-inf")).triu(1)[None, None]
layer = lb.DecoderLayer(64, 8, 2, 176)
layer.load_state_dict(theirs_layer.state_dict())
with torch.no_grad():
    expected = theirs_layer(x, attention_mask=additive_mask, position_embeddings=(cos_hf, sin_hf))
    print("decoder layer", close(layer(x, cos, sin, lb.causal_mask(t)), expected))

# %% [markdown]
# ## 3. The whole model { #model }
#
# Embedding, two blocks, final RMSNorm, untied LM head: the logits of the from-scratch model
# match transformers' for a random batch of token ids.

# %%
ours = lb.TinyLlama(101, 64, 2, 8, 2, 176)
ours.load_state_dict({k.removeprefix("model."): v for k, v in reference.state_dict().items()})
ids = torch.randint(0, 101, (2, t))
with torch.no_grad():
    print("logits       ", close(ours(ids), reference(ids).logits))
print("parameters:", lb.count_params(ours), "vs", lb.count_params(reference))

# %% [markdown]
# ## 4. RoPE: scores decay with distance { #rope-decay }
#
# Su et al. (2021) bound the attention score of rotated vectors by a quantity that shrinks with
# the relative distance $|m - n|$. The left plot shows that bound for a head of 128 dimensions;
# the right plot shows the actual score between two all-ones vectors, which oscillates but
# trends down the same way. Nearby tokens are favoured unless the learned $q$ and $k$ say
# otherwise.

# %% alt="Two line charts against the relative distance |m − n| from 0 to 1,024, on a log scale. Left: RoFormer's upper bound for d = 128 falls with distance while its ripples grow. Right: the RoPE score of an all-ones query and key starts at 128 and falls while oscillating more and more: long-range decay is a trend, not a steady fall."
distances = torch.arange(0, 1025)
fig, axes = plt.subplots(1, 2, figsize=(6.4, 3.2), layout="constrained")
axes[0].plot(distances, relative_upper_bound(128, distances))
axes[0].set(xscale="symlog", xlabel=L["distance"], ylabel=L["bound"],
            title=L("bound_title", d=128))
axes[1].plot(distances, score_of_equal_vectors(128, distances), lw=0.8)
axes[1].set(xscale="symlog", xlabel=L["distance"], ylabel="q · R k",
            title=L["score_title"])
plt.show()

# %% [markdown]
# ## 5. Where a LLaMA's parameters and KV cache go { #sizes }
#
# The same formulas as on the page, at full size. In each LLaMA 1 layer the SwiGLU
# feed-forward holds about two thirds of the weights. Grouped-query attention removes about
# 12% of Llama-2-70B's parameters (9.4B of 78.4B) but divides its KV cache by 8.

# %% alt="Left: stacked bars of weights per decoder layer for LLaMA-7B, 13B, 33B and 65B; the SwiGLU feed-forward block holds two thirds of every layer and attention one third. Right: horizontal bars of fp16 KV cache per token, from 512 KiB for LLaMA-7B to 2,560 KiB for LLaMA-65B; Llama-2-70B with grouped-query attention needs 320 KiB, an eighth of the 2,560 KiB the same model would need with multi-head attention, and less than LLaMA-7B."
names, attention, ffn = [], [], []
for s in LLAMA_1:
    names.append(s.name)
    attention.append(4 * s.dim * s.dim / 1e6)
    ffn.append(3 * s.dim * ffn_hidden_dim(s.dim) / 1e6)
fig, axes = plt.subplots(1, 2, figsize=(6.4, 3.6), layout="constrained")
axes[0].bar([n.removeprefix("LLaMA-") for n in names], attention, label=L["attention"])
axes[0].bar([n.removeprefix("LLaMA-") for n in names], ffn, bottom=attention, label=L["swiglu"])
axes[0].set(ylabel=L["weights_per_layer"], title=L["decoder_layer"])
axes[0].legend(loc="upper left")
cache = [kv_cache_bytes_per_token(s) / 2**10 for s in [*LLAMA_1, LLAMA_2_70B_IF_MHA, LLAMA_2_70B]]
labels = [*names, "70B, MHA", "Llama-2-70B, GQA"]
axes[1].barh(labels, cache)
axes[1].set(xlabel=L["kib_per_token"], title=L["kv_per_token"])
plt.show()

# %% [markdown]
# ## 6. Try it { #try-it }
#
# - Set `num_key_value_heads=8` (multi-head) or `1` (multi-query) in the config of section 1
#   and in `lb.DecoderLayer(64, 8, ..., 176)`: the parts still match, and `k_proj` changes shape.
# - Replace `lb.causal_mask(t)` by a full mask of ones: the layer no longer matches
#   transformers, whose LLaMA is always causal.
# - Change the RoPE base from 10000 to 500000 in `relative_upper_bound` and see how much slower
#   the bound decays: a larger base is one way to support longer contexts.
