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
# # Lab: attention at scale { #lab }
#
# This lab goes with the section's three questions: [speeding up attention](mha-speedups.md),
# [infinitely long input](infinite-context.md) and [longer context](longer-context.md). It
# times decoding with and without a KV cache, sizes the cache of Llama-2-70B's shape for every
# number of KV heads, measures the memory of naive and blockwise attention, and shows how RoPE
# scaling changes attention over long distances. Timings depend on the machine that runs the
# lab; the memory and RoPE results do not.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snippets.attention.figures import decode_step_times
from snippets.attention.flash import blockwise_attention, memory_curve, naive_attention
from snippets.attention.gqa import GIB, LLAMA2_70B
from snippets.attention.kv_cache import (
    TinyDecoder,
    generate_with_cache,
    generate_without_cache,
    kv_cache_bytes,
)
from snippets.attention.rope_scaling import (
    pairs_beyond_training,
    rope_inv_freq,
    scaled_inv_freq,
    yarn_inv_freq,
)
from snippets.figures import figure_labels

_ = torch.manual_seed(0)
L = figure_labels("attention")  # the figures' words, drawn in each page's language
torch.set_num_threads(1)  # tiny tensors: one thread is faster and steadier on a shared CPU

# %% [markdown]
# ## 1. The KV cache: same tokens, less work { #kv-cache }
#
# A random 2-layer decoder generates 32 tokens greedily, once recomputing the whole prefix at
# every step and once with a cache. The tokens must be identical; the time is not.

# %%
import time

model = TinyDecoder(vocab_size=500, d_model=128, n_heads=8, n_layers=2, max_len=256).eval()
prompt = torch.randint(0, 500, (1, 16))
outputs = {}
for name, generate in [("without cache", generate_without_cache), ("with cache", generate_with_cache)]:
    start = time.perf_counter()
    outputs[name] = generate(model, prompt, steps=32)
    print(f"{name:>13}: {time.perf_counter() - start:.3f} s")
print("identical tokens:", torch.equal(outputs["without cache"], outputs["with cache"]))

# %% [markdown]
# Per step, the cost without a cache grows with the context, because every layer re-runs on
# every earlier token; with a cache only the attention read grows. Each point is the best of
# three runs.

# %% alt="Line chart of the time to generate the next token against the number of tokens already in the context, from 32 to 512. Without a KV cache the time grows steeply with the context; with the cache it grows only slightly and stays far below."
lengths = [32, 128, 256, 512]
steps = decode_step_times(lengths, repeats=3, d_model=128, n_layers=2)
plt.figure(figsize=(5.5, 3.4), layout="constrained")
for name, values in steps.items():
    plt.plot(lengths, [1000 * s for s in values], marker="o", label=L[name])
plt.xlabel(L["tokens_in_context"])
plt.ylabel(L["next_token_ms"])
plt.legend()
plt.grid(alpha=0.3)
plt.show()

# %% [markdown]
# ## 2. KV-cache size against the number of KV heads { #gqa }
#
# Llama-2-70B's shape (80 layers, 64 query heads of dimension 128) with 64 KV heads is MHA,
# with 8 it is the GQA-8 that Llama 2 ships, with 1 it is MQA. The cache is linear in the
# number of KV heads and in the context length.

# %% alt="Log-log chart of the fp16 KV cache of one Llama-2-70B sequence against the number of KV heads, from 1 to 64, for 4K, 32K and 128K tokens: the memory is proportional to both. A dashed line marks 80 GB, the memory of one large GPU: with 64 heads (MHA) the cache of one 32K-token sequence alone, 80 GiB, is above it, while with 8 heads (GQA-8) even 128K tokens stay below it."
shape = LLAMA2_70B
kv_heads = [64, 32, 16, 8, 4, 2, 1]
plt.figure(figsize=(5.5, 3.4), layout="constrained")
for context in [4096, 32768, 131072]:
    gib = [kv_cache_bytes(shape["n_layers"], h, shape["head_dim"], context) / GIB for h in kv_heads]
    plt.plot(kv_heads, gib, marker="o", label=L("k_tokens", k=context // 1024))
plt.axhline(80e9 / GIB, color="grey", ls="--", lw=1)
plt.xscale("log", base=2)
plt.yscale("log")
plt.xticks(kv_heads, [str(h) for h in kv_heads])
plt.xlabel(L["kv_heads"])
plt.ylabel(L["kv_cache_sequence"])
plt.legend()
plt.grid(alpha=0.3, which="both")
plt.show()
for h in (64, 8, 1):
    print(f"{h:>2} KV heads: {kv_cache_bytes(80, h, 128, 1) // 1024} KiB per token")

# %% [markdown]
# ## 3. Naive versus blockwise attention memory { #memory }
#
# The blockwise (FlashAttention-style) result equals PyTorch's attention; its peak memory is
# the output plus a fixed workspace, while naive attention stores $N \times N$ scores. On a
# log-log plot naive attention has slope 2; the blockwise peak minus its output is the same
# at every length.

# %% alt="Log-log chart of the peak memory of one attention head against sequence length 256, 512 and 1,024. The naive implementation's peak grows about fourfold each time the length doubles; blockwise attention's peak stays far lower and grows slowly."
q, k, v = (torch.randn(2, 4, 300, 64) for _ in range(3))
reference = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
print("blockwise == SDPA:", torch.allclose(blockwise_attention(q, k, v, causal=True), reference, atol=1e-5))
print("naive == SDPA:", torch.allclose(naive_attention(q, k, v, causal=True), reference, atol=1e-5))

lengths = [256, 512, 1024]
curve = memory_curve(lengths)
plt.figure(figsize=(5.5, 3.4), layout="constrained")
for name, values in curve.items():
    plt.loglog(lengths, [b / 2**20 for b in values], marker="o", label=L[name], base=2)
plt.xticks(lengths, [str(n) for n in lengths])
plt.xlabel(L["sequence_length"])
plt.ylabel(L("peak_mib", d=64))
plt.legend()
plt.grid(alpha=0.3, which="both")
plt.show()
naive = curve["naive"]
slope = math.log(naive[-1] / naive[-2]) / math.log(lengths[-1] / lengths[-2])
print(f"naive: memory grows like N^{slope:.2f} between {lengths[-2]} and {lengths[-1]}")
for n, peak in zip(lengths, curve["blockwise"]):
    print(f"blockwise, N = {n:>4}: peak - output = {peak - n * 64 * 4:,} bytes")

# %% [markdown]
# ## 4. RoPE scaling at long distances { #rope }
#
# A Llama-2-7B head (d = 128, base 10000) was trained on 4096 tokens. Each panel follows one
# slow frequency pair up to position 16384: the dashed line is the largest angle the pair
# reached in training. A curve above it is an angle the model never saw, so the attention score
# between a query and a key that far apart contains a term it was never trained on. Without scaling both
# pairs leave the trained range; linear interpolation and YaRN (whose curves coincide for these
# slow pairs) keep them inside; NTK-aware scaling keeps the slowest pair inside but not pair 50.

# %% alt="Two panels of the RoPE rotation angle against position, up to 16,384 (four times the trained 4,096), for dimension pairs 50 and 63, without scaling and with linear, NTK-aware and YaRN scaling. Without scaling the angle passes the largest angle seen in training (dashed line) at position 4,096. For pair 63 all three methods end exactly at that angle; for pair 50 linear and YaRN do, and NTK-aware overshoots it."
head_dim, base, trained, factor = 128, 10000.0, 4096, 4.0
methods = ["none", "linear", "ntk", "yarn"]
positions = torch.arange(0, 4 * trained + 1, 64).float()
default = rope_inv_freq(head_dim, base)
fig, axes = plt.subplots(1, 2, figsize=(6.4, 3.4), layout="constrained")
for ax, pair in zip(axes, [50, 63]):
    for method in methods:
        inv = scaled_inv_freq(method, head_dim, base, factor, trained)
        ax.plot(positions, positions * inv[pair], label=L[f"method_{method}"])
    ax.axhline(trained * default[pair].item(), color="grey", ls="--", lw=1)
    ax.axvline(trained, color="grey", ls=":", lw=1)
    ax.set_title(L("pair_title", pair=pair, wavelength=2 * math.pi / default[pair].item()))
    ax.set_xlabel(L["position"])
    ax.grid(alpha=0.3)
axes[0].set_ylabel(L["rotation_angle"])
axes[0].legend()
plt.show()
print(f"YaRN multiplies cos and sin by {yarn_inv_freq(head_dim, base, factor, trained)[1]:.4f}")

# %% [markdown]
# How many slow pairs (those that never complete a turn in 4096 tokens) rotate past their
# trained angle at $s$ times the trained length, for each method. The answer does not depend
# on $s$: each method's design, not the factor, decides which pairs stay inside.

# %%
print(f"{'s':>3} " + " ".join(f"{m:>7}" for m in ["none", "linear", "ntk", "yarn"]))
for s in [2, 4, 8, 16]:
    counts = [
        pairs_beyond_training(scaled_inv_freq(m, head_dim, base, float(s), trained), head_dim,
                              base, trained, s * trained)
        for m in ["none", "linear", "ntk", "yarn"]
    ]
    print(f"{s:>3} " + " ".join(f"{c:>7}" for c in counts))
slow = int((rope_inv_freq(head_dim, base) * trained < 2 * math.pi).sum())
print(f"slow pairs: {slow} of {head_dim // 2}")

# %% [markdown]
# ## What to remember { #remember }
#
# - A KV cache gives the same tokens for less work; its size is
#   2 × layers × KV heads × head dim × tokens × bytes, linear in context and batch.
# - GQA and MQA divide the cache by the number of query heads per KV head.
# - Blockwise attention with an online softmax is exact and needs memory linear in $N$.
# - Without scaling, RoPE's slow pairs leave the trained range beyond the trained length;
#   interpolation and YaRN keep them inside, NTK-aware scaling only partly.
