"""Fixtures shared by every test package."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """Run torch on one intra-op thread during each test.

    The models in these tests are tiny; on a shared two-core machine, intra-op threads
    that wait for each other make them 10-100x slower. Only where torch is already
    imported, so tests that do not use torch do not pay for importing it.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
