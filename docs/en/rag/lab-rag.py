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
# # Lab: RAG over this guide { #lab }
#
# This lab runs the section's retrieval pipeline on the **live** guide: every page of
# `docs/en`, `docs/zh` and `docs/ru` as they are at this build. It builds the indexes, asks
# one question in three languages, shows the chunks a prompt would be built from, and
# measures BM25, dense and hybrid retrieval on the labelled questions of the
# [evaluation page](evaluation.md#test-collection). The numbers change as the guide grows,
# which is why they are computed here and not quoted on the pages.
#
# Embedding every chunk of the guide in three languages takes minutes on a small CPU, so
# the lab's index is two-level: **BM25 over every chunk**, and **one dense vector per page**
# for its title and short answer, cut at 128 word pieces: the length all-MiniLM-L6-v2 was
# fine-tuned on, and half the cost of its 256-piece window.

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
# ## 1. Build the indexes { #build }

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
# ## 2. One question, three languages { #ask }
#
# The same question in English, Chinese and Russian. Look at which pages each retriever
# ranks first, and at how the dense retriever does outside English.

# %%
question = {q["id"]: q for q in load_questions()}["q14"]  # HNSW
for lang in LANGS:
    print(f"[{lang}] {question[lang]}   relevant: {list(question['relevant'])}")
    for mode in ("bm25", "dense", "hybrid"):
        print(f"  {mode:<6}", ", ".join(indexes[lang].rank_pages(question[lang], 3, mode)))

# %% [markdown]
# ## 3. The retrieved chunks and the prompt { #chunks }
#
# The best BM25 chunks for the English question, each with the citation target that the
# prompt gives the model. No LLM runs here: the pipeline stops at the prompt.

# %%
chunks = indexes["en"].top_chunks(question["en"], k=3)
for c in chunks:
    print(f"{cite(c)}\n    {c.text[:160]!r}")
print()
print(assemble_prompt(question["en"], chunks)[:1500])

# %% [markdown]
# ## 4. The evaluation table on the live guide { #evaluation }
#
# Each question counts once all its relevant pages exist in that language (the guide grows
# page by page). Compare the table with the frozen one on the
# [evaluation page](evaluation.md#results): the live dense index sees only page summaries,
# BM25 sees every chunk of every page.

# %%
questions = load_questions()
rows = []
for lang in LANGS:
    for mode in ("bm25", "dense", "hybrid"):
        rows.append({"lang": lang, "mode": mode} | evaluate(indexes[lang], questions, lang, mode))
print(format_table(rows))
print("questions counted:", {r["lang"]: r["questions"] for r in rows})

# %% alt="Bar charts of hit@1 and MRR@10 for BM25, dense and hybrid retrieval over this guide in English, Chinese and Russian. In English all three score high; in Chinese and Russian dense retrieval scores far below BM25, and hybrid lies between them."
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
# What to look for: in English all three retrievers should be close; in Chinese and
# Russian the dense column drops, because the model is English
# ([why](pipeline.md#english-model)), and hybrid sits between its two inputs when one of
# them is weak. A multilingual embedding model would be the fix.
#
# ## 5. Vector search speed on this machine { #speed }
#
# The [vector search page](vector-search.md#code) measures recall on 20,000 vectors; here
# the same benchmark runs on 5,000 (to keep the lab short), with timings from this machine.
# PQ is left out: its codebooks need about 10,000 training vectors.

# %% alt="Line chart of recall@10 against queries per second on a log scale for flat, IVF and HNSW search over 5,000 vectors, one point per setting. Flat search is exact, recall 1. In this run HNSW keeps a higher recall than IVF at comparable speed, and IVF's recall drops from 0.93 to 0.31 as it probes fewer lists; the speeds vary from run to run."
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
