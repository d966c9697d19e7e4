"""Run each test of this package single-threaded: the models are tiny, and on a shared
two-core machine thread oversubscription makes them 10-30x slower."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
