"""The vector-search figure: recall@10 against queries per second, one SVG per language in
docs/assets/figures/rag/ (see snippets/figures). `make figures` redraws it from the timings
recorded in data/vector_search_timings.json; `python scripts/figures.py --measure` runs
the benchmark again first (timings vary from machine to machine and run to run).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from snippets.figures import FIGURES_DIR, figure_labels, site_figure, write_figure
from snippets.rag.vector_search import Result, benchmark, make_vectors

OUT = FIGURES_DIR / "rag"
TIMINGS = Path(__file__).resolve().parent / "data" / "vector_search_timings.json"
N_BASE, N_QUERIES, DIM = 20_000, 200, 384
MARKERS = {"flat": "s", "IVF": "o", "PQ": "^", "HNSW": "D"}


def recorded_results(path: Path = TIMINGS) -> list[Result]:
    """The benchmark run the committed figure shows (no memory column: it is not drawn)."""
    rows = json.loads(path.read_text(encoding="utf-8"))["results"]
    return [Result(r["method"], r["setting"], r["recall"], float("nan"), 1000 / r["queries_per_second"])
            for r in rows]


def record_results(path: Path = TIMINGS) -> None:
    """Run the benchmark again (about a minute) and record recall and speed."""
    results = benchmark(*make_vectors(N_BASE, N_QUERIES))
    record = json.loads(path.read_text(encoding="utf-8"))
    record["results"] = [
        {"method": r.method, "setting": r.setting, "recall": round(r.recall, 4),
         "queries_per_second": round(1000 / r.ms_per_query, 1)}
        for r in results
    ]
    record["note"] = record["note"].split(" measured on ")[0] + (
        f" measured on {time.strftime('%Y-%m-%d')}; remeasure with python scripts/figures.py --measure"
    )
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


def _point_label(r: Result) -> str:
    """The setting that differs between a method's points: nprobe=4, ef=20, m=16."""
    return r.setting.split()[0 if r.method == "PQ" else -1]


@site_figure
def plot_vector_search(results: list[Result]) -> Figure:
    """Recall@10 against queries per second (one thread), one line per method."""
    L = figure_labels("vector_search")
    fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
    for method, marker in MARKERS.items():
        rows = [r for r in results if r.method == method]
        ax.plot([1000 / r.ms_per_query for r in rows], [r.recall for r in rows], marker=marker,
                label=L["flat"] if method == "flat" else method)
        for r in rows:
            text = L["exact"] if r.setting == "exact" else _point_label(r)
            ax.annotate(text, (1000 / r.ms_per_query, r.recall), textcoords="offset points",
                        xytext=(5, -12), fontsize=9)
    ax.set_xscale("log")
    ax.set_xlabel(L["queries_per_second"])
    ax.set_ylabel(L["recall"])
    ax.set_title(L("title", n=N_BASE, d=DIM))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower left")
    return fig


def write_figures(out_dir: Path = OUT) -> list[Path]:
    return write_figure(plot_vector_search(recorded_results()), out_dir, "vector-search",
                        salt="rag-vector-search")
