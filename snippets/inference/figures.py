"""Figures for the inference pages: one SVG per language in docs/assets/figures/inference/
(see snippets/figures). Regenerate them with `make figures`.

tests/inference/test_figures.py fails when a committed figure differs from what this
code draws.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from snippets.figures import FIGURES_DIR, figure_labels, site_figure, write_figure
from snippets.figures.render import PALETTE
from snippets.inference.batching import Request, timeline

FIGURES = FIGURES_DIR / "inference"
LENGTHS = [8, 2, 3, 6, 2, 4, 5, 3]  # output tokens of eight requests, all arriving at once
SLOTS = 3
BOX_TEXT = "#111111"  # dark on the light tints below, in both themes (contrast above 7:1)


def _tint(color: str, share: float = 0.45) -> tuple[float, float, float]:
    """`color` mixed with white: light enough for dark text on it."""
    return tuple(c + (1 - c) * share for c in to_rgb(color))


@site_figure
def batching_timeline() -> Figure:
    """Slots over forward passes, request-level against continuous batching."""
    L = figure_labels("batching")
    fig, axes = plt.subplots(2, 1, figsize=(6.4, 3.8), sharex=True, layout="constrained")
    for ax, continuous, title in [
        (axes[0], False, L["request_level"]),
        (axes[1], True, L["continuous"]),
    ]:
        passes = timeline([Request([1], n) for n in LENGTHS], SLOTS, continuous)
        for step, slots in enumerate(passes):
            for slot, request in enumerate(slots):
                if request is None:
                    ax.add_patch(plt.Rectangle((step, slot), 1, 0.9, facecolor="none",
                                               edgecolor="#999999", hatch="///", linewidth=0.5))
                else:
                    color = _tint(PALETTE[request % len(PALETTE)])
                    ax.add_patch(plt.Rectangle((step, slot), 1, 0.9, facecolor=color,
                                               edgecolor="none"))
                    ax.text(step + 0.5, slot + 0.45, f"R{request}", ha="center", va="center",
                            fontsize=9, color=BOX_TEXT)
        ax.set_title(L("passes_title", title=title, n=len(passes)), loc="left")
        ax.set_ylim(0, SLOTS)
        ax.set_yticks([s + 0.45 for s in range(SLOTS)], [L("slot", s=s) for s in range(SLOTS)])
        ax.invert_yaxis()
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
    longest = max(
        len(timeline([Request([1], n) for n in LENGTHS], SLOTS, c)) for c in (False, True)
    )
    axes[1].set_xlim(0, longest)
    axes[1].set_xticks(range(0, longest + 1, 2))
    axes[1].set_xlabel(L["forward_pass"])
    return fig


def write_figures(out_dir: Path = FIGURES) -> list[Path]:
    return write_figure(batching_timeline(), out_dir, "batching-timeline", salt="inference-figures")
