"""Run every test of this package single-threaded: the models are tiny, and on a shared
two-core machine intra-op threads that wait for each other make a forward pass of a tiny
LLaMA up to a hundred times slower. The numerics are the same with one thread."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
