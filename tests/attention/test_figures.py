"""The section's figures: plotted data is right and the committed SVGs (one per language)
are what the code draws from its records."""

from __future__ import annotations

from pathlib import Path

import pytest

from snippets.attention.figures import (
    DECODE_LENGTHS,
    MEMORY_LENGTHS,
    OUT,
    decode_step_times,
    kv_cache_curve,
    recorded_decode_times,
    recorded_memory_curve,
    write_all,
)
from snippets.attention.flash import memory_curve
from snippets.figures import LANGS


def test_kv_cache_curve_is_linear_in_length_and_ordered_by_kv_heads() -> None:
    lengths = [4096, 8192, 131072]
    curve = kv_cache_curve(lengths)
    # 2 (K and V) x 80 layers x 128 dims x 2 bytes per KV head per token, in GiB.
    for name, heads in [("MHA", 64), ("GQA-8", 8), ("MQA", 1)]:
        expected = [2 * 80 * heads * 128 * 2 * n / 2**30 for n in lengths]
        assert curve[name] == pytest.approx(expected)
    assert curve["MHA"][0] == pytest.approx(10.0)  # 10 GiB for one 4k sequence under MHA


def test_committed_figures_are_what_the_code_draws(tmp_path: Path) -> None:
    written = write_all(tmp_path)
    names = {"decode-time", "kv-cache-70b", "attention-memory", "rope-wavelengths"}
    assert {p.name for p in written} == {f"{n}.{lang}.svg" for n in names for lang in LANGS}
    for fresh in written:
        committed = OUT / fresh.name
        assert committed.exists(), f"{committed} missing: run make figures"
        assert fresh.read_bytes() == committed.read_bytes(), f"{fresh.name} is stale: run make figures"
    assert {p.name for p in OUT.glob("*.svg")} == {p.name for p in written}, "stray figure files"


def test_recorded_memory_curve_is_memory_curve() -> None:
    """The figure draws a record of memory_curve (too slow to recompute here in full)."""
    recorded = recorded_memory_curve()
    first = memory_curve(MEMORY_LENGTHS[:2])
    assert {name: values[:2] for name, values in recorded.items()} == first


def test_recorded_decode_times_have_the_shape_the_page_describes() -> None:
    """The page says: without a cache the step grows with the context, with a cache it
    stays almost flat."""
    ms = recorded_decode_times()
    without, with_cache = ms["without cache"], ms["with cache"]
    assert len(without) == len(with_cache) == len(DECODE_LENGTHS)
    assert without == sorted(without) and without[-1] > 20 * without[0]
    assert all(c < w for c, w in zip(with_cache, without, strict=True))
    assert with_cache[-1] < 10 * with_cache[0]


def test_decode_step_times_measures_both_paths() -> None:
    times = decode_step_times([8, 16], repeats=1, d_model=32, n_layers=1)
    assert set(times) == {"without cache", "with cache"}
    assert all(len(v) == 2 and all(t > 0 for t in v) for v in times.values())
