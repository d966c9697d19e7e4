"""What a knowledge base adds to an LLM, measured on the section's pipeline: new knowledge is an
index update (no training), and the retrieval score can tell answerable questions from
questions the knowledge base cannot answer (so the system can refuse)."""

from __future__ import annotations

import json

import numpy as np

from snippets.rag.corpus import DATA, Chunk, Section
from snippets.rag.pipeline import RagPipeline


# --8<-- [start:refuse]
def retrieve_or_refuse(
    pipe: RagPipeline, question: str, k: int = 3, min_cosine: float = 0.3
) -> list[Chunk] | None:
    """Dense top-k chunks, or None when even the best one is less similar than `min_cosine`:
    the knowledge base has nothing on the question, so the system should say so instead of
    handing the LLM unrelated text."""
    ids, scores = pipe.dense.search(pipe.query_vector(question), k)
    if len(scores) == 0 or scores[0] < min_cosine:
        return None
    return [pipe.chunks[i] for i in ids]


def top_cosine(pipe: RagPipeline, questions: list[str]) -> np.ndarray:
    """Best dense score per question (the signal used to refuse)."""
    pipe.prefetch(questions)
    return np.array([pipe.dense.search(pipe.query_vector(q), 1)[1][0] for q in questions])


def auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (ties count half):
    the area under the ROC curve of the score as a detector."""
    greater = (positive[:, None] > negative[None, :]).mean()
    ties = (positive[:, None] == negative[None, :]).mean()
    return float(greater + 0.5 * ties)
# --8<-- [end:refuse]


def load_unanswerable() -> list[dict]:
    """Questions that no page of the guide answers (id and text in en, zh, ru)."""
    return json.loads((DATA / "questions.json").read_text(encoding="utf-8"))["unanswerable"]


# --8<-- [start:update]
def add_sections(pipe: RagPipeline, sections: list[Section]) -> RagPipeline:
    """New knowledge goes into the index, not into the weights: rebuild (or, in a vector
    database, upsert) with the new sections. Nothing is trained."""
    old = [Section(c.slug, c.lang, c.title, c.heading, c.anchor, c.text) for c in pipe.chunks]
    return RagPipeline.build(
        old + sections,
        pipe.lang,
        pipe.embed,
        with_headers=pipe.with_headers,
        bm25_mode=pipe.bm25_mode,
    )
# --8<-- [end:update]


if __name__ == "__main__":
    from snippets.rag.corpus import load_mini_guide, load_questions

    # The vectors all-MiniLM-L6-v2 gives these texts, stored (see snippets/rag/frozen.py).
    from snippets.rag.frozen import frozen_embed as embed

    pipe = RagPipeline.build(load_mini_guide("en"), "en", embed)
    question = "At what time is the team wiki re-indexed every night?"
    note = Section(
        "internal/wiki-ops",
        "en",
        "Wiki operations",
        "Re-indexing",
        "",
        "The team wiki is re-indexed for search every night at 02:00 UTC; pages edited after "
        "that appear in search results the next day.",
    )
    print("Q:", question)
    before = retrieve_or_refuse(pipe, question)
    print("before the note is indexed:", "refuse" if before is None else [c.slug for c in before])
    after = retrieve_or_refuse(add_sections(pipe, [note]), question)
    print("after the note is indexed: ", "refuse" if after is None else [c.slug for c in after])
    print()
    print("Best dense cosine: answerable vs unanswerable questions")
    print("lang  answerable (median)  unanswerable (median)    AUC  refusals at 0.3 (ans / unans)")
    answerable, unanswerable = load_questions(), load_unanswerable()
    for lang in ("en", "zh", "ru"):
        p = pipe if lang == "en" else RagPipeline.build(load_mini_guide(lang), lang, embed)
        pos = top_cosine(p, [q[lang] for q in answerable])
        neg = top_cosine(p, [q[lang] for q in unanswerable])
        print(
            f"{lang:<4}  {np.median(pos):19.2f}  {np.median(neg):21.2f}  {auc(pos, neg):6.3f}"
            f"  {(pos < 0.3).sum():>3}/{len(pos)} {(neg < 0.3).sum():>6}/{len(neg)}"
        )
