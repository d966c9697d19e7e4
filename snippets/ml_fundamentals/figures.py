"""Figures for the ML-fundamentals pages and lab (matplotlib; SVG written deterministically).

    from snippets.ml_fundamentals.figures import write_figures
    write_figures()   # regenerates docs/assets/figures/ml-fundamentals/*.svg
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

FIGURE_DIR = Path(__file__).resolve().parents[2] / "docs" / "assets" / "figures" / "ml-fundamentals"


def svm_decision_boundaries(seed: int = 0) -> Figure:
    """Decision regions of three SVMs on the training half of the two-circles data."""
    from snippets.ml_fundamentals.svm_kernels import circles, make_models

    x, _, y, _ = circles(seed)
    models = make_models()
    shown = [("linear kernel", models["linear"]),
             ("polynomial kernel, p = 2", models["poly, p = 2"]),
             ("RBF kernel, gamma = 1", models["RBF, gamma = 1"])]
    grid_x, grid_y = np.meshgrid(np.linspace(-1.6, 1.6, 81), np.linspace(-1.6, 1.6, 81))
    grid = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    fig, axes = plt.subplots(1, 3, figsize=(10.5, 4.2), sharey=True, layout="constrained")
    fig.get_layout_engine().set(rect=(0, 0, 1, 0.98))  # room above the two-line titles
    for ax, (title, model) in zip(axes, shown, strict=True):
        model.fit(x, y)
        score = model.decision_function(grid).reshape(grid_x.shape)
        ax.contourf(grid_x, grid_y, score, levels=[score.min() - 1, 0, score.max() + 1],
                    colors=["#c6dbef", "#fdd0a2"]).set_rasterized(True)
        ax.contour(grid_x, grid_y, score, levels=[-1, 0, 1], colors="k",
                   linestyles=["--", "-", "--"], linewidths=[0.8, 1.4, 0.8])
        # Line2D markers, not scatter: the SVG then holds one short <use> per point
        # (scatter with hollow markers writes a clipped group per point).
        ax.plot(*x[y == 0].T, "o", ms=2.8, mew=1.0, color="#2171b5", label="class 0")
        ax.plot(*x[y == 1].T, "o", ms=2.8, mew=1.0, color="#d94801", label="class 1")
        sv = model.support_vectors_
        ax.plot(*sv.T, "o", ms=5.3, mew=0.6, mfc="none", mec="k", label="support vectors")
        ax.set_title(f"{title}\ntraining accuracy {model.score(x, y):.2f}", fontsize=10)
        ax.set_aspect("equal")
        ax.set_xticks([-1, 0, 1])
        ax.set_yticks([-1, 0, 1])
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=9, frameon=False)
    return fig


def _round_numbers(text: str, digits: int = 2) -> str:
    """Round every decimal number in text to `digits` places (0.01 pt is invisible)."""

    def short(match: re.Match) -> str:
        value = f"{float(match[0]):.{digits}f}".rstrip("0").rstrip(".")
        return "0" if value in ("", "-0") else value

    return re.sub(r"-?\d+\.\d+", short, text)


def compact_svg(svg: str) -> str:
    """Shrink matplotlib's SVG without changing the picture.

    Path data and marker positions are written with six decimals: round them to 0.01 pt.
    Every marker <use> repeats its group's style: state it once on the group (a <use>
    inherits it). The rasterised background stays as it is.
    """
    svg = re.sub(r' d="([^"]*)"', lambda m: f' d="{_round_numbers(m[1])}"', svg)
    svg = re.sub(
        r'(<use [^>]*?) x="([^"]+)" y="([^"]+)"',
        lambda m: f'{m[1]} x="{_round_numbers(m[2])}" y="{_round_numbers(m[3])}"',
        svg,
    )

    def hoist(match: re.Match) -> str:
        group, uses = match[1], match[2]
        styles = set(re.findall(r'<use [^>]*style="([^"]*)"', uses))
        if len(styles) != 1 or "style=" in group:
            return match[0]
        style = styles.pop()
        return f'{group[:-1]} style="{style}">' + uses.replace(f' style="{style}"', "")

    return re.sub(r"(<g [^>]*>)((?:\s*<use [^>]*/>)+)", hoist, svg)


def save_svg(fig: Figure, path: Path) -> None:
    """Write a compact SVG that is byte-identical from run to run (fixed ids, no date)."""
    buffer = io.StringIO()
    with plt.rc_context({"svg.hashsalt": "ml-fundamentals", "svg.fonttype": "none"}):
        fig.savefig(buffer, format="svg", dpi=150, metadata={"Date": None, "Creator": None})
    plt.close(fig)
    path.write_text(compact_svg(buffer.getvalue()), encoding="utf-8")


def write_figures(directory: Path = FIGURE_DIR) -> list[Path]:
    """Regenerate every figure of the section; return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "svm-decision-boundaries.svg"
    save_svg(svm_decision_boundaries(), path)
    return [path]
