"""Figures for the ML-fundamentals pages and lab (matplotlib; SVG written deterministically).

    from snippets.ml_fundamentals.figures import write_figures
    write_figures()   # regenerates docs/assets/figures/ml-fundamentals/*.svg
"""

from __future__ import annotations

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
    for ax, (title, model) in zip(axes, shown, strict=True):
        model.fit(x, y)
        score = model.decision_function(grid).reshape(grid_x.shape)
        ax.contourf(grid_x, grid_y, score, levels=[score.min() - 1, 0, score.max() + 1],
                    colors=["#c6dbef", "#fdd0a2"]).set_rasterized(True)
        ax.contour(grid_x, grid_y, score, levels=[-1, 0, 1], colors="k",
                   linestyles=["--", "-", "--"], linewidths=[0.8, 1.4, 0.8])
        ax.scatter(*x[y == 0].T, s=8, c="#2171b5", label="class 0")
        ax.scatter(*x[y == 1].T, s=8, c="#d94801", label="class 1")
        sv = model.support_vectors_
        ax.scatter(*sv.T, s=28, facecolors="none", edgecolors="k", linewidths=0.6,
                   label="support vectors")
        ax.set_title(f"{title}\ntraining accuracy {model.score(x, y):.2f}", fontsize=10)
        ax.set_aspect("equal")
        ax.set_xticks([-1, 0, 1])
        ax.set_yticks([-1, 0, 1])
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=9, frameon=False)
    return fig


def save_svg(fig: Figure, path: Path) -> None:
    """Write an SVG that is byte-identical from run to run (fixed ids, no date)."""
    with plt.rc_context({"svg.hashsalt": "ml-fundamentals", "svg.fonttype": "none"}):
        fig.savefig(path, format="svg", dpi=150, metadata={"Date": None, "Creator": None})
    plt.close(fig)


def write_figures(directory: Path = FIGURE_DIR) -> list[Path]:
    """Regenerate every figure of the section; return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "svm-decision-boundaries.svg"
    save_svg(svm_decision_boundaries(), path)
    return [path]
