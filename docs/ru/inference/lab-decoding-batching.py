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
# # Лабораторная работа: декодирование и батчинг { #lab }
#
# Эта лабораторная работа относится к двум вопросам:
# [галлюцинации и зацикливание](hallucination-repetition.md) и
# [одновременные запросы](serving.md). В ней запускается тот же код, что и на страницах.
# Сначала — модель, которая зацикливается при жадном декодировании, и то, что с циклом делает
# каждая настройка декодирования. Затем — сравнение обработки по одному запросу с батчингом на
# крошечной Llama, измеренное на этой машине. Напоследок — сколько памяти экономит страничный KV-кэш.
#
# Время зависит от машины. Ячейка с пропускной способностью считает процессорное время
# этого процесса, а не реальное время (wall-clock), поэтому чужие задачи на общей машине мешают ей
# гораздо меньше; на свободной машине с одним потоком оба времени совпадают. Каждая
# точка — лучший из трёх запусков; важна тенденция, а не числа.

# %%
import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import matplotlib.pyplot as plt
import torch

from snippets.figures import figure_labels
from snippets.inference.batching import TinyLM, serve_all, simulate, workload
from snippets.inference.logits_processors import (
    FrequencyPresencePenalty,
    NoRepeatNGram,
    RepetitionPenalty,
    decode,
)
from snippets.inference.looping import BigramLM, distinct_n, run_controls, tail_period
from snippets.inference.paged_kv import contiguous_slots, mixed_workload, paged_slots

torch.set_num_threads(1)  # tiny matrices: one thread is faster and steadier
L = figure_labels("lab_decoding")  # the figures' words, drawn in each page's language


def run(coro):
    """asyncio.run in a fresh thread, so it also works inside Jupyter's own event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


# %% [markdown]
# ## 1. Биграммная модель зацикливается при жадном декодировании { #loop }
#
# Следующее слово зависит только от предыдущего, поэтому жадное декодирование раз за разом
# применяет одно и то же отображение и обязано зациклиться. Каждая строка — одна настройка
# декодирования, 48 новых токенов из промпта «the».

# %%
model = BigramLM(offset=10.0)
outputs = run_controls(model, max_new_tokens=48)
for name, tokens in outputs.items():
    print(f"{name:<26} period {str(tail_period(tokens)):>4} | {model.decode_text(tokens[:16])} ...")

# %% [markdown]
# Как быстро каждая настройка начинает повторяться? Доля различных 4-грамм среди первых
# $t$ токенов: 1,0 значит, что повторов ещё не было.

# %% alt="Линейный график доли различных 4-грамм среди первых t сгенерированных токенов, t от 8 до 48, для шести настроек декодирования на биграммной модели. При жадном декодировании доля стремится к 0,1, потому что оно зацикливается; со штрафами за повтор и за присутствие она какое-то время держится на 1, затем снижается; со штрафом за частоту остаётся примерно между 0,8 и 0,95; запрет повтора 3-грамм (no-repeat 3-gram) и сэмплирование с T = 0,8, top-k 5 и top-p 0,9 держат её на 1."
fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
for (name, tokens), style in zip(outputs.items(), ["-", "-", "-", "-", "--", ":"]):
    steps = range(8, len(tokens) + 1)
    ax.plot(steps, [distinct_n(tokens[:t]) for t in steps], style, label=L[name])
ax.set_xlabel(L["generated_t"])
ax.set_ylabel(L["distinct_first_t"])
ax.set_title(L["bigram_title"])
ax.grid(alpha=0.3)
ax.legend(loc="lower left")
plt.show()

# %% [markdown]
# ## 2. Штраф за повтор зависит от сдвига, которого у модели нет { #offset }
#
# Константа, прибавленная ко всем логитам, не меняет softmax, а значит, и модель. Штраф за
# повтор делит положительные логиты и умножает отрицательные, поэтому его эффект зависит от
# этой константы. Штраф за частоту вычитается из логитов и потому от неё не зависит.

# %% alt="Линейный график доли различных 4-грамм в 48 сгенерированных токенах в зависимости от константы, прибавленной ко всем логитам, от 0 до 20. Штраф за частоту, который вычитается из логитов, даёт 0,8 при любом сдвиге; результат штрафа за повтор, который делит положительные логиты и умножает отрицательные, меняется со сдвигом: меньше 0,1 при 0, около 0,67 при 10 и 0,53 при 20."
offsets = [0.0, 2.0, 5.0, 10.0, 20.0]
rows = {"repetition 1.2": [], "frequency 0.5": []}
for offset in offsets:
    result = run_controls(BigramLM(offset=offset), max_new_tokens=48)
    for name in rows:
        rows[name].append(distinct_n(result[name]))

fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
for name, values in rows.items():
    ax.plot(offsets, values, marker="o", label=L[name])
ax.set_xlabel(L["offset_axis"])
ax.set_ylabel(L["distinct_48"])
ax.set_ylim(0, 1.05)
ax.grid(alpha=0.3)
ax.legend()
plt.show()

# %% [markdown]
# ## 3. Случайная крошечная Llama тоже зацикливается { #llama }
#
# `LlamaForCausalLM` со случайными весами — не биграммная модель, и зацикливаться она не
# обязана, но жадное декодирование всё равно попадает в короткий цикл. Штрафы его разрывают.

# %%
small_llama = TinyLM(seed=0, vocab_size=64, hidden_size=32)


def llama_logits(ids: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return small_llama.model(ids).logits[:, -1, :]


prompt = [1, 2, 3, 4, 5]
for name, processors in [
    ("greedy", []),
    ("repetition 1.3", [RepetitionPenalty(1.3)]),
    ("frequency 0.5", [FrequencyPresencePenalty(0.5, 0.0, len(prompt))]),
    ("no-repeat 3-gram", [NoRepeatNGram(3)]),
]:
    tokens = decode(llama_logits, prompt, 30, processors)
    print(f"{name:<17} period {str(tail_period(tokens)):>4} | {tokens[:18]}")

# %% [markdown]
# ## 4. Пропускная способность: по одному запросу или батчами { #throughput }
#
# 16 запросов, каждому нужно 8 новых токенов, все разом отправлены asyncio-серверу, за которым
# стоит крошечная Llama. `max_batch_size=1` обслуживает их по одному; большие значения позволяют
# планировщику пропускать больше запросов через каждый прямой проход. Обе политики
# батчинга здесь ведут себя одинаково, потому что все запросы одной длины.

# %% alt="Линейный график измеренного числа токенов на секунду процессорного времени в зависимости от максимального размера батча, от 1 до 16, для крошечной Llama, обслуживающей 16 одновременных запросов. С ростом батча нужно меньше прямых проходов — 128 при батче 1 и 8 при батче 16, — и пропускная способность растёт; точные значения меняются от запуска к запуску."
llama = TinyLM(seed=0)
requests = [([1 + i, 2, 3], 8) for i in range(16)]
total_tokens = sum(n for _, n in requests)
run(serve_all(llama, requests[:4], max_batch_size=4))  # warm-up

batch_sizes = [1, 2, 4, 8, 16]
throughput = []
for size in batch_sizes:
    best = float("inf")
    for _ in range(3):  # best of three runs
        start = time.process_time()  # CPU time of this process (all threads), not wall time
        _, passes = run(serve_all(llama, requests, max_batch_size=size))
        best = min(best, time.process_time() - start)
    throughput.append(total_tokens / best)
    print(f"max batch {size:>2}: {passes:>3} forward passes, "
          f"{total_tokens / best:6.0f} tokens per CPU-second")

fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
ax.plot(batch_sizes, throughput, marker="o")
ax.set_xscale("log", base=2)
ax.set_xticks(batch_sizes, [str(b) for b in batch_sizes])
ax.set_xlabel(L["max_batch"])
ax.set_ylabel(L["tokens_per_cpu_s"])
ax.set_title(L("tiny_title", n=len(requests)))
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# На GPU шаг декодирования настоящей модели в основном уходит на чтение весов, поэтому
# небольшой батч стоит ненамного дороже одной последовательности, и кривая растёт круче.
# На CPU с крошечной моделью часть выигрыша — накладные расходы Python, которые платятся
# один раз за проход, а не за каждый запрос.
#
# ## 5. Статический и непрерывный батчинг при разных длинах { #mixed }
#
# Когда запросы разной длины приходят со временем, непрерывный батчинг окупается. Симуляция
# считает прямые проходы, поэтому числа точные и от машины не зависят.

# %% alt="Две столбчатые диаграммы для одной и той же нагрузки: обслуживание по одному запросу, батчинг на уровне запросов и непрерывный батчинг, размер батча 8. Обоим видам батчинга нужно гораздо меньше прямых проходов, чем обслуживанию по одному; непрерывному батчингу их нужно меньше всего, и у него самая низкая средняя задержка — намного меньше половины задержки батчинга на уровне запросов."
labels = [L["one at a time"], L["request-level"], L["continuous"]]
results = [
    simulate(workload(), 1, True),
    simulate(workload(), 8, False),
    simulate(workload(), 8, True),
]
fig, axes = plt.subplots(1, 2, figsize=(6.4, 3.2), layout="constrained")
axes[0].bar(labels, [r.forward_passes for r in results])
axes[0].set_ylabel(L["forward_passes"])
axes[1].bar(labels, [r.mean_latency for r in results])
axes[1].set_ylabel(L["mean_latency"])
for ax in axes:
    ax.tick_params(axis="x", labelrotation=20)
plt.show()

# %% [markdown]
# ## 6. Сколько памяти KV-кэша экономит страничное выделение { #paging }
#
# Те же 200 запросов: память резервируется одной непрерывной областью на запрос или блоками
# заданного размера. Мелкие блоки меньше теряют в последнем блоке последовательности, но
# удлиняют таблицы блоков и дробят чтение памяти ядром внимания: это компромисс, а не
# бесплатный выигрыш.

# %% alt="Линейный график доли зарезервированных слотов KV-кэша, в которых лежат токены, в зависимости от размера блока от 1 до 1024 токенов. Страничное выделение использует почти все слоты при мелких блоках, а при блоках по 1024 токена доля падает примерно до половины; выделение одной непрерывной областью использует около двух третей слотов, если резервирует промпт + max_tokens, и около четверти, если резервирует весь контекст."
work = mixed_workload()
used = sum(prompt + out for prompt, _, out in work)
block_sizes = [1, 4, 16, 64, 256, 1024]
paged_use = [used / paged_slots(work, b) for b in block_sizes]

fig, ax = plt.subplots(figsize=(6.4, 3.4), layout="constrained")
ax.plot(block_sizes, paged_use, marker="o", label=L["paged"])
ax.axhline(used / contiguous_slots(work, "max_tokens"), color="C1", linestyle="--",
           label=L["contiguous_max"])
ax.axhline(used / contiguous_slots(work, "context"), color="C2", linestyle=":",
           label=L["contiguous_context"])
ax.set_xscale("log", base=2)
ax.set_xticks(block_sizes, [str(b) for b in block_sizes])
ax.set_xlabel(L["block_size"])
ax.set_ylabel(L["share_used"])
ax.set_ylim(0, 1.05)
ax.grid(alpha=0.3)
ax.legend()
plt.show()

# %% [markdown]
# ## Что запомнить { #remember }
#
# - Модель, которая предпочитает повторять свою последнюю фразу, при жадном декодировании
#   зацикливается. Разовые штрафы (за повтор, за присутствие) откладывают цикл, штраф за
#   частоту давит постоянно, а запрет n-грамм запрещает цикл ценой качества текста.
# - Штраф за повтор не инвариантен к сдвигу, штрафы за частоту и присутствие инвариантны.
# - Пропускную способность обслуживания дают батчи. Непрерывный батчинг держит слоты
#   занятыми при разных длинах, а страничное выделение не даёт памяти под кэш пропадать зря.
