"""Recorded snippet outputs match what the code prints today.

Pages embed snippets/<section>/outputs/<name>.txt; each record must equal the standard
output of `python -m snippets.<section>.<name>`. Refresh with `make outputs`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .modules import load_script

snippet_outputs = load_script("snippet_outputs")
ROOT = Path(__file__).resolve().parents[2]
MODULES = snippet_outputs.runnable_modules()


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_recorded_output_is_current(module: Path) -> None:
    record = snippet_outputs.record_path(module)
    assert record.exists(), f"{record.relative_to(ROOT)} is missing: run make outputs"
    printed = snippet_outputs.run_cached(module)
    assert printed == record.read_text(encoding="utf-8"), (
        f"{record.relative_to(ROOT)} is stale: run make outputs"
    )


def test_every_embedded_record_belongs_to_a_runnable_module() -> None:
    records = {p for p in (ROOT / "snippets").rglob("outputs/*.txt")}
    expected = {snippet_outputs.record_path(m) for m in MODULES}
    orphans = sorted(str(p.relative_to(ROOT)) for p in records - expected)
    assert not orphans, f"output records without a module that prints them: {orphans}"
