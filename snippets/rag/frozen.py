"""The model's vectors for the frozen test collection, computed once and committed.

The `__main__` blocks of this package print results on the frozen mini guide, and the pages
quote them. Running all-MiniLM-L6-v2 in every one of them cost over a minute of CPU at each
test run, so they read the vectors from data/frozen_vectors.npy (one row per text of
data/frozen_texts.json) instead. `embed` computed every row, and tests/rag/test_frozen.py
recomputes them all with the model and checks that they agree: the recorded numbers are
the model's.

A report that needs a text the store lacks stops with an error. After changing the
collection or the code that builds the texts, refresh the store and the records together:

    rm snippets/rag/data/frozen_*
    RAG_FROZEN_WRITE=1 .venv/bin/python scripts/snippet_outputs.py --write snippets/rag
"""

from __future__ import annotations

import json
import os
from functools import lru_cache

import numpy as np

from snippets.rag.corpus import DATA

TEXTS = DATA / "frozen_texts.json"
VECTORS = DATA / "frozen_vectors.npy"


@lru_cache(maxsize=1)
def load_store() -> dict[str, np.ndarray]:
    """Text -> stored vector (empty if there is no store yet)."""
    if not TEXTS.exists():
        return {}
    texts = json.loads(TEXTS.read_text(encoding="utf-8"))
    vectors = np.load(VECTORS)
    if len(texts) != len(vectors):
        raise ValueError(f"{TEXTS.name} and {VECTORS.name} differ in length")
    return dict(zip(texts, vectors, strict=True))


def save_store(store: dict[str, np.ndarray]) -> None:
    """Write the store sorted by text, so that the files depend only on their content."""
    texts = sorted(store)
    TEXTS.write_text(json.dumps(texts, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    np.save(VECTORS, np.stack([store[t] for t in texts]).astype(np.float32))


def frozen_embed(texts: list[str]) -> np.ndarray:
    """Drop-in for `embed` on the frozen collection: the stored vectors of these texts.

    With RAG_FROZEN_WRITE=1 in the environment, texts missing from the store are embedded
    with the model and added to it; otherwise a missing text is an error."""
    store = load_store()
    missing = [t for t in dict.fromkeys(texts) if t not in store]
    if missing and os.environ.get("RAG_FROZEN_WRITE") == "1":
        from snippets.rag.embed import embed

        store.update(zip(missing, embed(missing), strict=True))
        save_store(store)
    elif missing:
        raise KeyError(
            f"{len(missing)} texts are not in {TEXTS.name}, e.g. {missing[0][:80]!r}; "
            "refresh the store as the docstring of snippets/rag/frozen.py says"
        )
    return np.stack([store[t] for t in texts])
