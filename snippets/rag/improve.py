"""Improvements to the basic pipeline that can be measured offline on the frozen test
collection: BM25 tokenization per language, chunk headers, and what fusion needs."""

from __future__ import annotations

import numpy as np

from snippets.rag.corpus import load_mini_guide, load_questions
from snippets.rag.evaluate import evaluate
from snippets.rag.pipeline import Embedder, RagPipeline


def cached(embed: Embedder) -> Embedder:
    """The same embedder, computing each distinct text once (the variants share texts)."""
    memo: dict[str, np.ndarray] = {}

    def embed_cached(texts: list[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in memo]
        if new:
            memo.update(zip(new, embed(new), strict=True))
        return np.stack([memo[t] for t in texts])

    return embed_cached


# --8<-- [start:ablation]
def ablation(embed: Embedder) -> list[tuple[str, str, str, dict[str, float]]]:
    """(change, language, retriever, metrics) for each variant; one change at a time."""
    questions, embed = load_questions(), cached(embed)
    rows = []

    def run(change: str, lang: str, mode: str, **options) -> None:
        pipe = RagPipeline.build(load_mini_guide(lang), lang, embed, **options)
        rows.append((change, lang, mode, evaluate(pipe, questions, lang, mode)))

    # 1. BM25 needs a tokenizer that knows the language.
    run("whitespace tokens", "zh", "bm25", bm25_mode="whitespace")
    run("single characters", "zh", "bm25", bm25_mode="chars")
    run("jieba words (default)", "zh", "bm25")
    for lang in ("en", "ru"):
        run("words (default)", lang, "bm25")
        run("Snowball stems", lang, "bm25", bm25_mode="stem")
    # 2. Index each chunk with its page title in front (contextual chunk headers).
    for mode in ("bm25", "dense"):
        run("no title", "en", mode, with_headers=False)
        run("title + text (default)", "en", mode)
    return rows
# --8<-- [end:ablation]


if __name__ == "__main__":
    # The vectors all-MiniLM-L6-v2 gives these texts, stored (see snippets/rag/frozen.py).
    from snippets.rag.frozen import frozen_embed as embed

    print(f"{'change':<24}{'lang':<6}{'retriever':<11}{'hit@1':>7}{'MRR@10':>8}")
    for change, lang, mode, m in ablation(embed):
        print(f"{change:<24}{lang:<6}{mode:<11}{m['hit@1']:7.3f}{m['MRR@10']:8.3f}")
