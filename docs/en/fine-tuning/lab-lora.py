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
# # Lab: LoRA from scratch { #lab }
#
# This lab goes with [What is LoRA?](lora.md) and [LoRA pitfalls](lora-pitfalls.md). It uses the
# same `LoRALinear` the pages show and the tests check. A tiny LLaMA is first trained on one toy task
# and then adapted to a second task in two ways: full fine-tuning and LoRA. The lab compares the loss
# curves and the number of trainable parameters, then merges the adapter and checks that the outputs
# do not change.
#
# The tasks are sequences that count modulo 32. Task A counts in steps of 1, task B in steps of 3.

# %%
import copy

import matplotlib.pyplot as plt
import torch
from transformers import LlamaForCausalLM

from snippets.figures import figure_labels
from snippets.fine_tuning.lora import ALL_LINEAR, apply_lora, lora_layers
from snippets.fine_tuning.shapes import DecoderShape, llama_config

L = figure_labels("lab_lora")  # the figures' words, drawn in each page's language
torch.set_num_threads(1)  # tiny model: one thread is fastest and deterministic
_ = torch.manual_seed(0)
SHAPE = DecoderShape(vocab_size=32, hidden_size=64, intermediate_size=128,
                     num_layers=2, num_heads=4, num_kv_heads=2)


def batch(shift: int, g: torch.Generator, n: int = 16, length: int = 10) -> torch.Tensor:
    """Sequences that count in steps of `shift` modulo the vocabulary size."""
    start = torch.randint(0, SHAPE.vocab_size, (n, 1), generator=g)
    return (start + shift * torch.arange(length)) % SHAPE.vocab_size


def train(model: torch.nn.Module, lr: float, shift: int, steps: int, seed: int = 0) -> list[float]:
    g = torch.Generator().manual_seed(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    losses = []
    for _ in range(steps):
        ids = batch(shift, g)
        loss = model(input_ids=ids, labels=ids).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


print("task A (shift 1):", batch(1, torch.Generator().manual_seed(0))[0].tolist())
print("task B (shift 3):", batch(3, torch.Generator().manual_seed(0))[0].tolist())

# %% [markdown]
# ## 1. A "pretrained" base model { #pretrain }
#
# Full training on task A stands in for pre-training.

# %%
base = LlamaForCausalLM(llama_config(SHAPE))
pretrain_losses = train(base, lr=3e-3, shift=1, steps=150, seed=1)
print(f"pre-training loss: {pretrain_losses[0]:.3f} -> {pretrain_losses[-1]:.3f}")

# %% [markdown]
# ## 2. Full fine-tuning versus LoRA on task B { #train }
#
# LoRA wraps every linear layer of both blocks with rank 4 and $\alpha = 16$, and freezes the rest,
# embeddings and output head included. LoRA gets a learning rate 20 times higher (see
# [learning rate](lora-pitfalls.md#learning-rate)).

# %%
full = copy.deepcopy(base).train()
lora = apply_lora(copy.deepcopy(base), ALL_LINEAR, r=4, alpha=16).train()
frozen_before = {n: p.detach().clone() for n, p in lora.named_parameters() if not p.requires_grad}

counts = {
    "full fine-tuning": sum(p.numel() for p in full.parameters() if p.requires_grad),
    "LoRA r=4, all linear": sum(p.numel() for p in lora.parameters() if p.requires_grad),
}
for name, n in counts.items():
    print(f"{name:<22} {n:>7,} trainable parameters")

full_losses = train(full, lr=1e-3, shift=3, steps=100)
lora_losses = train(lora, lr=2e-2, shift=3, steps=100)
print(f"final loss: full {full_losses[-1]:.3f}, LoRA {lora_losses[-1]:.3f}")

# %% [markdown]
# ## 3. Loss curves and trainable parameters { #plot }
#
# Full fine-tuning fits task B faster here: it can change every weight. LoRA lowers the loss too,
# but more slowly, and after 100 steps it is still more than ten times higher; it trains about a
# tenth of the parameters of this small model. On a 7B model the share is a
# fraction of a percent (see [the counts](lora.md#code)).

# %% alt="Left: training loss on a log scale over 100 steps. Full fine-tuning falls steadily; LoRA with rank 4 drops quickly at first, then falls much more slowly and ends more than ten times higher. Right: trainable parameters on a log scale; LoRA on all linear layers trains about a tenth as many as full fine-tuning."
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(6.4, 3.4), layout="constrained",
                               gridspec_kw={"width_ratios": [3, 2]})
ax1.plot(full_losses, label=L("full", lr="1e-3"))
ax1.plot(lora_losses, label=L("lora", r=4, lr="2e-2"))
ax1.set_yscale("log")
ax1.set_xlabel(L["step"])
ax1.set_ylabel(L["loss"])
ax1.legend()
ax2.bar([L[name] for name in counts], list(counts.values()), color=["C0", "C1"])
ax2.set_yscale("log")
ax2.set_ylabel(L["trainable"])
plt.show()

# %% [markdown]
# ## 4. Merge the adapter { #merge }
#
# LoRA training must leave every frozen weight bit-identical. After `merge()`, each adapted layer is a
# plain linear layer with $W_0 + \frac{\alpha}{r}BA$. The outputs match the unmerged model up to float
# rounding, and the greedy predictions are identical.

# %%
unchanged = all(torch.equal(p, frozen_before[n])
                for n, p in lora.named_parameters() if not p.requires_grad)
print("frozen weights unchanged by LoRA training:", unchanged)

val = batch(3, torch.Generator().manual_seed(123))
lora.eval()
with torch.no_grad():
    unmerged = lora(input_ids=val).logits
    for layer in lora_layers(lora):
        layer.merge()  # W0 += (alpha / r) B A
    merged = lora(input_ids=val).logits
print(f"max |logit difference| after merging: {(unmerged - merged).abs().max().item():.1e}")
print("same greedy predictions:", torch.equal(unmerged.argmax(-1), merged.argmax(-1)))
accuracy = (merged[:, :-1].argmax(-1) == val[:, 1:]).float().mean().item()
print(f"next-token accuracy of the merged model on task B: {accuracy:.1%}")
