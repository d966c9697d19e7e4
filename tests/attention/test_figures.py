"""The section's figures: plotted data is right and the committed SVGs are up to date."""

from __future__ import annotations

from pathlib import Path

import pytest

from snippets.attention.figures import (
    OUT,
    decode_step_times,
    kv_cache_curve,
    plot_kv_cache,
    plot_rope_wavelengths,
)


def test_kv_cache_curve_is_linear_in_length_and_ordered_by_kv_heads() -> None:
    lengths = [4096, 8192, 131072]
    curve = kv_cache_curve(lengths)
    # 2 (K and V) x 80 layers x 128 dims x 2 bytes per KV head per token, in GiB.
    for name, heads in [("MHA", 64), ("GQA-8", 8), ("MQA", 1)]:
        expected = [2 * 80 * heads * 128 * 2 * n / 2**30 for n in lengths]
        assert curve[name] == pytest.approx(expected)
    assert curve["MHA"][0] == pytest.approx(10.0)  # 10 GiB for one 4k sequence under MHA


@pytest.mark.parametrize("name,plot", [("kv-cache-70b.svg",
                                        lambda d: plot_kv_cache([4096, 16384, 32768, 65536,
                                                                 131072], d)),
                                       ("rope-wavelengths.svg", plot_rope_wavelengths)])
def test_committed_deterministic_figures_are_current(name, plot, tmp_path: Path) -> None:
    fresh = plot(tmp_path)
    assert fresh.read_bytes() == (OUT / name).read_bytes(), f"regenerate {name} (see figures.py)"


def test_decode_step_times_measures_both_paths() -> None:
    times = decode_step_times([8, 16], repeats=1, d_model=32, n_layers=1)
    assert set(times) == {"without cache", "with cache"}
    assert all(len(v) == 2 and all(t > 0 for t in v) for v in times.values())
