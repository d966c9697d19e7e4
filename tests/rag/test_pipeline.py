"""The pipeline's properties (chunk sizes, fusion, page ranking, prompt and citations) and the
evaluation loop, on fixed data with a hashing stand-in for the embedding model."""

from __future__ import annotations

import numpy as np
import pytest

from snippets.rag.corpus import Section, load_mini_guide, load_questions
from snippets.rag.evaluate import METRICS, evaluate, score_ranking
from snippets.rag.metrics import ndcg_at_k, reciprocal_rank
from snippets.rag.pipeline import (
    CHUNK_SIZE,
    RagPipeline,
    ask,
    assemble_prompt,
    check_citations,
    cite,
)
from snippets.rag.retrieve import rrf


@pytest.fixture
def pipe(fake_embed):
    return RagPipeline.build(load_mini_guide("en"), "en", fake_embed)


def test_chunk_size_follows_the_language(fake_embed):
    text = "слово 词语 word " * 300
    for lang in ("en", "zh", "ru"):
        chunks = RagPipeline.build(
            [Section("p", lang, "T", "H", "h", text)], lang, fake_embed
        ).chunks
        assert max(len(c.text) for c in chunks) <= CHUNK_SIZE[lang]
        assert len(chunks) > len(text) // CHUNK_SIZE[lang]


def test_hybrid_is_the_rrf_of_bm25_and_dense(pipe):
    query = "How are the low-rank matrices of LoRA initialised?"
    bm25 = pipe.search(query, k=50, mode="bm25")
    dense = pipe.search(query, k=50, mode="dense")
    assert pipe.search(query, k=10, mode="hybrid") == rrf([bm25, dense])[:10]
    with pytest.raises(ValueError):
        pipe.search(query, mode="tfidf")


def test_bm25_returns_only_chunks_that_share_a_term(pipe):
    ids = pipe.search("LoRA", k=50, mode="bm25")
    assert ids and all("lora" in pipe.index_text(pipe.chunks[i]).lower() for i in ids)


def test_rank_pages_deduplicates_slugs_in_chunk_order(fake_embed):
    text = "rotary position embedding " * 80
    sections = [
        Section("a", "en", "A", "A", "", text),
        Section("b", "en", "B", "B", "", "other words"),
    ]
    pipe = RagPipeline.build(sections, "en", fake_embed)
    assert len(pipe.chunks) > 2
    pages = pipe.rank_pages("rotary position", k=5, mode="bm25")
    assert pages == ["a"]  # several chunks of page a, reported once; page b shares no term


def test_headers_are_indexed_but_not_quoted(fake_embed):
    sections = [Section("p", "en", "Title words", "Heading", "h", "body text")]
    with_headers = RagPipeline.build(sections, "en", fake_embed)
    without = RagPipeline.build(sections, "en", fake_embed, with_headers=False)
    assert with_headers.search("heading", mode="bm25") == [0]
    assert without.search("heading", mode="bm25") == []
    assert with_headers.chunks[0].text == "body text"


def test_prompt_numbers_sources_with_citation_targets(pipe):
    chunks = [pipe.chunks[i] for i in pipe.search("LoRA rank", k=3)]
    prompt = assemble_prompt("What is LoRA?", chunks)
    for n, c in enumerate(chunks, start=1):
        assert f"[{n}] {cite(c)}" in prompt and c.text in prompt
    assert prompt.rstrip().endswith("Question: What is LoRA?\nAnswer:")
    assert "do not know" in prompt  # the instruction to refuse without evidence


def test_cite_points_at_the_section_anchor():
    chunk = RagPipeline.build(
        [Section("rag/evaluation", "en", "T", "Pitfalls", "pitfalls", "x y z")],
        "en",
        lambda texts: np.ones((len(texts), 4), dtype=np.float32) / 2,
    ).chunks[0]
    assert cite(chunk) == "rag/evaluation.md#pitfalls"


def test_check_citations_flags_sources_that_do_not_exist():
    assert check_citations("LoRA freezes W [1][3]. B starts at zero [2], see [7].", 3) == (
        [1, 2, 3],
        [7],
    )
    assert check_citations("No citations here.", 3) == ([], [])


def test_ask_skips_near_duplicates(fake_embed):
    same = "grouped query attention shares key and value heads"
    sections = [Section(s, "en", s, s, "", same) for s in ("a", "b")]
    sections.append(Section("c", "en", "c", "c", "", "grouped query attention reduces the cache"))
    pipe = RagPipeline.build(sections, "en", fake_embed, with_headers=False)
    prompt = ask(pipe, "grouped query attention", k=2)
    assert prompt.count(same) == 1 and "reduces the cache" in prompt


def test_evaluate_averages_the_per_question_metrics(pipe):
    questions = load_questions()
    table = evaluate(pipe, questions, "en", "bm25")
    assert table["questions"] == len(questions)
    rows = [score_ranking(pipe.rank_pages(q["en"], 10, "bm25"), q["relevant"]) for q in questions]
    for m in METRICS:
        assert table[m] == pytest.approx(np.mean([r[m] for r in rows]))
    one = rows[0]
    ranked = pipe.rank_pages(questions[0]["en"], 10, "bm25")
    assert one["MRR@10"] == reciprocal_rank(ranked, questions[0]["relevant"], 10)
    assert one["nDCG@10"] == ndcg_at_k(ranked, questions[0]["relevant"], 10)


def test_evaluate_skips_questions_whose_pages_are_missing(fake_embed):
    # The live guide grows page by page: a question counts once its pages exist.
    sections = [s for s in load_mini_guide("en") if s.slug.startswith("rag/")]
    pipe = RagPipeline.build(sections, "en", fake_embed)
    questions = load_questions()
    table = evaluate(pipe, questions, "en", "bm25")
    expected = sum(any(s.startswith("rag/") for s in q["relevant"]) for q in questions)
    assert 0 < table["questions"] == expected < len(questions)
