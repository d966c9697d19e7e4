"""Small rewrites of a page's HTML that make its first view cheaper on a phone.

* Figures: each local image gets its intrinsic width and height (read from the file) so
  the browser reserves its box before it loads, and `loading="lazy"`, so figures below
  the fold are fetched when the reader scrolls toward them instead of competing with
  the page's first paint.
* Code: Pygments wraps every name and every run of whitespace in a span (`n`, `w`).
  Material draws names in the code's own colour and does not style whitespace, so those
  spans change nothing on screen; unwrapped, a code-heavy page has about a fifth fewer
  elements to style and lay out.
* Tables: Material's bundle moves every Markdown table (`<table>` without a class) into
  a scrolling wrapper when it starts. A Chromium trace with invalidation tracking shows
  that inserting the wrapper among the article's own children restyles the whole
  article, after the first paint: about 2,600 elements on the formula page. Each table
  gets a plain `<div>` of its own here, so the move happens inside it and restyles only
  the table. The `<div>` has no margin, padding or border: the wrapper's margins pass
  through it, and the page looks the same.
* Copy buttons: Material's bundle gives every code block a copy button when it starts
  (feature `content.code.copy`), after the first paint, and the page is laid out anew.
  The buttons are written here instead, with Material's own markup, title (its
  translation of `clipboard.copy`, read from the page's `__config`) and target: the
  bundle names each code block's `<pre>` `__code_<n>`, n counting the blocks that have
  no ancestor with an id, in document order (no code block of a Markdown page or a lab
  has such an ancestor; tests/site/test_every_page.py checks every button's target).
  Material's clipboard handler serves any `[data-clipboard-target]`, so the buttons work
  as before; mkdocs.yml leaves the feature off so that the bundle does not add a second
  set.
"""

from __future__ import annotations

import html as html_lib
import itertools
import json
import posixpath
import re
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

IMG = re.compile(r"<img\b(?P<attrs>[^>]*?)\s*/?>")
SRC = re.compile(r'\ssrc="(?P<src>[^"]+)"')
SVG_SIZE = re.compile(
    r'<svg\b[^>]*?\swidth="(?P<w>[\d.]+)(?P<wu>pt|px)?"[^>]*?\sheight="(?P<h>[\d.]+)(?P<hu>pt|px)?"'
)
PLAIN_SPAN = re.compile(r'<span class="[nw]">([^<]*)</span>')
CODE_BLOCK = re.compile(r'<div class="language-[^"]*highlight">.*?</div>', re.DOTALL)
PX_PER = {"pt": 4 / 3, "px": 1.0, None: 1.0}
# Python-Markdown writes a table as exactly "<table>"; tables with attributes (a lab's
# pandas output, for one) have a class, and Material leaves them where they are.
TABLE = re.compile(r"<table>.*?</table>", re.DOTALL)
# A code block as Pygments writes it: <pre>, an empty <span>, then <code>. Material puts
# its buttons between the two. Diagrams (<pre class="mermaid">) are SVG by now.
CODE_START = re.compile(r"(<pre>(?:<span></span>)?)(<code\b)")
CONFIG = re.compile(r'<script id="__config" type="application/json">(?P<json>.*?)</script>', re.DOTALL)


def svg_size(path: Path) -> tuple[int, int] | None:
    """Width and height in CSS pixels of an SVG file's root element, if it states them."""
    match = SVG_SIZE.search(path.read_text(encoding="utf-8", errors="replace")[:4000])
    if not match:
        return None
    return (round(float(match["w"]) * PX_PER[match["wu"]]), round(float(match["h"]) * PX_PER[match["hu"]]))


def _figures(html: str, page: Page, files: Files) -> str:
    def replace(match: re.Match[str]) -> str:
        attrs = match["attrs"]
        src = SRC.search(attrs)
        if not src or "://" in src["src"] or src["src"].startswith("data:"):
            return match[0]
        target = posixpath.normpath(posixpath.join(posixpath.dirname(page.file.dest_uri), src["src"]))
        file = files.get_file_from_path(target)
        extra = []
        if file is not None and target.endswith(".svg") and " width=" not in attrs:
            size = svg_size(Path(file.abs_src_path))
            if size:
                extra.append(f'width="{size[0]}" height="{size[1]}"')
        if " loading=" not in attrs:
            extra.append('loading="lazy" decoding="async"')
        return f"<img{attrs} {' '.join(extra)}>" if extra else match[0]

    return IMG.sub(replace, html)


def _code(html: str) -> str:
    return CODE_BLOCK.sub(lambda block: PLAIN_SPAN.sub(r"\1", block[0]), html)


def _tables(html: str) -> str:
    return TABLE.sub(lambda table: f'<div class="fg-table">{table[0]}</div>', html)


def copy_buttons(html: str) -> str:
    """Material's copy button in every code block of a whole page (see the module's notes)."""
    config = CONFIG.search(html)
    if config is None or "<pre>" not in html:
        return html
    title = html_lib.escape(json.loads(config["json"])["translations"]["clipboard.copy"], quote=True)
    count = itertools.count()

    def button(match: re.Match[str]) -> str:
        target = f"#__code_{next(count)} > code"
        return (
            f'{match[1]}<nav class="md-code__nav"><button class="md-code__button" title="{title}" '
            f'data-clipboard-target="{target}" data-md-type="copy"></button></nav>{match[2]}'
        )

    return CODE_START.sub(button, html)


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if "<img" in html:
        html = _figures(html, page, files)
    if "highlight" in html:
        html = _code(html)
    if "<table>" in html:
        html = _tables(html)
    return html


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    return copy_buttons(output)
