"""Loading, cleaning and chunking; integrity of the frozen test collection."""

from __future__ import annotations

import random

import pytest

from snippets.rag.corpus import (
    Section,
    chunk_sections,
    chunk_spans,
    clean_markdown,
    load_guide,
    load_mini_guide,
    load_questions,
    split_sections,
)

PAGE = """---
title: What is LoRA?
source: [B9]
tags: [fine-tuning, peft]
order: 10 # first
---

# What is LoRA? { #lora }

!!! abstract "Short answer"
    LoRA learns a **low-rank** update; see [the paper](https://arxiv.org/abs/2106.09685).

## Code { #code }

```python title="snippets/x.py"
--8<-- "snippets/fine_tuning/lora.py:forward"
```

| a | b |
|---|---|
| 1 | 2 |

*[LoRA]: low-rank adaptation
"""

# The slugs of the guide's question pages, as listed in the authors' agreement.
AGREED_SLUGS = {
    "fine-tuning": "p-tuning lora lora-pitfalls sft-methods sft-vs-rlhf rlhf",
    "training-efficiency": "gradient-accumulation mixed-precision out-of-memory gpu-memory zero",
    "rag": "pipeline knowledge-base evaluation vector-search improving-rag langchain",
    "architectures": "llama llama-1-vs-2 glm glu-swiglu prefix-vs-causal-lm last-token "
    "attention-variants",
    "attention-long-context": "mha-speedups infinite-context longer-context",
    "inference": "hallucination-repetition serving",
    "ml-fundamentals": "broadcasting vae matrix-rank svm-kernels log-softmax",
}


def test_clean_markdown_keeps_prose_and_drops_markup():
    text, meta = clean_markdown(PAGE)
    assert meta["title"] == "What is LoRA?" and meta["order"] == "10"
    assert "Short answer" in text and "low-rank update" in text and "the paper" in text
    for gone in ("---", "```", "--8<--", "arxiv.org", "**", "!!!", "*[LoRA]", "source:"):
        assert gone not in text
    assert "| 1 | 2 |" in text  # table cells survive as text


def test_split_sections_keeps_heading_ids_for_citations():
    text, meta = clean_markdown(PAGE)
    sections = split_sections(text, "fine-tuning/lora", "en", meta["title"])
    assert [(s.heading, s.anchor) for s in sections] == [
        ("What is LoRA?", "lora"),
        ("Code", "code"),
    ]
    assert all(s.title == "What is LoRA?" for s in sections)


def test_load_guide_reads_every_page(tmp_path):
    (tmp_path / "en" / "fine-tuning").mkdir(parents=True)
    (tmp_path / "en" / "fine-tuning" / "lora.md").write_text(PAGE, encoding="utf-8")
    (tmp_path / "en" / "index.md").write_text("# Home { #home }\n\nWelcome.\n", encoding="utf-8")
    sections = load_guide("en", docs=tmp_path)
    assert {s.slug for s in sections} == {"fine-tuning/lora", "index"}
    assert next(s for s in sections if s.slug == "index").title == "index"  # no front matter


@pytest.mark.parametrize("seed", range(20))
def test_chunk_spans_cover_text_with_exact_overlap(seed):
    rng = random.Random(seed)
    words = ["alpha", "beta", "gamma.", "delta,", "检索", "增强。", "\n\n", "x" * 40]
    text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 400)))
    size, overlap = rng.choice([(60, 10), (100, 20), (300, 0), (200, 60)])
    spans = chunk_spans(text, size, overlap)
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    for (a, b), (c, _) in zip(spans, spans[1:], strict=False):
        assert b - a <= size and c == b - overlap and b - a > size // 2
    assert spans[-1][1] - spans[-1][0] <= size
    # Removing the overlaps reconstructs the text exactly.
    rebuilt = text[: spans[0][1]] + "".join(
        text[b:d] for (_, b), (_, d) in zip(spans, spans[1:], strict=False)
    )
    assert rebuilt == text


def test_chunks_end_at_word_breaks_when_possible():
    text = "word " * 500
    for _, b in chunk_spans(text, 100, 20)[:-1]:
        assert text[b - 1] == " "


def test_chunk_spans_rejects_bad_overlap():
    with pytest.raises(ValueError):
        chunk_spans("abc", 10, 5)


def test_chunks_never_straddle_sections():
    sections = [Section("p", "en", "T", f"h{i}", f"h{i}", "word " * 90) for i in range(3)]
    chunks = chunk_sections(sections, 100, 20)
    assert [c.chunk_id for c in chunks] == list(range(len(chunks)))
    for s in sections:
        own = [c for c in chunks if c.anchor == s.anchor]
        assert own and all(c.text in s.text for c in own)


def test_frozen_collection_is_complete_and_uses_agreed_slugs():
    agreed = {f"{sec}/{p}" for sec, pages in AGREED_SLUGS.items() for p in pages.split()}
    for lang in ("en", "zh", "ru"):
        docs = load_mini_guide(lang)
        assert {d.slug for d in docs} == agreed and len(docs) == len(agreed)
        assert all(d.text and d.title for d in docs)
    questions = load_questions()
    assert len(questions) >= 30 and len({q["id"] for q in questions}) == len(questions)
    for q in questions:
        assert all(q[lang].strip() for lang in ("en", "zh", "ru"))
        assert set(q["relevant"]) <= agreed and 2 in q["relevant"].values()
