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
# # 实验：从零实现 LoRA { #lab }
#
# 本实验配合 [什么是 LoRA？](lora.md) 和 [LoRA 的坑](lora-pitfalls.md)，用的正是页面上展示、经过测试的
# `LoRALinear`。先在一个玩具任务上训练一个小 LLaMA，再用两种方式把它适配到第二个任务：全量微调和 LoRA。
# 实验比较两者的损失曲线和可训练参数量，然后合并 adapter，检查输出不变。
#
# 任务是模 32 的计数序列：任务 A 每步加 1，任务 B 每步加 3。

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
# ## 1. 一个“预训练”的基座模型 { #pretrain }
#
# 在任务 A 上训练全部参数，以此充当预训练。

# %%
base = LlamaForCausalLM(llama_config(SHAPE))
pretrain_losses = train(base, lr=3e-3, shift=1, steps=150, seed=1)
print(f"pre-training loss: {pretrain_losses[0]:.3f} -> {pretrain_losses[-1]:.3f}")

# %% [markdown]
# ## 2. 在任务 B 上对比全量微调与 LoRA { #train }
#
# LoRA 以秩 4、$\alpha = 16$ 包装两个块中的所有线性层，其余参数（包括 embedding 和输出头）全部冻结。LoRA 的
# 学习率是全量微调的 20 倍（见[学习率](lora-pitfalls.md#learning-rate)）。

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
# ## 3. 损失曲线与可训练参数 { #plot }
#
# 在这里，全量微调拟合任务 B 更快，因为它能改动每一个权重。LoRA 也能降低损失，但降得更慢，100 步之后
# 仍比全量微调高出十倍以上；它只训练了这个小模型约十分之一的参数。在 7B 模型上这个比例不到百分之一（见[参数量](lora.md#code)）。

# %% alt="左图：100 步内的训练损失，对数刻度。全量微调的损失稳定下降；秩为 4 的 LoRA 起初下降很快，随后下降慢得多，最终是全量微调的十倍以上。右图：可训练参数量，对数刻度；作用于所有线性层的 LoRA 只训练全量微调约十分之一的参数。"
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
# ## 4. 合并 adapter { #merge }
#
# LoRA 训练必须让每个冻结权重逐位不变。`merge()` 之后，每个被适配的层都是权重为
# $W_0 + \frac{\alpha}{r}BA$ 的普通线性层：输出与未合并的模型在浮点舍入范围内一致，贪心预测完全相同。

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
