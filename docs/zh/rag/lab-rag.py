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
# # 实验：在本指南上做 RAG { #lab }
#
# 本实验在**当前构建的**指南上运行本章的检索流水线：本次构建时 `docs/en`、`docs/zh` 和
# `docs/ru` 下的所有页面。它构建索引，用三种语言提同一个问题，展示拼装提示词所用的块，
# 并在[评估](evaluation.md#test-collection)页的标注问题上测量 BM25、稠密检索和混合检索。
# 这些数字会随着指南的增长而变化，所以在这里计算，而不在页面中引用。
#
# 在配置不高的 CPU 上为三种语言的全部块计算嵌入要花好几分钟，所以实验用两级索引：**BM25 覆盖
# 每一个块**，**稠密向量每页一个**，对应页面标题和简答，截断到 128 个 word piece：这是
# all-MiniLM-L6-v2 微调时的序列长度，计算量只有它 256 个 word piece 完整窗口的一半。

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
# ## 1. 构建索引 { #build }

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
# ## 2. 一个问题，三种语言 { #ask }
#
# 同一个问题的英文、中文和俄文版本。看看每种检索器把哪些页面排在前面，以及稠密检索在
# 英文之外表现如何。

# %%
question = {q["id"]: q for q in load_questions()}["q14"]  # HNSW
for lang in LANGS:
    print(f"[{lang}] {question[lang]}   relevant: {list(question['relevant'])}")
    for mode in ("bm25", "dense", "hybrid"):
        print(f"  {mode:<6}", ", ".join(indexes[lang].rank_pages(question[lang], 3, mode)))

# %% [markdown]
# ## 3. 检索到的块和提示词 { #chunks }
#
# 英文问题的 BM25 最佳块，每个块都带着提示词交给模型的引用目标。这里不运行大模型：
# 流水线止于提示词。

# %%
chunks = indexes["en"].top_chunks(question["en"], k=3)
for c in chunks:
    print(f"{cite(c)}\n    {c.text[:160]!r}")
print()
print(assemble_prompt(question["en"], chunks)[:1500])

# %% [markdown]
# ## 4. 当前指南上的评估表 { #evaluation }
#
# 一个问题只有在其相关页面已在该语言中存在时才计入（指南是一页一页写成的）。把这张表与
# [评估](evaluation.md#results)页上冻结的那张对比：这里的稠密索引只看到页面摘要，BM25
# 看到每一页的每一个块。

# %%
questions = load_questions()
rows = []
for lang in LANGS:
    for mode in ("bm25", "dense", "hybrid"):
        rows.append({"lang": lang, "mode": mode} | evaluate(indexes[lang], questions, lang, mode))
print(format_table(rows))
print("questions counted:", {r["lang"]: r["questions"] for r in rows})

# %% alt="柱状图：BM25、稠密检索和混合检索在本指南英文、中文和俄文版上的 hit@1 和 MRR@10。英文中三者得分都很高；中文和俄文中，稠密检索远低于 BM25，混合检索介于两者之间。"
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
# 观察要点：英文中三种检索器应该相差不大；中文和俄文中稠密检索一栏会下降，因为模型是
# 英文模型（[原因](pipeline.md#english-model)）；当其中一个输入很弱时，混合检索的结果
# 介于两者之间。换成多语言嵌入模型才是根本的解决办法。
#
# ## 5. 本机上的向量检索速度 { #speed }
#
# [向量检索](vector-search.md#code)页在 20,000 个向量上测量召回率；这里为了让实验保持
# 简短，在 5,000 个向量上运行同一个基准测试，计时来自本机。PQ 没有包含在内：它的码本
# 需要约 10,000 个训练向量。

# %% alt="折线图：在 5,000 个向量上，Flat、IVF 和 HNSW 检索的 recall@10 与每秒查询数（对数刻度）的关系，每种设置一个点。Flat 检索是精确的，召回率为 1。在这次运行中，速度相当时 HNSW 的召回率高于 IVF；IVF 探查的列表越少，召回率越低，从 0.93 降到 0.31。速度每次运行都会有所不同。"
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
