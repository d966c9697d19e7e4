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
# # Lab: train a tiny transformer on this guide { #lab }
#
# This lab builds a decoder-only transformer of well under a hundred thousand parameters, the
# design of GPT-2 at toy size (learned positions, LayerNorm, tied embeddings; LLaMA swaps in
# RoPE, RMSNorm and SwiGLU), and trains it for 150 steps, well under a minute on a CPU, on the
# English text of this guide, one character per token. It goes with the section's pages:
# [self-attention](self-attention.md) (the causal attention inside each block),
# [tokenization](tokenization.md) (here the crudest tokenizer: characters),
# [normalization](normalization.md) (pre-norm blocks) and
# [encoder, decoder, encoder–decoder](encoder-decoder.md) (why the causal mask lets every
# position be a training example). The model code is in `snippets/foundations/tiny_gpt.py`.

# %%
import math
import time

import matplotlib.pyplot as plt
import torch

from snippets.figures import figure_labels
from snippets.foundations import tiny_gpt as tg

L = figure_labels("lab_tiny_transformer")  # the figures' words, drawn in each page's language
torch.set_num_threads(1)  # tiny matrices: one thread is faster on a shared two-core machine
_ = torch.manual_seed(0)

# %% [markdown]
# ## 1. The data: the guide as one long string { #data }
#
# `guide_text` reads every English page, drops front matter, code, formulas and Markdown
# markup, and keeps the prose. Each distinct character becomes one token id.

# %%
text = tg.guide_text("en")
vocab = tg.CharVocab(text)
data = vocab.encode(text)
print(f"{len(text):,} characters, {len(vocab.chars)} distinct")
print(repr(text[:300]))

# %% [markdown]
# ## 2. The model { #model }
#
# Token and position embeddings, two pre-norm blocks (causal multi-head attention and an
# MLP, each wrapped in a residual connection), a final LayerNorm, and an output layer that
# reuses the embedding matrix. With small random weights every next character is about
# equally likely, so the first loss is close to $\ln V$ for a vocabulary of $V$ characters.

# %%
model = tg.TinyGPT(len(vocab.chars), d_model=48, n_heads=4, n_layers=2, context=48)
print(f"{sum(p.numel() for p in model.parameters()):,} parameters")
x, y = tg.batch(data, model.context, 16, torch.Generator().manual_seed(0))
with torch.no_grad():
    print(f"initial loss {tg.lm_loss(model, x, y).item():.3f}, "
          f"ln V = {math.log(len(vocab.chars)):.3f}")

# %% [markdown]
# The causal mask is what makes this a language model. Changing the character at position 40
# of a window must leave the predictions at positions 0–39 untouched:

# %%
with torch.no_grad():
    changed = x[:1].clone()
    changed[0, 40] = (changed[0, 40] + 1) % len(vocab.chars)
    moved = (model(changed) - model(x[:1]))[0].abs().amax(dim=-1) > 0
print("positions whose prediction moved:", moved.nonzero().flatten().tolist())

# %% [markdown]
# ## 3. Training { #training }
#
# Each step takes 16 random windows of 48 characters. Every position of every window is a
# training example (predict the next character), which is why a causal model gets
# 16 × 48 = 768 predictions per step from 16 windows. Two reference lines help read the
# curve: the **unigram entropy** is the best loss of a model that ignores the context, and
# the **bigram conditional entropy** the best loss of a model that sees only the previous
# character. A curve that goes below the unigram line is using the context.

# %% alt="Line chart of the training loss per step of the tiny transformer, raw and smoothed, with three horizontal reference lines: ln V at the top, the unigram entropy, and the lower bigram conditional entropy. The loss starts at ln V, falls below the unigram line within the first few dozen steps, and then keeps falling slowly towards the bigram line, ending between the two."
start = time.perf_counter()
losses = tg.train(model, data, steps=150, batch_size=16, lr=3e-3, seed=0)
seconds = time.perf_counter() - start
unigram, bigram = tg.ngram_entropy(data, len(vocab.chars))
window = 20
smooth = [sum(losses[max(0, i - window + 1): i + 1]) / len(losses[max(0, i - window + 1): i + 1])
          for i in range(len(losses))]

plt.figure(figsize=(6, 3.6), layout="constrained")
plt.plot(losses, color="0.75", label=L["loss_step"])
plt.plot(smooth, label=L("mean_last", n=window))
for level, key, style, where in [(math.log(len(vocab.chars)), "uniform", ":", "top"),
                                 (unigram, "unigram", "--", "bottom"),
                                 (bigram, "bigram", "-.", "bottom")]:
    plt.axhline(level, linestyle=style, color="black", linewidth=1)
    shift = 0.05 if where == "bottom" else -0.05  # label above the line, or below it
    plt.text(len(losses) - 1, level + shift, L[key], ha="right", va=where)
plt.xlabel(L["step"])
plt.ylabel(L["cross_entropy"])
plt.title(L["loss_title"])
plt.legend(loc="center right")
plt.show()
print(f"last 20 steps: mean loss {smooth[-1]:.2f}; unigram {unigram:.2f}, "
      f"bigram {bigram:.2f}; {len(losses)} steps in {seconds:.0f} s")

# %% [markdown]
# ## 4. Sampling { #sampling }
#
# Generation appends one character at a time, each drawn from the softmax of the last
# position's logits divided by a temperature. After 150 steps the model has learned where
# spaces go and common letter combinations, hardly any words and no meaning: the loss is
# below the unigram entropy but still well above the bigram one.

# %%
for temperature in (0.5, 1.0):
    out = tg.sample(model, vocab.encode("The attention "), 160, temperature=temperature, seed=1)
    print(f"temperature {temperature}: {vocab.decode(out)!r}\n")

# %% [markdown]
# ## 5. What the attention looks at { #attention }
#
# The first block's attention weights for one prompt: row $i$ is the distribution of
# position $i$ over the positions it may see. Everything above the diagonal is exactly
# zero: that is the causal mask.

# %% alt="Four heat maps in a two-by-two grid, one per attention head of the first block, for a 24-character prompt. Each is a 24 by 24 grid of attention weights, zero everywhere above the diagonal; below it, each row puts most of its weight on a few earlier positions, and some heads form vertical stripes by attending to the same earlier character from many rows."
prompt = vocab.encode("The model predicts text.")
with torch.no_grad():
    model(prompt[None])
weights = model.blocks[0].attn.weights[0]  # (heads, n, n)
rows = (weights.shape[0] + 1) // 2
fig, axes = plt.subplots(rows, 2, figsize=(6.2, 3.0 * rows), squeeze=False,
                         layout="constrained")
for h, ax in enumerate(axes.flat):
    if h >= weights.shape[0]:
        ax.axis("off")
        continue
    ax.imshow(weights[h].numpy(), cmap="viridis", vmin=0, vmax=1)
    ax.set_title(L("head", h=h))
    ax.set_xlabel(L["key_position"])
    ax.set_ylabel(L["query_position"])
plt.show()
print("largest weight above the diagonal:",
      weights.triu(diagonal=1).max().item())

# %% [markdown]
# ## What to remember { #remember }
#
# - A decoder-only transformer is embeddings, a stack of (causal attention + MLP) blocks
#   with residuals and normalisation, and a linear map back to the vocabulary.
# - The causal mask makes every position a next-token example and keeps earlier
#   predictions independent of later tokens.
# - The loss starts at $\ln V$; beating the unigram and bigram entropies shows the model is
#   using its context. Real models need far more steps and data than this lab's 150.
