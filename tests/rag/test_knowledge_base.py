"""Refusal by retrieval score, the AUC of that score against scikit-learn, and knowledge
updates as index updates (hashing stand-in for the embedding model)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from snippets.rag.corpus import Section, load_mini_guide
from snippets.rag.knowledge_base import (
    add_sections,
    auc,
    load_unanswerable,
    retrieve_or_refuse,
    top_cosine,
)
from snippets.rag.pipeline import RagPipeline


@pytest.mark.parametrize("seed", range(10))
def test_auc_equals_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    pos = np.round(rng.normal(0.6, 0.1, size=rng.integers(2, 30)), 2)  # rounding makes ties
    neg = np.round(rng.normal(0.4, 0.1, size=rng.integers(2, 30)), 2)
    labels = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    assert auc(pos, neg) == pytest.approx(roc_auc_score(labels, np.r_[pos, neg]))


def test_refuses_below_the_threshold_and_answers_above(fake_embed):
    pipe = RagPipeline.build(load_mini_guide("en"), "en", fake_embed)
    best = top_cosine(pipe, ["LoRA low-rank update"])[0]
    assert retrieve_or_refuse(pipe, "LoRA low-rank update", min_cosine=best + 1e-3) is None
    chunks = retrieve_or_refuse(pipe, "LoRA low-rank update", k=3, min_cosine=best - 1e-3)
    assert chunks is not None and len(chunks) == 3 and chunks[0].slug == "fine-tuning/lora"


def test_new_knowledge_is_an_index_update(fake_embed):
    pipe = RagPipeline.build(load_mini_guide("en"), "en", fake_embed)
    question = "zorblat quarterly budget"
    assert retrieve_or_refuse(pipe, question, min_cosine=0.2) is None  # no shared words
    note = Section("internal/budget", "en", "Budget", "Budget", "", "The zorblat quarterly budget")
    updated = add_sections(pipe, [note])
    assert len(updated.chunks) == len(pipe.chunks) + 1
    assert [c.text for c in updated.chunks[:-1]] == [c.text for c in pipe.chunks]
    found = retrieve_or_refuse(updated, question, k=1, min_cosine=0.2)
    assert found is not None and found[0].slug == "internal/budget"


def test_unanswerable_questions_exist_in_three_languages():
    questions = load_unanswerable()
    assert len(questions) >= 8
    assert all(q[lang].strip() for q in questions for lang in ("en", "zh", "ru"))
