"""Shared fixtures for the RAG tests: a fast, deterministic stand-in for the embedding model,
and one torch thread for the tests that run the real one."""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Iterator

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


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """A small encoder on a shared two-core machine: one intra-op thread is faster and
    steadier than two that wait for each other. Only where a test module imported torch."""
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
