"""BM25 against rank-bm25, dense search against brute force, RRF against its definition,
MMR against LangChain's implementation; tokenization per language."""

from __future__ import annotations

import math

import numpy as np
import pytest
from langchain_core.vectorstores.utils import maximal_marginal_relevance
from rank_bm25 import BM25Okapi

from snippets.rag.retrieve import BM25, DenseIndex, mmr, rrf, tokenize


def random_corpus(rng: np.random.Generator, n_docs: int = 40, vocab: int = 30) -> list[list[str]]:
    return [
        [f"w{int(t)}" for t in rng.zipf(1.5, rng.integers(3, 30)) % vocab] for _ in range(n_docs)
    ]


@pytest.mark.parametrize("seed", range(5))
def test_bm25_equals_rank_bm25_given_the_same_idf(seed):
    rng = np.random.default_rng(seed)
    docs = random_corpus(rng)
    ours = BM25(docs, k1=1.2, b=0.75)
    reference = BM25Okapi(docs, k1=1.2, b=0.75)
    # rank-bm25 uses idf = ln((N - n + 0.5) / (n + 0.5)) with a floor; we use Lucene's
    # ln(1 + ...), which is never negative. Give it our idf and the rest must agree.
    n = len(docs)
    reference.idf = {
        t: math.log(1 + (n - m + 0.5) / (m + 0.5))
        for t, m in ((t, sum(t in d for d in reference.doc_freqs)) for t in reference.idf)
    }
    for _ in range(5):
        query = [f"w{int(t)}" for t in rng.integers(0, 35, size=4)]  # some terms unseen
        np.testing.assert_allclose(ours.scores(query), reference.get_scores(query), rtol=1e-12)


def test_bm25_idf_is_positive_even_for_a_term_in_every_document():
    bm25 = BM25([["the", "cat"], ["the", "dog"], ["the"]])
    assert bm25.idf["the"] > 0 and bm25.idf["cat"] > bm25.idf["the"]
    assert (bm25.scores(["the"]) > 0).all()


def test_tokenize_per_language():
    assert tokenize("Retrieval-Augmented Generation (RAG)", "en") == [
        "retrieval",
        "augmented",
        "generation",
        "rag",
    ]
    # A whitespace tokenizer turns a Chinese clause into one term; jieba finds the words.
    sentence = "检索增强生成可以减少幻觉"
    assert tokenize(sentence, "zh", "whitespace") == [sentence]
    words = tokenize(sentence, "zh")
    assert "".join(words) == sentence and 1 < len(words) < len(sentence)
    assert tokenize(sentence, "zh", "chars") == list(sentence)
    # Russian inflection: two forms of "search" are different words but one stem.
    assert tokenize("поиск поиска", "ru") == ["поиск", "поиска"]
    assert len(set(tokenize("поиск поиска", "ru", "stem"))) == 1


@pytest.mark.parametrize("seed", range(3))
def test_dense_index_equals_brute_force_cosine(seed):
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(200, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    query = vectors[7] + 0.1 * rng.normal(size=16).astype(np.float32)
    query /= np.linalg.norm(query)
    ids, scores = DenseIndex(vectors).search(query, 10)
    cosine = vectors @ query
    np.testing.assert_array_equal(ids, np.argsort(-cosine)[:10])
    np.testing.assert_allclose(scores, cosine[ids], rtol=1e-5)


def test_rrf_matches_its_definition():
    a, b = [3, 1, 2], [1, 4, 3, 5]
    expected = {d: sum(1 / (60 + r.index(d) + 1) for r in (a, b) if d in r) for d in {*a, *b}}
    assert rrf([a, b]) == sorted(expected, key=lambda d: (-expected[d], d))
    assert rrf([a, b])[0] == 1  # second and first beats first and third
    assert rrf([[9, 8, 7]]) == [9, 8, 7]  # one ranking passes through unchanged


@pytest.mark.parametrize("lambda_", [0.0, 0.3, 0.5, 0.7, 1.0])
def test_mmr_equals_langchain(lambda_):
    rng = np.random.default_rng(0)
    base = rng.normal(size=(5, 24))
    # Near-duplicates make diversity matter: each base vector appears three times, jittered.
    candidates = np.repeat(base, 3, axis=0) + 0.05 * rng.normal(size=(15, 24))
    candidates /= np.linalg.norm(candidates, axis=1, keepdims=True)
    query = base[0] + base[1]
    query /= np.linalg.norm(query)
    ours = mmr(query, candidates, k=6, lambda_=lambda_)
    theirs = maximal_marginal_relevance(query, candidates.tolist(), lambda_mult=lambda_, k=6)
    assert ours == theirs
    if lambda_ == 1.0:
        assert ours == list(np.argsort(-(candidates @ query))[:6])
