"""The figures the pages share, by folder of docs/assets/figures/, and how to redraw them.

Each writer draws its section's figures from code and recorded data and writes
<name>.<lang>.svg for every language into the folder it is given. The pages link
<name>.svg; docs/hooks/shared_files.py serves each language its own file under that name.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from snippets.figures.render import FIGURES_DIR


def _attention(out: Path) -> list[Path]:
    from snippets.attention.figures import write_all

    return write_all(out)


def _inference(out: Path) -> list[Path]:
    from snippets.inference.figures import write_figures

    return write_figures(out)


def _ml_fundamentals(out: Path) -> list[Path]:
    from snippets.ml_fundamentals.figures import write_figures

    return write_figures(out)


def _rag(out: Path) -> list[Path]:
    from snippets.rag.figures import write_figures

    return write_figures(out)


WRITERS: dict[str, Callable[[Path], list[Path]]] = {
    "attention-long-context": _attention,
    "inference": _inference,
    "ml-fundamentals": _ml_fundamentals,
    "rag": _rag,
}


def recompute() -> None:
    """Recompute the recorded data that is exact but slow (attention memory, ~20 s)."""
    from snippets.attention.figures import record_memory_curve

    record_memory_curve()


def measure() -> None:
    """Measure the timings again (decode step, vector search; a few minutes, machine-dependent)."""
    from snippets.attention.figures import record_decode_times
    from snippets.rag.figures import record_results

    record_decode_times()
    record_results()


def write_all(root: Path = FIGURES_DIR) -> list[Path]:
    """Redraw every shared figure in every language under `root`; remove stale files."""
    written = []
    for folder, write in WRITERS.items():
        paths = write(root / folder)
        for old in (root / folder).glob("*.svg"):
            if old not in paths:
                old.unlink()  # a figure no writer draws any more, or the old single-language file
        written += paths
    return written
