"""Evaluate the section's retrievers on the labelled questions: BM25 vs dense vs hybrid, per
language. `__main__` runs on the frozen mini guide (recorded); the lab runs the same code on
the live guide."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from snippets.rag.corpus import Chunk, Section, load_mini_guide, load_questions
from snippets.rag.metrics import hit_rate_at_k, ndcg_at_k, recall_at_k, reciprocal_rank
from snippets.rag.pipeline import Embedder, RagPipeline

MODES = ("bm25", "dense", "hybrid")


class PageRanker(Protocol):
    """What the evaluation needs: the indexed chunks and a page ranking per query
    (RagPipeline, and the lab's GuideIndex)."""

    chunks: Sequence[Chunk]

    def prefetch(self, queries: list[str]) -> None: ...

    def rank_pages(self, query: str, k: int = 10, mode: str = "hybrid") -> list[str]: ...
METRICS = ("hit@1", "hit@5", "recall@5", "MRR@10", "nDCG@10")


# --8<-- [start:evaluate]
def score_ranking(ranked: list[str], relevant: dict[str, float]) -> dict[str, float]:
    """All reported metrics for one query's ranked page slugs."""
    return {
        "hit@1": hit_rate_at_k(ranked, relevant, 1),
        "hit@5": hit_rate_at_k(ranked, relevant, 5),
        "recall@5": recall_at_k(ranked, relevant, 5),
        "MRR@10": reciprocal_rank(ranked, relevant, 10),
        "nDCG@10": ndcg_at_k(ranked, relevant, 10),
    }


def evaluate(
    pipe: PageRanker, questions: list[dict], query_lang: str, mode: str
) -> dict[str, float]:
    """Mean of each metric over the questions whose relevant pages exist in the corpus."""
    present = {c.slug for c in pipe.chunks}
    if mode != "bm25":
        pipe.prefetch([q[query_lang] for q in questions])
    rows = []
    for q in questions:
        relevant = {s: g for s, g in q["relevant"].items() if s in present}
        if relevant:
            rows.append(score_ranking(pipe.rank_pages(q[query_lang], 10, mode), relevant))
    table = {m: sum(r[m] for r in rows) / len(rows) for m in METRICS} if rows else {}
    return table | {"questions": len(rows)}
# --8<-- [end:evaluate]


def evaluation_table(
    load: Callable[[str], list[Section]], embed: Embedder, langs=("en", "zh", "ru"), **options
) -> list[dict]:
    """One row per (corpus language, retriever): queries in the corpus language."""
    questions = load_questions()
    rows = []
    for lang in langs:
        pipe = RagPipeline.build(load(lang), lang, embed, **options)
        for mode in MODES:
            rows.append({"lang": lang, "mode": mode} | evaluate(pipe, questions, lang, mode))
    return rows


def format_table(rows: list[dict]) -> str:
    head = f"{'lang':<8}{'retriever':<10}" + "".join(f"{m:>9}" for m in METRICS)
    lines = [head, "-" * len(head)]
    for r in rows:
        if r["questions"]:
            cells = "".join(f"{r[m]:9.3f}" for m in METRICS)
            lines.append(f"{r['lang']:<8}{r['mode']:<10}{cells}")
    return "\n".join(lines)


if __name__ == "__main__":
    import re

    # The vectors all-MiniLM-L6-v2 gives these texts, stored (see snippets/rag/frozen.py).
    from snippets.rag.frozen import frozen_embed as embed

    LATIN = re.compile("[A-Za-z]")

    rows = evaluation_table(load_mini_guide, embed)
    n = rows[0]["questions"]
    print(f"Frozen mini guide: {len(load_mini_guide('en'))} pages per language, {n} questions")
    print(format_table(rows))
    print()
    print("Cross-lingual: zh / ru questions against the English pages")
    english = RagPipeline.build(load_mini_guide("en"), "en", embed)
    cross = [
        {"lang": f"{q}->en", "mode": "dense"} | evaluate(english, load_questions(), q, "dense")
        for q in ("zh", "ru")
    ]
    print(format_table(cross))
    print()
    print("Dense hit@5 against the English pages, by whether the question has Latin letters")
    for lang in ("zh", "ru"):
        for has_latin in (True, False):
            group = [q for q in load_questions() if bool(LATIN.search(q[lang])) == has_latin]
            hits = evaluate(english, group, lang, "dense")
            label = "with Latin terms" if has_latin else "without"
            print(f"{lang}->en  {label:<17} {hits['questions']:>2} questions  {hits['hit@5']:.3f}")
