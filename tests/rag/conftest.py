"""Shared fixtures for the RAG tests: a fast, deterministic stand-in for the embedding model.
(One torch thread per test comes from tests/conftest.py.)"""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest


def hashing_embed(texts: list[str], dim: int = 256) -> np.ndarray:
    """Bag-of-words hashed into `dim` buckets and L2-normalised: texts that share words get a
    positive cosine, as with a real sentence encoder (used where the model is not under test)."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in re.findall(r"\w+", text.lower()):
            bucket = int(hashlib.md5(word.encode()).hexdigest(), 16) % dim
            out[row, bucket] += 1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-12)


@pytest.fixture
def fake_embed():
    return hashing_embed
