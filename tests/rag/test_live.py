"""The two-level index used by the lab on the live guide (hashing stand-in for the model)."""

from __future__ import annotations

import pytest

from snippets.rag.corpus import Section, load_guide, load_questions
from snippets.rag.evaluate import evaluate
from snippets.rag.live import GuideIndex, page_summaries
from snippets.rag.retrieve import rrf

PAGES = {
    "rag/vector-search": ("Vector search", "HNSW walks a layered proximity graph. " * 30),
    "fine-tuning/lora": ("What is LoRA?", "LoRA learns a low-rank update BA. " * 30),
    "training-efficiency/zero": ("ZeRO", "ZeRO shards optimizer states over GPUs. " * 30),
}


def sections() -> list[Section]:
    out = []
    for slug, (title, body) in PAGES.items():
        out.append(Section(slug, "en", title, title, "top", "Short answer " + body[:80]))
        out.append(Section(slug, "en", title, "Explanation", "explanation", body))
    return out


@pytest.fixture
def index(fake_embed):
    return GuideIndex(sections(), "en", fake_embed)


def test_page_summaries_take_the_first_section_of_each_page():
    summaries = page_summaries(sections())
    assert [s.slug for s in summaries] == list(PAGES)
    assert all(s.anchor == "top" and s.text.startswith("Short answer") for s in summaries)


def test_bm25_covers_every_chunk_and_dense_one_vector_per_page(index):
    assert len(index.chunks) > len(sections()) and len(index.vectors) == len(PAGES)
    assert all(c.slug == "fine-tuning/lora" for c in index.top_chunks("low-rank update", k=3))


def test_rankings_and_fusion(index):
    query = "layered proximity graph"
    bm25 = index.rank_pages(query, k=3, mode="bm25")
    dense = index.rank_pages(query, k=3, mode="dense")
    assert bm25 == ["rag/vector-search"]  # only that page shares a term
    assert dense[0] == "rag/vector-search" and len(dense) == 3
    hybrid = index.rank_pages(query, k=3, mode="hybrid")
    slugs = sorted(PAGES)
    expected = [slugs[i] for i in rrf([[slugs.index(s) for s in r] for r in (bm25, dense)])]
    assert hybrid == expected[:3]


def test_evaluate_runs_on_the_live_guide_index(fake_embed):
    # The real guide, English, BM25 side only needs the hashing stand-in to be fast.
    idx = GuideIndex(load_guide("en"), "en", fake_embed)
    table = evaluate(idx, load_questions(), "en", "bm25")
    assert table["questions"] > 0
    assert 0.0 <= table["hit@1"] <= table["hit@5"] <= 1.0
