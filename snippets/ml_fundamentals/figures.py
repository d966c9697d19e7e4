"""Figures for the ML-fundamentals pages and lab: one SVG per language in
docs/assets/figures/ml-fundamentals/ (see snippets/figures).

    from snippets.ml_fundamentals.figures import write_figures
    write_figures()   # or make figures
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from snippets.figures import FIGURES_DIR, figure_labels, site_figure, write_figure
from snippets.figures.render import PALETTE

FIGURE_DIR = FIGURES_DIR / "ml-fundamentals"
REGION_COLORS = ["#c6dbef", "#fdd0a2"]  # light blue and light orange: the two classes' sides
INK = "#222222"  # margin lines and support-vector rings: on the light regions in both themes


@site_figure
def svm_decision_boundaries(seed: int = 0) -> Figure:
    """Decision regions of three SVMs on the training half of the two-circles data."""
    from snippets.ml_fundamentals.svm_kernels import circles, make_models

    L = figure_labels("svm")
    x, _, y, _ = circles(seed)
    models = make_models()
    shown = [(L["linear"], models["linear"]),
             (L("poly", p=2), models["poly, p = 2"]),
             (L("rbf", gamma=1), models["RBF, gamma = 1"])]
    grid_x, grid_y = np.meshgrid(np.linspace(-1.6, 1.6, 81), np.linspace(-1.6, 1.6, 81))
    grid = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    fig, axes = plt.subplots(1, 3, figsize=(6.4, 3.3), sharey=True, layout="constrained")
    for ax, (title, model) in zip(axes, shown, strict=True):
        model.fit(x, y)
        score = model.decision_function(grid).reshape(grid_x.shape)
        ax.contourf(grid_x, grid_y, score, levels=[score.min() - 1, 0, score.max() + 1],
                    colors=REGION_COLORS).set_rasterized(True)
        ax.contour(grid_x, grid_y, score, levels=[-1, 0, 1], colors=INK,
                   linestyles=["--", "-", "--"], linewidths=[0.8, 1.4, 0.8])
        # Line2D markers, not scatter: the SVG then holds one short <use> per point
        # (scatter with hollow markers writes a clipped group per point).
        ax.plot(*x[y == 0].T, "o", ms=2.8, mew=1.0, color=PALETTE[0], label=L("class", c=0))
        ax.plot(*x[y == 1].T, "o", ms=2.8, mew=1.0, color=PALETTE[1], label=L("class", c=1))
        sv = model.support_vectors_
        ax.plot(*sv.T, "o", ms=5.3, mew=0.6, mfc="none", mec=INK, label=L["support_vectors"])
        ax.set_title(L("panel", kernel=title, acc=model.score(x, y)), fontsize=9.5)
        ax.set_aspect("equal")
        ax.set_xticks([-1, 0, 1])
        ax.set_yticks([-1, 0, 1])
    handles, labels = axes[0].get_legend_handles_labels()
    # The legend's ring sits on the page, not on a coloured region: draw it in the text colour.
    handles[2] = Line2D([], [], ls="none", marker="o", ms=5.3, mew=0.6, mfc="none", mec="black")
    fig.legend(handles, labels, loc="outside lower center", ncol=3, frameon=False)
    return fig


def write_figures(directory: Path = FIGURE_DIR) -> list[Path]:
    """Regenerate every figure of the section in every language; return the paths written."""
    return write_figure(svm_decision_boundaries(), directory, "svm-decision-boundaries",
                        salt="ml-fundamentals")
