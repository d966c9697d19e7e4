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
# # Lab: where does the memory go? { #lab }
#
# In this lab you measure every byte a training step holds for a small LLaMA built from a
# config with random weights: parameters, gradients, optimizer states and the activations
# autograd saves for the backward pass. You compare the measurements with the calculator
# from [GPU memory](gpu-memory.md), see what activation checkpointing and fused attention
# change, and plot the range and precision of fp32, fp16 and bf16. Everything runs on the
# CPU in well under a minute. On a GPU the model-state bytes are the same; the saved
# activations can differ a little, because the attention kernels differ.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from snippets.figures import figure_labels
from snippets.training_efficiency.checkpointing import attention_saved_bytes
from snippets.training_efficiency.fp_formats import FORMATS, describe
from snippets.training_efficiency.memory_calculator import (
    RECIPES,
    LlamaShape,
    model_state_bytes,
    parameter_count,
)
from snippets.training_efficiency.memory_measure import (
    MasterWeightAdamW,
    model_state_report,
    saved_activation_bytes,
)

_ = torch.manual_seed(0)
L = figure_labels("lab_memory")  # the figures' words, drawn in each page's language

# %% [markdown]
# ## 1. A small model and the calculator's prediction
#
# The shape below is a scaled-down LLaMA: 4 layers, hidden size 128, grouped-query attention
# with 4 query heads and 2 key/value heads. The calculator counts its parameters from the
# shape alone; the model built by transformers must agree.

# %%
shape = LlamaShape(vocab=2000, hidden=128, intermediate=344, layers=4, heads=4, kv_heads=2)
config = LlamaConfig(
    vocab_size=shape.vocab, hidden_size=shape.hidden, intermediate_size=shape.intermediate,
    num_hidden_layers=shape.layers, num_attention_heads=shape.heads,
    num_key_value_heads=shape.kv_heads, max_position_embeddings=512, use_cache=False,
)
model = LlamaForCausalLM(config)
n_params = sum(p.numel() for p in model.parameters())
print(f"transformers: {n_params:,} parameters; calculator: {parameter_count(shape):,}")

# %% [markdown]
# ## 2. One fp32 AdamW step, measured
#
# Run a forward pass while counting the tensors autograd saves, then the backward pass and
# one optimizer step, and measure what remains allocated.

# %%
ids = torch.randint(0, shape.vocab, (4, 256))
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
loss, activations = saved_activation_bytes(
    lambda: model(input_ids=ids, labels=ids).loss, exclude=model.parameters()
)
loss.backward()
optimizer.step()
measured = model_state_report(model, optimizer)
predicted = model_state_bytes(n_params, RECIPES["fp32 AdamW"])
for key in ("weights", "gradients", "optimizer states"):
    print(f"{key:17} measured {measured[key]:>12,} B   predicted {int(predicted[key]):>12,} B")
print(f"{'activations':17} measured {activations:>12,} B   (batch 4 x 256 tokens)")

# %% [markdown]
# ## 3. Mixed precision with fp32 master weights
#
# The same step with a bf16 model whose optimizer updates an fp32 master copy. The total is
# again 16 bytes per parameter, split differently. The saved activations shrink, but not by
# half: the loss casts the logits to fp32 (`logits.float()` in transformers'
# `ForCausalLMLoss`), and those fp32 tensors are saved too.

# %%
model16 = LlamaForCausalLM(config).to(torch.bfloat16)
trainer = MasterWeightAdamW(model16)
loss16, activations16 = saved_activation_bytes(
    lambda: model16(input_ids=ids, labels=ids).loss, exclude=model16.parameters()
)
loss16.backward()
trainer.step()
measured16 = trainer.report()
predicted16 = model_state_bytes(n_params, RECIPES["mixed-precision AdamW"])
print("activations fp32 / bf16:", f"{activations:,} / {activations16:,} B")

# %% [markdown]
# ## 4. The breakdown, measured next to predicted
#
# Stacked bars: in each pair the first column is the calculator, the second the
# measurement. Activations have no "predicted" bar: they depend on the implementation,
# which is why the page only gives an estimate for them.

# %% alt="Stacked bars of the memory of one training step of a 4-layer LLaMA, predicted and measured, in fp32 with AdamW and in bf16 with fp32 master weights. Measured weights, gradients, master weights and optimizer states match the prediction; activations, which the prediction leaves out, are the largest part. Both precisions need the same memory outside activations."
parts = ["weights", "gradients", "master weights", "optimizer states"]
colors = ["C0", "C1", "C4", "C2", "C3"]
columns = {
    L["fp32_predicted"]: [predicted[p] for p in parts] + [0],
    L["fp32_measured"]: [measured.get(p, 0) for p in parts] + [activations],
    L["bf16_predicted"]: [predicted16[p] for p in parts] + [0],
    L["bf16_measured"]: [measured16[p] for p in parts] + [activations16],
}
fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
for x, (label, values) in enumerate(columns.items()):
    bottom = 0.0
    for part, value, color in zip(parts + ["activations"], values, colors, strict=True):
        ax.bar(x, value / 2**20, bottom=bottom, color=color, label=L[part] if x == 3 else None)
        bottom += value / 2**20
ax.set_xticks(range(len(columns)), list(columns))
ax.set_ylabel(L["mib"])
ax.set_title(L("step_title", layers=4, batch=4, tokens=256))
ax.legend(loc="upper left")
plt.show()

# %% [markdown]
# ## 5. What activation checkpointing and fused attention change
#
# Turn on transformers' activation checkpointing and count the saved bytes again. Then
# compare explicit attention, which keeps the $s \times s$ probability matrix, with PyTorch's
# fused `scaled_dot_product_attention` for growing sequence lengths.

# %% alt="Log-log chart of the bytes one attention call saves for the backward pass, against sequence length from 128 to 1,024. The explicit softmax(QK^T)V saves an amount that grows quadratically; fused scaled_dot_product_attention saves one that grows linearly, dozens of times smaller at 1,024."
model.activation_checkpointing_enable()
model.train()
_, checkpointed = saved_activation_bytes(
    lambda: model(input_ids=ids, labels=ids).loss, exclude=model.parameters()
)
print(f"saved activations: {activations:,} B without, {checkpointed:,} B with checkpointing")

seqs = [128, 256, 512, 1024]
explicit = [attention_saved_bytes(s)["explicit"] for s in seqs]
fused = [attention_saved_bytes(s)["fused SDPA"] for s in seqs]
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
ax.loglog(seqs, explicit, "o-", label=L["explicit"])
ax.loglog(seqs, fused, "s-", label=L["fused"])
ax.set_xlabel(L["sequence_length"])
ax.set_ylabel(L["saved_bytes"])
ax.set_title(L("attention_title", heads=4, dims=16))
ax.legend()
plt.show()

# %% [markdown]
# ## 6. Range and precision of fp32, fp16 and bf16
#
# Store numbers from $10^{-45}$ to $10^{39}$ in each format and plot the relative error of
# what comes back. An error of 1 means the number became 0 (underflow); the curve stops
# where the format overflows to infinity. The flat part is the precision: about $2^{-24}$
# for fp32, $2^{-11}$ for fp16, $2^{-8}$ for bf16.

# %% alt="Log-log chart of the relative error after storing values from 10^−45 to 10^38.5 in fp32, fp16 and bf16. In its normal range each format has a flat band of error set by its mantissa, up to about 6 × 10^−8 (2^−24) for fp32, 5 × 10^−4 (2^−11) for fp16 and 4 × 10^−3 (2^−8) for bf16. Near their smallest subnormals, about 6 × 10^−8 for fp16 and 9 × 10^−41 for bf16, the error rises to 1: the value is lost. fp16 also overflows above 65,504, while bf16 reaches nearly as far as fp32."
values = np.logspace(-45, 38.5, 4000)
fig, ax = plt.subplots(figsize=(6.4, 3.8), layout="constrained")
for name, dtype in FORMATS.items():
    stored = torch.tensor(values, dtype=torch.float64).to(dtype).double().numpy()
    with np.errstate(invalid="ignore"):
        error = np.abs(stored - values) / values
    error[np.isinf(stored)] = np.nan
    ax.loglog(values, np.maximum(error, 1e-12), label=name, linewidth=1)
    info = describe(name)
    print(f"{name}: max {info.max:.4g}, smallest subnormal {info.smallest_subnormal:.3g}, "
          f"eps {info.eps:.3g}")
ax.set_xlabel(L["value"])
ax.set_ylabel(L["relative_error"])
ax.set_ylim(1e-10, 2)
ax.set_title(L["formats_title"])
ax.legend()
plt.show()

# %% [markdown]
# ## What to take away
#
# - The model states are exactly the bytes the calculator predicts: 16 per parameter for
#   both fp32 AdamW and bf16 with fp32 master weights, plus AdamW's tiny `step` counters.
# - Activations are the part that changes with batch and sequence length, and the part that
#   checkpointing and fused attention shrink.
# - fp16 loses small numbers (underflow below about $6\times10^{-8}$) and large ones
#   (overflow above 65504); bf16 keeps fp32's range but rounds every number to about 3
#   significant digits.
#
# Try: double the batch or the sequence length and predict the activation bytes before you
# run the cell; set `kv_heads=4` and compare the parameter count.
