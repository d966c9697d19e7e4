"""snippets/rag/figures.py: the committed vector-search SVGs (one per language) are what the
code draws from the recorded benchmark, and the record agrees with the page's table."""

from __future__ import annotations

import re
from pathlib import Path

from snippets.figures import LANGS
from snippets.rag.figures import OUT, recorded_results, write_figures

OUTPUT = Path(__file__).resolve().parents[2] / "snippets" / "rag" / "outputs" / "vector_search.txt"


def test_committed_figures_are_what_the_code_draws(tmp_path: Path) -> None:
    written = write_figures(tmp_path)
    assert [p.name for p in written] == [f"vector-search.{lang}.svg" for lang in LANGS]
    for fresh in written:
        assert fresh.read_bytes() == (OUT / fresh.name).read_bytes(), f"{fresh.name}: run make figures"


def test_recorded_recall_is_the_recall_the_page_prints() -> None:
    """Recall is deterministic: the record matches python -m snippets.rag.vector_search."""
    printed = {
        (m[1], m[2].strip()): float(m[3])
        for m in re.finditer(r"^(\w+)\s+(.+?)\s+(\d\.\d{3})\s+\d+$", OUTPUT.read_text(), re.MULTILINE)
    }
    results = recorded_results()
    assert len(results) == len(printed) == 11
    for r in results:
        assert abs(printed[(r.method, r.setting)] - r.recall) <= 0.0005 + 1e-9, r
        assert r.ms_per_query > 0
