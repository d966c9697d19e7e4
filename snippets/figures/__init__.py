"""Figures in the page's language and in both themes (see CONTRIBUTING.md, "Figures").

    L = figure_labels("attention")          # this table's words, in the default language
    ax.set_xlabel(L["tokens_in_context"])
    write_figure(fig, directory, "decode-time")   # decode-time.en.svg, .zh.svg, .ru.svg

`make figures` (scripts/figures.py) redraws every shared figure.
"""

from snippets.figures.render import (
    FIGURES_DIR,
    figure_svg,
    figure_svgs,
    in_language,
    site_figure,
    site_style,
    write_figure,
)
from snippets.figures.text import LANGS, Labels, default_lang, figure_labels, translate

__all__ = [
    "FIGURES_DIR",
    "LANGS",
    "Labels",
    "default_lang",
    "figure_labels",
    "figure_svg",
    "figure_svgs",
    "in_language",
    "site_figure",
    "site_style",
    "translate",
    "write_figure",
]
