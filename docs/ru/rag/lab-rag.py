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
# # Лабораторная работа: RAG по этому руководству { #lab }
#
# В этой лабораторной работе конвейер поиска из этого раздела запускается на **текущей версии**
# руководства: на всех страницах `docs/en`, `docs/zh` и `docs/ru` в том виде, в каком они есть
# на момент сборки. Мы строим индексы, задаём один вопрос на трёх языках, смотрим фрагменты, из
# которых собирался бы промпт, и измеряем BM25, плотный и гибридный поиск на размеченных вопросах со
# [страницы об оценке](evaluation.md#test-collection). Числа меняются по мере роста
# руководства, поэтому они считаются здесь, а не приводятся на страницах.
#
# Эмбеддинги всех фрагментов руководства на трёх языках на слабом CPU вычисляются несколько
# минут, поэтому индекс в лабораторной работе двухуровневый: **BM25 по всем фрагментам** и **один плотный
# вектор на страницу** — по её заголовку и краткому ответу, обрезанным до 128 токенов:
# на такой длине all-MiniLM-L6-v2 дообучали, и это вдвое дешевле полного окна в 256 токенов.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from snippets.figures import figure_labels
from snippets.rag.corpus import load_guide, load_questions
from snippets.rag.embed import embed, load_encoder
from snippets.rag.evaluate import evaluate, format_table
from snippets.rag.live import GuideIndex
from snippets.rag.pipeline import assemble_prompt, cite
from snippets.rag.vector_search import benchmark, make_vectors

torch.set_num_threads(1)  # a small model on a shared CPU: one thread is faster and steadier
LANGS = ("en", "zh", "ru")
L = figure_labels("lab_rag")  # the figures' words, drawn in each page's language
load_encoder()  # load the model once (a few seconds)


def embed_128(texts: list[str]) -> np.ndarray:
    """Embed only the first 128 word pieces, the length the model was fine-tuned on:
    half the cost of its full 256-piece window."""
    return embed(texts, max_pieces=128)

# %% [markdown]
# ## 1. Строим индексы { #build }

# %%
indexes = {}
for lang in LANGS:
    start = time.perf_counter()
    sections = load_guide(lang)
    indexes[lang] = GuideIndex(sections, lang, embed_128)
    pages = len({s.slug for s in sections})
    print(f"{lang}: {pages} pages, {len(indexes[lang].chunks)} chunks, "
          f"{time.perf_counter() - start:.1f} s")

# %% [markdown]
# ## 2. Один вопрос на трёх языках { #ask }
#
# Один и тот же вопрос по-английски, по-китайски и по-русски. Посмотрите, какие страницы
# каждый ретривер ставит первыми и как плотный ретривер справляется с неанглийскими вопросами.

# %%
question = {q["id"]: q for q in load_questions()}["q14"]  # HNSW
for lang in LANGS:
    print(f"[{lang}] {question[lang]}   relevant: {list(question['relevant'])}")
    for mode in ("bm25", "dense", "hybrid"):
        print(f"  {mode:<6}", ", ".join(indexes[lang].rank_pages(question[lang], 3, mode)))

# %% [markdown]
# ## 3. Найденные фрагменты и промпт { #chunks }
#
# Лучшие фрагменты BM25 для английского вопроса, у каждого — цель ссылки, которую промпт
# передаёт модели. LLM здесь не запускается: конвейер заканчивается промптом.

# %%
chunks = indexes["en"].top_chunks(question["en"], k=3)
for c in chunks:
    print(f"{cite(c)}\n    {c.text[:160]!r}")
print()
print(assemble_prompt(question["en"], chunks)[:1500])

# %% [markdown]
# ## 4. Таблица оценки на текущей версии руководства { #evaluation }
#
# Вопрос учитывается, как только все его релевантные страницы есть на этом языке
# (руководство растёт постранично). Сравните таблицу с замороженной на
# [странице об оценке](evaluation.md#results): плотный индекс здесь видит только аннотации
# страниц, BM25 — каждый фрагмент каждой страницы.

# %%
questions = load_questions()
rows = []
for lang in LANGS:
    for mode in ("bm25", "dense", "hybrid"):
        rows.append({"lang": lang, "mode": mode} | evaluate(indexes[lang], questions, lang, mode))
print(format_table(rows))
print("questions counted:", {r["lang"]: r["questions"] for r in rows})

# %% alt="Столбчатые диаграммы hit@1 и MRR@10 для BM25, плотного и гибридного поиска по этому руководству на английском, китайском и русском. На английском все три получают высокие оценки; на китайском и русском плотный поиск сильно отстаёт от BM25, а гибридный оказывается между ними."
fig, axes = plt.subplots(1, 2, figsize=(6.4, 3.4), sharey=True, layout="constrained")
width = 0.25
for ax, metric in zip(axes, ("hit@1", "MRR@10"), strict=True):
    for j, mode in enumerate(("bm25", "dense", "hybrid")):
        values = [next((r.get(metric, 0.0) for r in rows if r["lang"] == lang and r["mode"] == mode), 0.0)
                  for lang in LANGS]
        ax.bar(np.arange(len(LANGS)) + (j - 1) * width, values, width, label=L[mode])
    ax.set_xticks(np.arange(len(LANGS)), [L[lang] for lang in LANGS])
    ax.set_title(L("metric_title", metric=metric))
    ax.set_ylim(0, 1)
axes[0].set_ylabel(L["score"])
axes[0].legend(loc="lower left")
plt.show()

# %% [markdown]
# На что смотреть: по-английски все три ретривера должны быть близки по качеству; по-китайски и
# по-русски столбец плотного поиска проседает, потому что модель английская
# ([почему](pipeline.md#english-model)), а гибрид оказывается между двумя своими входами,
# когда один из них слаб. Исправление — многоязычная модель эмбеддингов.
#
# ## 5. Скорость векторного поиска на этой машине { #speed }
#
# [Страница о векторном поиске](vector-search.md#code) измеряет полноту на 20 000 векторах;
# здесь тот же бенчмарк запускается на 5000 векторах (чтобы лабораторная работа была короткой), а время измеряется
# на этой машине. PQ не включён: его кодовым книгам нужно около 10 000 обучающих векторов.

# %% alt="Линейный график recall@10 в зависимости от числа запросов в секунду (логарифмическая шкала) для плоского поиска, IVF и HNSW по 5000 векторам, по точке на каждую настройку. Плоский поиск точен (полнота 1). В этом запуске HNSW при сравнимой скорости сохраняет более высокую полноту, чем IVF, а полнота IVF падает с 0,93 до 0,31, когда он просматривает меньше списков; скорости от запуска к запуску меняются."
base, queries = make_vectors(5_000, 100)
results = benchmark(base, queries, pq_m=())
fig, ax = plt.subplots(figsize=(6.4, 4), layout="constrained")
for method, marker in (("flat", "s"), ("IVF", "o"), ("HNSW", "D")):
    pts = [(1000 / r.ms_per_query, r.recall) for r in results if r.method == method]
    ax.plot(*zip(*pts, strict=True), marker=marker, label=L["flat"] if method == "flat" else method)
ax.set_xscale("log")
ax.set_xlabel(L["queries_per_second"])
ax.set_ylabel(L["recall"])
ax.legend()
ax.grid(True, alpha=0.3)
plt.show()
for r in results:
    print(f"{r.method:<5} {r.setting:<20} recall@10 {r.recall:.3f}  {r.ms_per_query:.3f} ms/query")
