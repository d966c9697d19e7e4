"""Figures for the inference pages, written as SVG to docs/assets/figures/inference/.

    python -c "from snippets.inference.figures import write_figures; write_figures()"

tests/inference/test_figures.py fails when a committed figure differs from what this
code draws.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from snippets.inference.batching import Request, timeline  # noqa: E402

FIGURES = Path(__file__).resolve().parents[2] / "docs" / "assets" / "figures" / "inference"
LENGTHS = [8, 2, 3, 6, 2, 4, 5, 3]  # output tokens of eight requests, all arriving at once
SLOTS = 3


def batching_timeline_svg() -> str:
    """Slots over forward passes, request-level against continuous batching."""
    plt.rcParams["svg.hashsalt"] = "inference-figures"  # stable ids: the file is reproducible
    plt.rcParams["svg.fonttype"] = "none"  # keep text as text
    fig, axes = plt.subplots(2, 1, figsize=(8, 3.6), sharex=True)
    colors = plt.get_cmap("tab10").colors
    for ax, continuous, title in [
        (axes[0], False, "request-level (dynamic) batching"),
        (axes[1], True, "continuous (iteration-level) batching"),
    ]:
        passes = timeline([Request([1], n) for n in LENGTHS], SLOTS, continuous)
        for step, slots in enumerate(passes):
            for slot, request in enumerate(slots):
                if request is None:
                    ax.add_patch(plt.Rectangle((step, slot), 1, 0.9, facecolor="none",
                                               edgecolor="0.75", hatch="///", linewidth=0.5))
                else:
                    ax.add_patch(plt.Rectangle((step, slot), 1, 0.9,
                                               facecolor=colors[request], edgecolor="white"))
                    ax.text(step + 0.5, slot + 0.45, f"R{request}", ha="center", va="center",
                            fontsize=7, color="white")
        ax.set_title(f"{title}: {len(passes)} forward passes", fontsize=9, loc="left")
        ax.set_ylim(0, SLOTS)
        ax.set_yticks([s + 0.45 for s in range(SLOTS)], [f"slot {s}" for s in range(SLOTS)],
                      fontsize=8)
        ax.invert_yaxis()
    longest = max(
        len(timeline([Request([1], n) for n in LENGTHS], SLOTS, c)) for c in (False, True)
    )
    axes[1].set_xlim(0, longest)
    axes[1].set_xticks(range(0, longest + 1, 2))
    axes[1].set_xlabel("forward pass (hatched: idle slot)", fontsize=8)
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(fig)
    return buffer.getvalue()


def write_figures() -> None:
    FIGURES.mkdir(parents=True, exist_ok=True)
    (FIGURES / "batching-timeline.svg").write_text(batching_timeline_svg(), encoding="utf-8")
