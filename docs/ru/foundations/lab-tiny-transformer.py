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
# # Лабораторная работа: обучаем крошечный трансформер на этом руководстве { #lab }
#
# В этой лабораторной работе мы соберём трансформер только из декодера, в котором намного
# меньше ста тысяч параметров, — конструкция GPT-2 игрушечного размера (обучаемые позиции,
# LayerNorm, связанные эмбеддинги; в LLaMA вместо них RoPE, RMSNorm и SwiGLU), — и обучим его
# за 150 шагов (на CPU это намного меньше минуты) на английском тексте этого руководства, по
# одному символу на токен. Работа дополняет страницы раздела:
# [самовнимание](self-attention.md) (каузальное внимание внутри каждого блока),
# [токенизация](tokenization.md) (здесь самый грубый токенизатор — по символам),
# [нормализация](normalization.md) (блоки с пре-нормализацией) и
# [кодировщик, декодер, кодировщик-декодер](encoder-decoder.md) (почему каузальная маска
# превращает каждую позицию в обучающий пример). Код модели — в `snippets/foundations/tiny_gpt.py`.

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
# ## 1. Данные: руководство одной длинной строкой { #data }
#
# `guide_text` читает все английские страницы, отбрасывает front matter, код, формулы и
# разметку Markdown и оставляет сам текст. Каждый уникальный символ получает свой номер токена.

# %%
text = tg.guide_text("en")
vocab = tg.CharVocab(text)
data = vocab.encode(text)
print(f"{len(text):,} characters, {len(vocab.chars)} distinct")
print(repr(text[:300]))

# %% [markdown]
# ## 2. Модель { #model }
#
# Эмбеддинги токенов и позиций, два блока с пре-нормализацией (каузальное многоголовое
# внимание и MLP, каждый обёрнут остаточной связью), финальный LayerNorm и выходной слой,
# который повторно использует матрицу эмбеддингов. При малых случайных весах все следующие
# символы примерно равновероятны, поэтому начальные потери близки к $\ln V$ для словаря из
# $V$ символов.

# %%
model = tg.TinyGPT(len(vocab.chars), d_model=48, n_heads=4, n_layers=2, context=48)
print(f"{sum(p.numel() for p in model.parameters()):,} parameters")
x, y = tg.batch(data, model.context, 16, torch.Generator().manual_seed(0))
with torch.no_grad():
    print(f"initial loss {tg.lm_loss(model, x, y).item():.3f}, "
          f"ln V = {math.log(len(vocab.chars)):.3f}")

# %% [markdown]
# Языковой моделью всё это делает каузальная маска. Изменение символа на позиции 40 окна не
# должно затрагивать предсказания на позициях 0–39:

# %%
with torch.no_grad():
    changed = x[:1].clone()
    changed[0, 40] = (changed[0, 40] + 1) % len(vocab.chars)
    moved = (model(changed) - model(x[:1]))[0].abs().amax(dim=-1) > 0
print("positions whose prediction moved:", moved.nonzero().flatten().tolist())

# %% [markdown]
# ## 3. Обучение { #training }
#
# На каждом шаге берутся 16 случайных окон по 48 символов. Каждая позиция каждого окна — обучающий
# пример (предсказать следующий символ), поэтому каузальная модель получает из 16 окон
# 16 × 48 = 768 предсказаний за шаг. Читать кривую помогают две опорные линии: **энтропия
# униграмм** — наилучшие потери модели, которая не смотрит на контекст, а **условная энтропия
# биграмм** — наилучшие потери модели, которая видит только предыдущий символ. Если кривая
# опустилась ниже линии униграмм, модель использует контекст.

# %% alt="Линейный график потерь крошечного трансформера на каждом шаге обучения, исходных и сглаженных, с тремя горизонтальными опорными линиями: ln V вверху, энтропия униграмм и ниже неё условная энтропия биграмм. Потери начинаются с ln V, за первые несколько десятков шагов опускаются ниже линии униграмм, а затем медленно продолжают снижаться к линии биграмм и заканчивают между двумя линиями."
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
# ## 4. Генерация { #sampling }
#
# Генерация дописывает по одному символу, каждый раз сэмплируя его из softmax логитов
# последней позиции, делённых на температуру. За 150 шагов модель выучила, где стоят
# пробелы, и частые сочетания букв, но почти не выучила слов и совсем не выучила смысла:
# потери ниже энтропии униграмм, но всё ещё заметно выше энтропии биграмм.

# %%
for temperature in (0.5, 1.0):
    out = tg.sample(model, vocab.encode("The attention "), 160, temperature=temperature, seed=1)
    print(f"temperature {temperature}: {vocab.decode(out)!r}\n")

# %% [markdown]
# ## 5. Куда смотрит внимание { #attention }
#
# Веса внимания первого блока для одного промпта: строка $i$ — распределение позиции $i$ по
# позициям, которые ей видны. Всё выше диагонали — ровно ноль: это и есть каузальная маска.

# %% alt="Четыре тепловые карты в сетке два на два, по одной на каждую голову внимания первого блока, для промпта из 24 символов. Каждая — сетка 24 на 24 из весов внимания, равных нулю всюду выше диагонали; ниже неё каждая строка отдаёт большую часть веса нескольким предыдущим позициям, а у некоторых голов видны вертикальные полосы: многие строки смотрят на один и тот же предыдущий символ."
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
# ## Что запомнить { #remember }
#
# - Трансформер только из декодера — это эмбеддинги, стек блоков (каузальное внимание + MLP)
#   с остаточными связями и нормализацией и линейное отображение обратно в словарь.
# - Каузальная маска делает каждую позицию примером для предсказания следующего токена и
#   оставляет ранние предсказания независимыми от последующих токенов.
# - Потери начинаются с $\ln V$; если они опускаются ниже энтропий униграмм и биграмм, модель
#   использует контекст. Настоящим моделям нужно гораздо больше шагов и данных, чем 150 шагов
#   этой лабораторной работы.
