"""Retrieval for the RAG pipeline: tokenization, BM25, a dense (Faiss) index, reciprocal rank
fusion and maximal marginal relevance (MMR) re-ranking."""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from functools import lru_cache

import faiss
import numpy as np

# One OpenMP thread: results do not depend on thread scheduling, and on a small shared
# machine OpenMP's busy-waiting threads cost more than they gain.
faiss.omp_set_num_threads(1)

WORD = re.compile(r"\w+")


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


@lru_cache(maxsize=2)
def _stemmer(lang: str):
    from nltk.stem.snowball import SnowballStemmer

    return SnowballStemmer({"en": "english", "ru": "russian"}[lang])


# --8<-- [start:tokenize]
def tokenize(text: str, lang: str, mode: str = "words") -> list[str]:
    """Lower-cased terms for BM25.

    mode "words": Chinese is segmented into words with jieba, other languages split at
    non-word characters; "stem": words reduced by the Snowball stemmer (en, ru);
    "chars": Chinese as single characters; "whitespace": split on spaces only (what a naive
    English tokenizer does to Chinese: a whole clause becomes one term).
    """
    text = text.lower()
    if mode == "whitespace":
        return text.split()
    if lang == "zh" and mode == "chars":
        return [c for c in text if WORD.match(c)]
    if lang == "zh":
        return [w for w in _jieba().lcut(text) if WORD.match(w)]
    words = WORD.findall(text)
    if mode == "stem" and lang in ("en", "ru"):
        stem = _stemmer(lang).stem
        return [stem(w) for w in words]
    return words
# --8<-- [end:tokenize]


# --8<-- [start:bm25]
class BM25:
    """Okapi BM25 with Lucene's non-negative idf. For query terms t with frequency tf in d:
    score(q, d) = sum_t idf(t) * tf (k1 + 1) / (tf + k1 (1 - b + b |d| / avgdl)),
    idf(t) = ln(1 + (N - n_t + 0.5) / (n_t + 0.5)), n_t = documents containing t."""

    def __init__(self, docs: list[list[str]], k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.tf = [Counter(d) for d in docs]
        self.doc_len = np.array([len(d) for d in docs], dtype=float)
        self.avgdl = float(self.doc_len.mean()) if docs else 0.0
        df = Counter(t for counts in self.tf for t in counts)
        n = len(docs)
        self.idf = {t: math.log(1 + (n - m + 0.5) / (m + 0.5)) for t, m in df.items()}

    def scores(self, query: list[str]) -> np.ndarray:
        """BM25 score of every document for a tokenized query (repeated terms count again)."""
        norm = self.k1 * (1 - self.b + self.b * self.doc_len / self.avgdl)
        out = np.zeros(len(self.tf))
        for term in query:
            idf = self.idf.get(term)
            if idf is None:
                continue
            tf = np.array([c[term] for c in self.tf], dtype=float)
            out += idf * tf * (self.k1 + 1) / (tf + norm)
        return out
# --8<-- [end:bm25]


# --8<-- [start:dense]
class DenseIndex:
    """Exact inner-product search over L2-normalised embeddings (inner product = cosine)."""

    def __init__(self, vectors: np.ndarray) -> None:
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Ids and cosine scores of the k best vectors for one query vector."""
        k = min(k, self.index.ntotal)
        scores, ids = self.index.search(np.asarray(query, dtype=np.float32).reshape(1, -1), k)
        return ids[0], scores[0]
# --8<-- [end:dense]


# --8<-- [start:rrf]
def rrf(rankings: list[list[int]], k: int = 60) -> list[int]:
    """Reciprocal rank fusion (Cormack et al., 2009): score(d) = sum over rankings of
    1 / (k + rank of d), rank starting at 1. Only ranks are used, so BM25 scores and
    cosines need no common scale."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, doc in enumerate(ranking, start=1):
            fused[doc] = fused.get(doc, 0.0) + 1.0 / (k + rank)
    return sorted(fused, key=lambda d: (-fused[d], d))
# --8<-- [end:rrf]


# --8<-- [start:mmr]
def mmr(query: np.ndarray, candidates: np.ndarray, k: int, lambda_: float = 0.7) -> list[int]:
    """Maximal marginal relevance (Carbonell and Goldstein, 1998): greedily pick the candidate
    maximising lambda * sim(query, d) - (1 - lambda) * max sim(d, already picked).
    Vectors are L2-normalised; returns positions into `candidates` (none if k = 0)."""
    if k <= 0 or len(candidates) == 0:
        return []
    relevance = candidates @ query
    chosen = [int(np.argmax(relevance))]  # the most relevant candidate goes first
    while len(chosen) < min(k, len(candidates)):
        redundancy = (candidates @ candidates[chosen].T).max(axis=1)
        score = lambda_ * relevance - (1 - lambda_) * redundancy
        score[chosen] = -np.inf
        chosen.append(int(np.argmax(score)))
    return chosen
# --8<-- [end:mmr]
