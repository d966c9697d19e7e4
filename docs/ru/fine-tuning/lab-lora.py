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
# # Лабораторная работа: LoRA с нуля { #lab }
#
# Эта лабораторная работа дополняет страницы [Что такое LoRA?](lora.md) и [подводные камни LoRA](lora-pitfalls.md).
# В ней используется тот же `LoRALinear`, что показан на страницах и проверен тестами. Маленькая LLaMA
# сначала обучается на одной игрушечной задаче, а затем адаптируется ко второй двумя способами: полным
# дообучением и LoRA. Мы сравним кривые потерь и число обучаемых параметров, затем сольём адаптер с
# весами и проверим, что выходы не изменились.
#
# Задачи — это последовательности счёта по модулю 32: в задаче A шаг равен 1, в задаче B — 3.

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
# ## 1. «Предобученная» базовая модель { #pretrain }
#
# Полное обучение на задаче A играет роль предобучения.

# %%
base = LlamaForCausalLM(llama_config(SHAPE))
pretrain_losses = train(base, lr=3e-3, shift=1, steps=150, seed=1)
print(f"pre-training loss: {pretrain_losses[0]:.3f} -> {pretrain_losses[-1]:.3f}")

# %% [markdown]
# ## 2. Полное дообучение и LoRA на задаче B { #train }
#
# LoRA оборачивает все линейные слои обоих блоков с рангом 4 и $\alpha = 16$ и замораживает остальное,
# включая эмбеддинги и выходную голову. Скорость обучения у LoRA в 20 раз выше (см.
# [скорость обучения](lora-pitfalls.md#learning-rate)).

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
# ## 3. Кривые потерь и обучаемые параметры { #plot }
#
# Здесь полное дообучение быстрее выучивает задачу B: оно может менять каждый вес. LoRA тоже снижает
# потери, но медленнее, и после 100 шагов они всё ещё более чем в десять раз выше; при этом LoRA обучает
# примерно десятую часть параметров этой маленькой модели. На модели 7B это
# доли процента (см. [подсчёт](lora.md#code)).

# %% alt="Слева: потери на обучении в логарифмическом масштабе за 100 шагов. При полном дообучении они падают стабильно; у LoRA с рангом 4 сначала падают быстро, затем гораздо медленнее и в конце оказываются более чем в десять раз выше. Справа: число обучаемых параметров в логарифмическом масштабе; LoRA на всех линейных слоях обучает примерно в десять раз меньше параметров, чем полное дообучение."
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
# ## 4. Сливаем адаптер с весами { #merge }
#
# Обучение LoRA должно оставить каждый замороженный вес побитно прежним. После `merge()` каждый
# адаптированный слой — обычный линейный слой с $W_0 + \frac{\alpha}{r}BA$. Выходы совпадают с неслитой
# моделью с точностью до округления, а жадные предсказания идентичны.

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
