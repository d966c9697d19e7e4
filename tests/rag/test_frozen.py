"""The stored vectors that the recorded reports use are the model's: every row of
data/frozen_vectors.npy equals what all-MiniLM-L6-v2 computes for its text today."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch  # noqa: F401  (imported here so that conftest runs the model on one thread)

from snippets.rag import frozen
from snippets.rag.embed import embed


def script(text: str) -> str:
    if any("\u4e00" <= c <= "\u9fff" for c in text):
        return "zh"
    return "ru" if any("\u0400" <= c <= "\u04ff" for c in text) else "en"


def test_store_is_well_formed():
    texts = json.loads(frozen.TEXTS.read_text(encoding="utf-8"))
    stored = np.load(frozen.VECTORS)
    assert stored.dtype == np.float32 and stored.shape == (len(texts), 384)
    assert texts == sorted(set(texts))  # unique, in the order save_store writes
    np.testing.assert_allclose(np.linalg.norm(stored, axis=1), 1.0, atol=1e-6)
    assert {script(t) for t in texts} == {"en", "zh", "ru"}


def test_stored_vectors_equal_fresh_embeddings():
    # Every eighth row: about 35 texts in all three languages (the sorted order interleaves
    # them). All rows would cost ten seconds of CPU; a new model version, an edited text or
    # rows out of order would change almost every row, so an eighth of them catches it.
    texts = json.loads(frozen.TEXTS.read_text(encoding="utf-8"))[::8]
    stored = np.load(frozen.VECTORS)[::8]
    assert len(texts) > 30 and {"zh", "ru", "en"} <= {script(t) for t in texts}
    # Batch composition changes float rounding a little, nothing more.
    np.testing.assert_allclose(stored, embed(texts), atol=1e-5)


def test_frozen_embed_returns_stored_rows_and_refuses_unknown_texts(monkeypatch):
    store = frozen.load_store()
    texts = sorted(store)[:3]
    np.testing.assert_array_equal(frozen.frozen_embed(texts[::-1]), np.stack(
        [store[t] for t in texts[::-1]]
    ))
    monkeypatch.delenv("RAG_FROZEN_WRITE", raising=False)
    with pytest.raises(KeyError, match="not in frozen_texts.json"):
        frozen.frozen_embed(["a text that no report embeds"])


def test_write_mode_adds_missing_texts_with_the_model(monkeypatch, tmp_path):
    monkeypatch.setattr(frozen, "TEXTS", tmp_path / "texts.json")
    monkeypatch.setattr(frozen, "VECTORS", tmp_path / "vectors.npy")
    monkeypatch.setattr(frozen, "load_store", lambda cache={}: cache)  # noqa: B006 (empty store)
    monkeypatch.setenv("RAG_FROZEN_WRITE", "1")
    vectors = frozen.frozen_embed(["b text", "a text", "b text"])
    np.testing.assert_allclose(vectors, embed(["b text", "a text", "b text"]), atol=1e-5)
    assert json.loads((tmp_path / "texts.json").read_text(encoding="utf-8")) == ["a text", "b text"]
    assert np.load(tmp_path / "vectors.npy").shape == (2, 384)
