"""The ablation harness: one change at a time, and the BM25-side effects that do not depend on
the embedding model (a hashing stand-in replaces it)."""

from __future__ import annotations

from snippets.rag.improve import ablation


def test_ablation_changes_one_thing_at_a_time(fake_embed):
    rows = ablation(fake_embed)
    table = {(change, lang, mode): m for change, lang, mode, m in rows}
    assert len(table) == len(rows) == 11
    assert all(m["questions"] == 36 for m in table.values())
    zh = [
        table[(c, "zh", "bm25")]["MRR@10"]
        for c in ("whitespace tokens", "single characters", "jieba words (default)")
    ]
    # Chinese has no spaces: whitespace tokens make whole clauses into terms.
    assert zh[0] < zh[1] < zh[2]
    # Stemming merges Russian inflections of the same word.
    assert (
        table[("Snowball stems", "ru", "bm25")]["MRR@10"]
        > table[("words (default)", "ru", "bm25")]["MRR@10"]
    )
    # The title is the most informative text of a short abstract.
    assert (
        table[("no title", "en", "bm25")]["MRR@10"]
        < table[("title + text (default)", "en", "bm25")]["MRR@10"]
    )


def test_cached_embedder_returns_the_same_vectors_and_embeds_each_text_once(fake_embed):
    import numpy as np

    from snippets.rag.improve import cached

    seen: list[str] = []

    def counting(texts: list[str]) -> np.ndarray:
        seen.extend(texts)
        return fake_embed(texts)

    embed = cached(counting)
    texts = ["a b", "c d", "a b"]
    np.testing.assert_array_equal(embed(texts), fake_embed(texts))
    np.testing.assert_array_equal(embed(["c d", "e f"]), fake_embed(["c d", "e f"]))
    assert sorted(seen) == ["a b", "c d", "e f"]
