"""The site's figure style and its SVG output: one drawing, one SVG per language.

* Style (`STYLE`): transparent background, a mid-tone colour cycle that reads on the light
  and the dark page, text sizes that stay at least 12 px when a figure of up to 6.4 inches
  is shown at its natural size (9 pt = 12 px).
* Themes: everything matplotlib draws in black (text, axes, ticks, `color="k"`) becomes
  `currentColor`, and a style sheet inside the SVG sets that colour, dark on the light theme
  and light on the dark one. The media query follows the embedding page's colour scheme
  (Material for MkDocs sets `color-scheme: dark` on its slate palette), so one file serves
  both themes, as an <img>, without scripts.
* Languages: `figure_svgs(fig)` renders a figure drawn once in every language. Strings
  that came from a label table (`snippets.figures.text`) are replaced by their translation,
  tick labels get the language's number format, Chinese text gets a CJK font.
* Text stays text (svg.fonttype "none"), and the file is the same from run to run (fixed
  ids, no date), so a test can compare a committed figure with what the code draws.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from functools import wraps
from pathlib import Path

import matplotlib
import matplotlib.font_manager as font_manager
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import Formatter

from snippets.figures.text import LANGS, localize_numbers_in, translate

FIGURES_DIR = Path(__file__).resolve().parents[2] / "docs" / "assets" / "figures"

# Mid-tone colours: each has a contrast of at least 3:1 with white and with the dark theme's
# background, so a line reads on both (tab10's orange, olive and cyan do not on white).
PALETTE = ["#3b7dd8", "#d9730d", "#2e9a48", "#dc4a44", "#9467bd",
           "#b0704c", "#d0589f", "#808080", "#959616", "#139ea8"]
FOREGROUND = {"light": "#1f2328", "dark": "#e3e5ea"}  # text and axes; black in the drawing
BACKGROUND = {"light": "#ffffff", "dark": "#1e2029"}  # legend boxes; Material's page colours
LEGEND_FACE = "#fefefd"  # a colour no one picks: becomes the theme's background

LATIN_FONT = "DejaVu Sans"  # matplotlib ships it: the layout is the same on every machine
CJK_FONT = "Noto Sans CJK SC"  # Debian: fonts-noto-cjk
FONT_STACK = {  # what the browser is asked for, after the font matplotlib measured with
    "zh": f"'{LATIN_FONT}', '{CJK_FONT}', 'Source Han Sans SC', 'PingFang SC', "
          "'Microsoft YaHei', sans-serif",
}
FAMILIES = {"en": [LATIN_FONT, "sans-serif"], "ru": [LATIN_FONT, "sans-serif"],
            "zh": [LATIN_FONT, CJK_FONT, "sans-serif"]}

STYLE = {
    "font.family": ["sans-serif"],
    "font.sans-serif": [LATIN_FONT],
    "font.size": 10,
    "axes.titlesize": 10.5,
    "axes.labelsize": 10,
    "xtick.labelsize": 9.5,
    "ytick.labelsize": 9.5,
    "legend.fontsize": 9.5,
    "legend.title_fontsize": 9.5,
    "figure.titlesize": 11,
    "figure.figsize": (6.4, 3.6),
    "figure.facecolor": "none",
    "axes.facecolor": "none",
    "savefig.facecolor": "none",
    "legend.facecolor": LEGEND_FACE,
    "legend.edgecolor": "#999999",
    "legend.framealpha": 0.85,
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    "image.cmap": "viridis",
    "text.color": "black",
    "axes.edgecolor": "black",
    "axes.labelcolor": "black",
    "xtick.color": "black",
    "ytick.color": "black",
    "grid.color": "black",
    "grid.alpha": 0.2,
    "hatch.color": "#999999",
    "svg.fonttype": "none",
    "axes.unicode_minus": True,
}
RASTER_DPI = 100  # images and rasterized layers: about one pixel per CSS pixel at 6.4 in
MIN_FONT_PT = 9.0  # 12 px at natural size; figure_svgs refuses smaller text
COLUMN_PX = 616  # the narrowest place a figure is shown at 1280 px: a lab's output column


def site_style() -> dict[str, object]:
    """rcParams for a site figure (use with plt.rc_context or plt.rcParams.update)."""
    ensure_fonts()
    return dict(STYLE)


def site_figure(draw: Callable[..., Figure]) -> Callable[..., Figure]:
    """Decorator: `draw` makes its figure in the site style, whatever style the caller set."""

    @wraps(draw)
    def wrapper(*args, **kwargs) -> Figure:  # noqa: ANN002, ANN003
        with matplotlib.style.context("default"), matplotlib.rc_context(site_style()):
            return draw(*args, **kwargs)

    return wrapper


def ensure_fonts() -> None:
    """Make sure matplotlib knows the CJK font (its font cache may predate the install)."""
    if _has_font(CJK_FONT):
        return
    for path in font_manager.findSystemFonts():
        if "NotoSansCJK" in path.replace("-", "").replace("_", ""):
            font_manager.fontManager.addfont(path)
    if not _has_font(CJK_FONT):
        raise RuntimeError(
            f"font {CJK_FONT!r} not found: Chinese figures need it for their layout "
            "(Debian: apt-get install fonts-noto-cjk)"
        )


def _has_font(name: str) -> bool:
    return any(entry.name == name for entry in font_manager.fontManager.ttflist)


SUPERSCRIPT = str.maketrans("0123456789-+", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺")
MATH_PLAIN = re.compile(r"\$\\mathdefault\{([-\d.]+)\}\$")
MATH_POWER = re.compile(
    r"\$\\mathdefault\{(?:(?P<mant>[\d.]+)\\times)?(?P<base>-?\d+)\^\{(?P<exp>-?\d+)\}\}\$"
)


def plain_power(text: str) -> str:
    """A log axis' mathtext tick label ($\\mathdefault{10^{-3}}$) as plain text, 10⁻³: the
    exponent keeps the label's font size (mathtext draws it at 70 %, under 12 px)."""
    plain = MATH_PLAIN.fullmatch(text)
    if plain:  # $\\mathdefault{0}$, as symlog axes label zero
        return plain[1].replace("-", "−")
    match = MATH_POWER.fullmatch(text)
    if not match:
        return text
    mantissa = f"{match['mant']}×" if match["mant"] else ""
    return f"{mantissa}{match['base'].replace('-', '−')}{match['exp'].translate(SUPERSCRIPT)}"


class _Localized(Formatter):
    """A tick formatter's labels in another language: translated labels (category and
    fixed tick labels) and the language's decimal separator."""

    def __init__(self, inner: Formatter, lang: str) -> None:
        self.inner, self.lang = inner, lang
        self.axis = inner.axis

    def _say(self, text: str) -> str:
        translated = translate(text, self.lang)
        if translated is not None:
            return translated
        return localize_numbers_in(plain_power(text), self.lang)

    def __call__(self, x, pos=None) -> str:  # noqa: ANN001
        return self._say(self.inner(x, pos))

    def format_ticks(self, values) -> list[str]:  # noqa: ANN001
        return [self._say(text) for text in self.inner.format_ticks(values)]

    def set_locs(self, locs) -> None:  # noqa: ANN001
        self.inner.set_locs(locs)

    def get_offset(self) -> str:
        return self._say(self.inner.get_offset())

    def format_data(self, value) -> str:  # noqa: ANN001
        return self._say(self.inner.format_data(value))

    def format_data_short(self, value) -> str:  # noqa: ANN001
        return self._say(self.inner.format_data_short(value))


def _axes_axis(fig: Figure) -> Iterator[Axis]:
    for ax in fig.get_axes():
        yield ax.xaxis
        yield ax.yaxis


@contextmanager
def in_language(fig: Figure, lang: str) -> Iterator[Figure]:
    """Show `fig` in `lang` while the block runs (texts, tick labels, fonts); then restore."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}")
    ensure_fonts()
    texts = [(t, t.get_text(), t.get_fontfamily()) for t in fig.findobj(Text)]
    tickers = [ticker for axis in _axes_axis(fig) for ticker in (axis.major, axis.minor)]
    formatters = [(ticker, ticker.formatter) for ticker in tickers]
    try:
        for text, content, _ in texts:
            translated = translate(content, lang)
            if translated is not None:
                text.set_text(translated)
            text.set_fontfamily(FAMILIES[lang])
        for ticker, formatter in formatters:
            ticker.formatter = _Localized(formatter, lang)
        yield fig
    finally:
        for ticker, formatter in formatters:
            ticker.formatter = formatter
        for text, content, family in texts:
            text.set_text(content)
            text.set_fontfamily(family)


# ------------------------------------------------------------------------------------------
# SVG output
# ------------------------------------------------------------------------------------------

THEME_CSS = (
    ".fg-figure{{color:{fl};--figure-bg:{bl}}}"
    "text{{fill:currentColor}}"
    "@media (prefers-color-scheme: dark){{.fg-figure{{color:{fd};--figure-bg:{bd}}}}}"
).format(fl=FOREGROUND["light"], bl=BACKGROUND["light"], fd=FOREGROUND["dark"], bd=BACKGROUND["dark"])


def _round_numbers(text: str, digits: int = 2) -> str:
    """Round every decimal number in text to `digits` places (0.01 pt is invisible)."""

    def short(match: re.Match[str]) -> str:
        value = f"{float(match[0]):.{digits}f}".rstrip("0").rstrip(".")
        return "0" if value in ("", "-0") else value

    return re.sub(r"-?\d+\.\d+", short, text)


def compact_svg(svg: str) -> str:
    """Shrink matplotlib's SVG without changing the picture.

    Path data and marker positions are written with six decimals: round them to 0.01 pt.
    Every marker <use> repeats its group's style: state it once on the group (a <use>
    inherits it). Embedded raster images stay as they are.
    """
    svg = re.sub(r' d="([^"]*)"', lambda m: f' d="{_round_numbers(m[1])}"', svg)
    svg = re.sub(
        r'(<use [^>]*?) x="([^"]+)" y="([^"]+)"',
        lambda m: f'{m[1]} x="{_round_numbers(m[2])}" y="{_round_numbers(m[3])}"',
        svg,
    )

    def hoist(match: re.Match[str]) -> str:
        group, uses = match[1], match[2]
        styles = set(re.findall(r'<use [^>]*style="([^"]*)"', uses))
        if len(styles) != 1 or "style=" in group:
            return match[0]
        style = styles.pop()
        return f'{group[:-1]} style="{style}">' + uses.replace(f' style="{style}"', "")

    return re.sub(r"(<g [^>]*>)((?:\s*<use [^>]*/>)+)", hoist, svg)


def themed_svg(svg: str, lang: str) -> str:
    """matplotlib's SVG with the theme's colours and the language's font stack."""
    svg = svg.replace("#000000", "currentColor")
    svg = svg.replace(LEGEND_FACE, "var(--figure-bg)")
    if lang in FONT_STACK:
        family = ", ".join(f"'{f}'" if f != "sans-serif" else f for f in FAMILIES[lang])
        svg = svg.replace(f"font-family: {family}", f"font-family: {FONT_STACK[lang]}")
    svg = re.sub(r"(<style type=\"text/css\">)", r"\1" + THEME_CSS, svg, count=1)
    return re.sub(r"<svg ", '<svg class="fg-figure" ', svg, count=1)


def _smallest_font(fig: Figure) -> float:
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    for axis in _axes_axis(fig):
        if axis.get_visible():
            sizes += [t.get_fontsize() for t in axis.get_ticklabels() if t.get_text().strip()]
    return min(sizes, default=MIN_FONT_PT)


def figure_svg(fig: Figure, lang: str, salt: str = "field-guide") -> str:
    """`fig` as a themed, compact, reproducible SVG in `lang`."""
    buffer = io.StringIO()
    with ExitStack() as stack:
        stack.enter_context(matplotlib.rc_context(
            {"svg.hashsalt": salt, "svg.fonttype": "none", "font.sans-serif": [LATIN_FONT]}
        ))
        stack.enter_context(in_language(fig, lang))
        fig.savefig(buffer, format="svg", bbox_inches="tight", pad_inches=0.05, dpi=RASTER_DPI,
                    metadata={"Date": None, "Creator": None})
        smallest = _smallest_font(fig)
    svg = buffer.getvalue()
    if smallest < MIN_FONT_PT:
        raise ValueError(f"figure text of {smallest} pt: at least {MIN_FONT_PT} pt (12 px) is legible")
    width = float(re.search(r'<svg [^>]*width="([\d.]+)pt"', svg)[1]) * 4 / 3  # CSS px
    shown = smallest * 4 / 3 * min(1.0, COLUMN_PX / width)
    if shown < 12 - 0.01:
        raise ValueError(
            f"a figure {width:.0f} px wide is shrunk into the {COLUMN_PX}-px column, and its "
            f"{smallest} pt text to {shown:.1f} px: draw at most 6.4 in wide (12 px is the minimum)"
        )
    return themed_svg(compact_svg(svg), lang)


def figure_svgs(fig: Figure, salt: str = "field-guide") -> dict[str, str]:
    """`fig` (drawn once, with labels from a table) as an SVG in every language."""
    return {lang: figure_svg(fig, lang, salt) for lang in LANGS}


def write_figure(fig: Figure, directory: Path, name: str, salt: str = "field-guide") -> list[Path]:
    """Write `fig` as <directory>/<name>.<lang>.svg for every language; close it."""
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for lang, svg in figure_svgs(fig, salt).items():
        path = directory / f"{name}.{lang}.svg"
        path.write_text(svg, encoding="utf-8")
        paths.append(path)
    plt.close(fig)
    return paths
