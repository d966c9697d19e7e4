"""Retrieval metrics against scikit-learn and brute-force definitions; ROUGE-L against the
rouge-score package."""

from __future__ import annotations

import random

import numpy as np
import pytest
from rouge_score import rouge_scorer
from sklearn.metrics import ndcg_score

from snippets.rag.metrics import (
    hit_rate_at_k,
    lcs_length,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    reciprocal_rank,
    rouge_l,
    words,
)


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("k", [1, 3, 5, 10])
def test_ndcg_equals_scikit_learn(seed, k):
    rng = np.random.default_rng(seed)
    n = 20
    grades = rng.choice([0, 0, 0, 1, 2, 3], size=n).astype(float)
    grades[rng.integers(n)] = max(grades.max(), 1.0)  # at least one relevant document
    scores = rng.permutation(n).astype(float)  # a ranking without ties
    ranked = [str(i) for i in np.argsort(-scores)]
    relevant = {str(i): g for i, g in enumerate(grades) if g > 0}
    expected = ndcg_score(grades[None, :], scores[None, :], k=k)
    assert ndcg_at_k(ranked, relevant, k) == pytest.approx(expected, abs=1e-12)


def test_ndcg_counts_relevant_documents_that_were_never_retrieved():
    # Perfect order of what was retrieved, but a relevant page is missing: nDCG < 1.
    assert ndcg_at_k(["a", "b"], {"a": 1}, 10) == 1.0
    assert ndcg_at_k(["a", "b"], {"a": 1, "z": 1}, 10) < 1.0


@pytest.mark.parametrize("seed", range(50))
def test_set_metrics_match_their_definitions(seed):
    rng = random.Random(seed)
    docs = [f"d{i}" for i in range(15)]
    ranked = rng.sample(docs, 10)
    relevant = {d: 1 for d in rng.sample(docs, rng.randint(1, 4))}
    for k in (1, 3, 5, 10):
        top = set(ranked[:k])
        assert hit_rate_at_k(ranked, relevant, k) == float(bool(top & set(relevant)))
        assert precision_at_k(ranked, relevant, k) == len(top & set(relevant)) / k
        assert recall_at_k(ranked, relevant, k) == len(top & set(relevant)) / len(relevant)
    ranks = [ranked.index(d) + 1 for d in relevant if d in ranked]
    assert reciprocal_rank(ranked, relevant) == (1 / min(ranks) if ranks else 0.0)


def test_hit_rate_is_not_precision():
    ranked, relevant = ["x", "a", "y", "z", "w"], {"a": 1}
    assert hit_rate_at_k(ranked, relevant, 5) == 1.0
    assert precision_at_k(ranked, relevant, 5) == 0.2


class WordTokenizer:
    def tokenize(self, text: str) -> list[str]:
        return words(text)


SENTENCES = [
    "the cat sat on the mat",
    "the mat was sat on by the cat",
    "LoRA initialises B to zero so training starts from the original model",
    "B starts at zero in LoRA so the first step reproduces the base model",
    "retrieval augmented generation grounds answers in documents",
    "a completely unrelated sentence about cooking pasta",
]


@pytest.mark.parametrize("ref", SENTENCES)
@pytest.mark.parametrize("cand", SENTENCES)
def test_rouge_l_equals_rouge_score(ref, cand):
    ours = rouge_l(ref, cand)
    # rouge-score's default tokenizer agrees with ours on lower-case ASCII words ...
    default = rouge_scorer.RougeScorer(["rougeL"]).score(ref, cand)["rougeL"]
    # ... and a scorer given our tokenizer must agree on any text.
    custom = rouge_scorer.RougeScorer(["rougeL"], tokenizer=WordTokenizer()).score(ref, cand)
    for score in (default, custom["rougeL"]):
        assert ours["precision"] == pytest.approx(score.precision)
        assert ours["recall"] == pytest.approx(score.recall)
        assert ours["fmeasure"] == pytest.approx(score.fmeasure)


def test_rouge_score_default_tokenizer_ignores_chinese_and_russian():
    scorer = rouge_scorer.RougeScorer(["rougeL"])
    for ref, cand in [("检索增强生成", "检索增强生成"), ("кошка сидит", "кошка сидит")]:
        assert scorer.score(ref, cand)["rougeL"].fmeasure == 0.0  # identical texts score 0
        assert rouge_l(ref, cand, tokenize=list)["fmeasure"] == 1.0


def test_rouge_l_rewards_overlap_not_meaning():
    reference = SENTENCES[2]
    wrong = reference.replace("B to zero", "A to zero")  # a factual error, one word changed
    paraphrase = SENTENCES[3]  # correct, different words
    assert rouge_l(reference, wrong)["fmeasure"] > 2 * rouge_l(reference, paraphrase)["fmeasure"]


@pytest.mark.parametrize("seed", range(20))
def test_lcs_against_brute_force(seed):
    rng = random.Random(seed)
    a = [rng.choice("abc") for _ in range(rng.randint(0, 7))]
    b = [rng.choice("abc") for _ in range(rng.randint(0, 7))]

    def is_subsequence(s, t):
        it = iter(t)
        return all(ch in it for ch in s)

    best = 0
    for mask in range(1 << len(a)):
        sub = [x for i, x in enumerate(a) if mask >> i & 1]
        if len(sub) > best and is_subsequence(sub, b):
            best = len(sub)
    assert lcs_length(a, b) == best
