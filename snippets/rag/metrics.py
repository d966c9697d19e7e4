"""Retrieval and generation metrics for RAG: hit rate, precision, recall, MRR, NDCG at k, ROUGE-L.

`ranked` is a list of document ids, best first; `relevant` maps each relevant id to a grade
(1 = relevant; larger = more relevant). Averaging a per-query metric over the queries gives
the number reported for a system (the mean of reciprocal ranks is MRR)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence


# --8<-- [start:retrieval]
def hit_rate_at_k(ranked: Sequence[str], relevant: Mapping[str, float], k: int) -> float:
    """1 if at least one relevant document is in the top k, else 0."""
    return float(any(d in relevant for d in ranked[:k]))


def precision_at_k(ranked: Sequence[str], relevant: Mapping[str, float], k: int) -> float:
    """Share of the top k that is relevant (what the source calls 'hit rate')."""
    return sum(d in relevant for d in ranked[:k]) / k


def recall_at_k(ranked: Sequence[str], relevant: Mapping[str, float], k: int) -> float:
    """Share of the relevant documents that appear in the top k."""
    return sum(d in relevant for d in ranked[:k]) / len(relevant)


def reciprocal_rank(
    ranked: Sequence[str], relevant: Mapping[str, float], k: int | None = None
) -> float:
    """1 / rank of the first relevant document (0 if none in the top k); its mean is MRR."""
    for rank, d in enumerate(ranked[:k], start=1):
        if d in relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked: Sequence[str], relevant: Mapping[str, float], k: int) -> float:
    """DCG@k / ideal DCG@k with gain = grade and discount log2(rank + 1).

    The ideal ranking puts all relevant documents (retrieved or not) in grade order, so a
    system is penalised for relevant documents it never returns."""
    dcg = sum(relevant.get(d, 0.0) / math.log2(r + 1) for r, d in enumerate(ranked[:k], start=1))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(r + 1) for r, g in enumerate(ideal, start=1))
    return dcg / idcg if idcg > 0 else 0.0
# --8<-- [end:retrieval]


# --8<-- [start:rouge]
def words(text: str) -> list[str]:
    """Lower-cased word tokens in any script (rouge-score's default keeps only [a-z0-9])."""
    return re.findall(r"\w+", text.lower())


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence, by dynamic programming in O(|a| |b|)."""
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, start=1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


def rouge_l(
    reference: str, candidate: str, tokenize: Callable[[str], list[str]] = words
) -> dict[str, float]:
    """ROUGE-L (Lin, 2004): precision = LCS / |candidate|, recall = LCS / |reference|,
    F1 = harmonic mean. Word order matters only through the LCS; meaning does not at all."""
    ref, cand = tokenize(reference), tokenize(candidate)
    lcs = lcs_length(ref, cand)
    if lcs == 0:
        return {"precision": 0.0, "recall": 0.0, "fmeasure": 0.0}
    p, r = lcs / len(cand), lcs / len(ref)
    return {"precision": p, "recall": r, "fmeasure": 2 * p * r / (p + r)}
# --8<-- [end:rouge]


if __name__ == "__main__":
    ranked = ["a", "b", "c", "d", "e"]
    relevant = {"c": 2, "e": 1, "z": 1}  # "z" is relevant but never retrieved
    print("ranked:", ranked, " relevant grades:", relevant)
    print(f"hit@3 = {hit_rate_at_k(ranked, relevant, 3):.3f}")
    print(f"precision@3 = {precision_at_k(ranked, relevant, 3):.3f}")
    print(f"recall@5 = {recall_at_k(ranked, relevant, 5):.3f}")
    print(f"reciprocal rank = {reciprocal_rank(ranked, relevant):.3f}")
    print(f"nDCG@5 = {ndcg_at_k(ranked, relevant, 5):.3f}")
    print()
    reference = "LoRA initialises B to zero so training starts from the original model"
    for candidate in [
        "LoRA initialises B to zero so training starts from the original model",
        "B starts at zero in LoRA, so the first step reproduces the base model",
        "LoRA initialises A to zero so training starts from the original model",
    ]:
        print(f"ROUGE-L F1 = {rouge_l(reference, candidate)['fmeasure']:.3f}  {candidate}")
