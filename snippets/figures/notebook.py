"""Lab figures: SVG in the site style, rendered in every language from one execution.

The build (docs/hooks/labs.py) and scripts/run_lab.py run SETUP in the lab's kernel before
its first cell (and drop that cell from the result); the lab's own cells stay identical in
every language.
A figure the lab shows is drawn once and rendered in every language
(`snippets.figures.render.figure_svgs`): the output holds the SVG in the kernel's default
language, and its metadata, under METADATA_KEY, the SVG of every language, from which
docs/hooks/labs.py gives each language's page its own.
"""

from __future__ import annotations

from typing import Any

METADATA_KEY = "field_guide_svg"  # metadata["image/svg+xml"][METADATA_KEY] = {lang: svg}
SETUP = "__import__('snippets.figures.notebook', fromlist=['install']).install()"


def _format(fig: Any) -> tuple[str, dict[str, dict[str, str]]] | None:  # noqa: ANN401
    from snippets.figures.render import figure_svgs
    from snippets.figures.text import default_lang

    if not fig.get_axes() and not fig.texts:
        return None  # an empty figure: show nothing, as the inline backend does
    svgs = figure_svgs(fig)
    return svgs[default_lang()], {METADATA_KEY: svgs}


def install(shell: Any = None) -> None:  # noqa: ANN401
    """Use the site's figure style in this IPython kernel and show figures as themed SVG in
    every language (instead of the inline backend's PNG)."""
    from IPython import get_ipython

    shell = shell or get_ipython()
    if shell is None:
        raise RuntimeError("install() configures an IPython kernel; none is running")
    import matplotlib
    import matplotlib.pyplot as plt  # noqa: F401  (loads the inline backend first)
    import matplotlib_inline.backend_inline  # noqa: F401  (which registers its formatters)
    from matplotlib.figure import Figure

    from snippets.figures.render import site_style

    matplotlib.rcParams.update(site_style())
    for formatter in shell.display_formatter.formatters.values():
        formatter.pop(Figure, None)
    shell.display_formatter.formatters["image/svg+xml"].for_type(Figure, _format)
