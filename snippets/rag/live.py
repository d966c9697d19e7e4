"""Retrieval over the live guide, sized for a lab that runs at every build.

Embedding every chunk of the guide in three languages takes minutes on a two-core CPU, so the
live index is two-level: BM25 over every chunk, and one dense vector per page for its title
and first section (the short answer; all-MiniLM-L6-v2 reads at most 256 word pieces of it,
and the lab passes an embedder that stops at 128). Hybrid fuses the two page rankings
with RRF."""

from __future__ import annotations

import numpy as np

from snippets.rag.corpus import Chunk, Section, chunk_sections
from snippets.rag.pipeline import CHUNK_SIZE, Embedder
from snippets.rag.retrieve import BM25, DenseIndex, rrf, tokenize


def page_summaries(sections: list[Section]) -> list[Section]:
    """The first section of every page (for a question page: the H1 and its short answer)."""
    first: dict[str, Section] = {}
    for s in sections:
        first.setdefault(s.slug, s)
    return list(first.values())


# --8<-- [start:guide-index]
class GuideIndex:
    """BM25 over every chunk of one language's pages, dense vectors over page summaries."""

    def __init__(self, sections: list[Section], lang: str, embed: Embedder) -> None:
        size = CHUNK_SIZE[lang]
        self.lang, self.embed = lang, embed
        self.chunks: list[Chunk] = chunk_sections(sections, size, overlap=size // 5)
        self.bm25 = BM25([tokenize(f"{c.title}\n{c.text}", lang) for c in self.chunks])
        self.pages = page_summaries(sections)
        self.vectors = embed([f"{p.title}\n{p.text}" for p in self.pages])
        self.dense = DenseIndex(self.vectors)
        self._queries: dict[str, np.ndarray] = {}

    def prefetch(self, queries: list[str]) -> None:
        """Embed many queries in one batch."""
        new = [q for q in dict.fromkeys(queries) if q not in self._queries]
        if new:
            self._queries.update(zip(new, self.embed(new), strict=True))

    def top_chunks(self, query: str, k: int = 5) -> list[Chunk]:
        """The best BM25 chunks: what the prompt would be built from."""
        scores = self.bm25.scores(tokenize(query, self.lang))
        order = np.argsort(-scores, kind="stable")[:k]
        return [self.chunks[i] for i in order if scores[i] > 0]

    def rank_pages(self, query: str, k: int = 10, mode: str = "hybrid") -> list[str]:
        """Page slugs, best first, by "bm25" (best chunk per page), "dense" or "hybrid"."""
        bm25: list[str] = []
        if mode != "dense":
            for chunk in self.top_chunks(query, k=50 * k):
                if chunk.slug not in bm25:
                    bm25.append(chunk.slug)
        if mode == "bm25":
            return bm25[:k]
        self.prefetch([query])
        ids, _ = self.dense.search(self._queries[query], len(self.pages))
        dense = [self.pages[i].slug for i in ids]
        rankings = {"dense": [dense], "hybrid": [bm25, dense]}[mode]
        if len(rankings) == 1:
            return rankings[0][:k]
        slugs = sorted({*bm25, *dense})  # fuse on integer ids, report slugs
        fused = rrf([[slugs.index(s) for s in r] for r in rankings])
        return [slugs[i] for i in fused[:k]]
# --8<-- [end:guide-index]
