"""Render math at build time with the site's own KaTeX (through Node.js).

pymdownx.arithmatex leaves `\\(...\\)` and `\\[...\\]` in `.arithmatex` elements. Rendering
them here, instead of in the reader's browser, means no math JavaScript on the page, no
flash of raw TeX and no layout shift; the page only needs KaTeX's stylesheet and fonts,
which overrides/main.html adds when a page has math.

A formula KaTeX cannot parse fails the build, naming the page. Without Node.js the hook
does nothing and assets/javascripts/katex-init.js renders the math in the browser, so
`make serve` works without Node too.
"""

from __future__ import annotations

import atexit
import html
import json
import logging
import re
import shutil
import subprocess
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

log = logging.getLogger("mkdocs.hooks.math")
ROOT = Path(__file__).resolve().parents[2]
RENDERER = ROOT / "scripts" / "katex_render.js"
MATH = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">\s*(?P<open>\\\(|\\\[)(?P<tex>.*?)(?:\\\)|\\\])\s*</(?P=tag)>',
    re.DOTALL,
)

_process: subprocess.Popen[str] | None = None
_cache: dict[tuple[str, bool], str] = {}


def _renderer() -> subprocess.Popen[str] | None:
    global _process
    if _process is None:
        node = shutil.which("node")
        if node is None:
            log.info("Node.js not found: math will be rendered in the browser")
            return None
        _process = subprocess.Popen(
            [node, str(RENDERER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        atexit.register(_process.kill)
    return _process


def render(tex: str, display: bool) -> str:
    """KaTeX HTML for one formula (cached); raises ValueError if KaTeX rejects it."""
    key = (tex, display)
    if key not in _cache:
        process = _renderer()
        assert process is not None and process.stdin and process.stdout
        process.stdin.write(json.dumps({"tex": tex, "display": display}) + "\n")
        process.stdin.flush()
        reply = json.loads(process.stdout.readline())
        if "error" in reply:
            raise ValueError(reply["error"])
        _cache[key] = reply["html"]
    return _cache[key]


def on_page_content(content: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if "arithmatex" not in content or _renderer() is None:
        return content

    def replace(match: re.Match[str]) -> str:
        tex = html.unescape(match["tex"]).strip()
        display = match["open"] == "\\["
        try:
            rendered = render(tex, display)
        except ValueError as error:
            raise PluginError(f"{page.file.src_uri}: KaTeX cannot render {tex!r}: {error}") from error
        label = html.escape(tex, quote=True)
        return (
            f'<{match["tag"]} class="arithmatex" role="math" aria-label="{label}">'
            f'<span aria-hidden="true">{rendered}</span></{match["tag"]}>'
        )

    content = MATH.sub(replace, content)
    page.meta["math"] = True
    return content
