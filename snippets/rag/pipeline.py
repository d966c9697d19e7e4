"""The section's offline RAG pipeline: chunk, embed, index (dense + BM25), retrieve, fuse,
re-rank, and assemble a prompt with numbered citations. No LLM is available offline, so the
pipeline stops at the prompt a model would receive."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from snippets.rag.corpus import Chunk, Section, chunk_sections
from snippets.rag.retrieve import BM25, DenseIndex, rrf, tokenize

# all-MiniLM-L6-v2 reads at most 256 word pieces. English needs ~0.23 pieces per character,
# Chinese and Russian ~0.8 (see snippets/rag/embed.py), so the chunk size is per language.
CHUNK_SIZE = {"en": 1000, "zh": 300, "ru": 300}

Embedder = Callable[[list[str]], np.ndarray]


# --8<-- [start:index]
@dataclass
class RagPipeline:
    """Chunks of one language with a BM25 index and a dense index over the same chunks."""

    lang: str
    chunks: list[Chunk]
    embed: Embedder
    with_headers: bool = True  # prepend "title / heading" to each chunk before indexing
    bm25_mode: str = "words"
    vectors: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        texts = [self.index_text(c) for c in self.chunks]
        self.bm25 = BM25([tokenize(t, self.lang, self.bm25_mode) for t in texts])
        self.vectors = self.embed(texts)
        self.dense = DenseIndex(self.vectors)
        self._query_vectors: dict[str, np.ndarray] = {}

    @classmethod
    def build(cls, sections: list[Section], lang: str, embed: Embedder, **options) -> RagPipeline:
        size = CHUNK_SIZE[lang]
        return cls(lang, chunk_sections(sections, size, overlap=size // 5), embed, **options)

    def index_text(self, chunk: Chunk) -> str:
        if not self.with_headers:
            return chunk.text
        header = (
            chunk.title
            if chunk.heading in ("", chunk.title)
            else f"{chunk.title} / {chunk.heading}"
        )
        return f"{header}\n{chunk.text}"

    # --8<-- [end:index]

    def query_vector(self, query: str) -> np.ndarray:
        """Embed a query once; later searches with the same text reuse the vector."""
        if query not in self._query_vectors:
            self.prefetch([query])
        return self._query_vectors[query]

    def prefetch(self, queries: list[str]) -> None:
        """Embed many queries in one batch (much faster than one at a time)."""
        new = [q for q in dict.fromkeys(queries) if q not in self._query_vectors]
        if new:
            self._query_vectors.update(zip(new, self.embed(new), strict=True))

    # --8<-- [start:search]
    def search(self, query: str, k: int = 10, mode: str = "hybrid", depth: int = 50) -> list[int]:
        """Chunk ids, best first. mode: "bm25", "dense" or "hybrid" (RRF of both top-`depth`)."""
        rankings = []
        if mode in ("bm25", "hybrid"):
            scores = self.bm25.scores(tokenize(query, self.lang, self.bm25_mode))
            order = np.argsort(-scores, kind="stable")[:depth]
            rankings.append([int(i) for i in order if scores[i] > 0])
        if mode in ("dense", "hybrid"):
            ids, _ = self.dense.search(self.query_vector(query), depth)
            rankings.append([int(i) for i in ids])
        if mode not in ("bm25", "dense", "hybrid"):
            raise ValueError(f"unknown mode {mode!r}")
        ranked = rankings[0] if len(rankings) == 1 else rrf(rankings)
        return ranked[:k]

    def rank_pages(self, query: str, k: int = 10, mode: str = "hybrid") -> list[str]:
        """Page slugs in the order of their best chunk (what the evaluation scores)."""
        slugs: list[str] = []
        for i in self.search(query, k=10 * k, mode=mode):
            if self.chunks[i].slug not in slugs:
                slugs.append(self.chunks[i].slug)
        return slugs[:k]

    def drop_near_duplicates(self, ids: list[int], k: int, threshold: float = 0.9) -> list[int]:
        """Keep the fused order but skip a chunk whose cosine with an already kept chunk
        exceeds `threshold` (overlapping windows, a passage repeated on two pages)."""
        kept: list[int] = []
        for i in ids:
            if all(float(self.vectors[i] @ self.vectors[j]) <= threshold for j in kept):
                kept.append(i)
            if len(kept) == k:
                break
        return kept

    # --8<-- [end:search]


# --8<-- [start:prompt]
PROMPT = """Answer the question using only the numbered sources below.
Cite every claim with its source number in brackets, like [2].
If the sources do not contain the answer, say that you do not know.

{sources}

Question: {question}
Answer:"""


def cite(chunk: Chunk) -> str:
    """Where a chunk came from, as a link target inside the guide."""
    return f"{chunk.slug}.md" + (f"#{chunk.anchor}" if chunk.anchor else "")


def assemble_prompt(question: str, chunks: list[Chunk]) -> str:
    """The prompt for the generator: numbered sources, each with its citation target."""
    sources = "\n\n".join(
        f"[{n}] {cite(c)} ({c.title})\n{c.text}" for n, c in enumerate(chunks, start=1)
    )
    return PROMPT.format(sources=sources, question=question)


def check_citations(answer: str, n_sources: int) -> tuple[list[int], list[int]]:
    """Source numbers an answer cites, split into valid ones and ones that do not exist."""
    cited = sorted({int(m) for m in re.findall(r"\[(\d+)\]", answer)})
    return [c for c in cited if 1 <= c <= n_sources], [c for c in cited if not 1 <= c <= n_sources]
# --8<-- [end:prompt]


# --8<-- [start:ask]
def ask(pipe: RagPipeline, question: str, k: int = 4, mode: str = "hybrid") -> str:
    """Retrieve 3k candidates, keep the first k that are not near-duplicates, and return the
    prompt an LLM would get. (Query rewriting, cross-encoder re-ranking and generation need
    models that are not available offline.)"""
    candidates = pipe.search(question, k=3 * k, mode=mode)
    chosen = pipe.drop_near_duplicates(candidates, k)
    return assemble_prompt(question, [pipe.chunks[i] for i in chosen])
# --8<-- [end:ask]


if __name__ == "__main__":
    from snippets.rag.corpus import load_mini_guide, load_questions

    # The vectors all-MiniLM-L6-v2 gives these texts, stored (see snippets/rag/frozen.py).
    from snippets.rag.frozen import frozen_embed as embed

    question = {q["id"]: q for q in load_questions()}["q25"]
    for lang in ["en", "zh", "ru"]:
        pipe = RagPipeline.build(load_mini_guide(lang), lang, embed)
        print(f"[{lang}] {question[lang]}")
        for mode in ["bm25", "dense", "hybrid"]:
            print(f"  {mode:<6}", ", ".join(pipe.rank_pages(question[lang], k=3, mode=mode)))
    print()
    pipe = RagPipeline.build(load_mini_guide("en"), "en", embed)
    print(ask(pipe, question["en"], k=2))
