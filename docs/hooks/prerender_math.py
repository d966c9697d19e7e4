"""Render math at build time with the site's own KaTeX (through Node.js).

pymdownx.arithmatex leaves `\\(...\\)` and `\\[...\\]` in `.arithmatex` elements; labs
(mkdocs-jupyter) leave `$...$` and `$$...$$` in their Markdown cells. Rendering both here,
instead of in the reader's browser, means no math JavaScript on the page, no flash of raw
TeX and no layout shift; the page only needs KaTeX's stylesheet and fonts, which
overrides/main.html adds when a page has math.

The fonts are then cut down to the characters the site's formulas use (KaTeX's full set is
about 290 KB; a formula page loads three or four of them). Every character KaTeX draws is
in its HTML output, so a font subset to the union of those characters draws every
formula the site has. The full fonts stay in the repository; only the built site gets
the subsets, and only when every page's math was rendered here.

A formula KaTeX cannot parse fails the build, naming the page. Without Node.js the hook
does nothing and assets/javascripts/site.js (part 1) renders the math in the browser, so
`make serve` works without Node too; the fonts are then left whole.
"""

from __future__ import annotations

import atexit
import hashlib
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
SOURCE_FONTS = ROOT / "docs" / "assets" / "vendor" / "katex" / "fonts"
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


LAB_CELL = re.compile(r'<div class="[^"]*\bjp-MarkdownOutput\b[^"]*"[^>]*>')
DIV = re.compile(r"<div\b|</div>")
# In a lab cell: elements whose text is not prose (kept as they are), and other tags.
NOT_PROSE = re.compile(r"<(pre|code|script|style)\b.*?</\1>|<[^>]*>", re.DOTALL)
DOLLARS = re.compile(r"\$\$(?P<display>.+?)\$\$|\$(?P<inline>[^$]+?)\$", re.DOTALL)
TAGS = re.compile(r"<[^>]+>")

# Characters of every formula rendered in this build, and whether any math was left for
# the browser (then the fonts must stay whole).
_chars: set[str] = set()
_state = {"serving": False, "client_math": False}


def on_startup(command: str, dirty: bool) -> None:
    # `mkdocs serve` re-renders only the pages it must, so it never sees every formula.
    _state["serving"] = command == "serve"


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    _chars.clear()
    _state["client_math"] = False
    return config


def _wrap(tag: str, tex: str, display: bool, page: Page) -> str:
    try:
        rendered = render(tex, display)
    except ValueError as error:
        raise PluginError(f"{page.file.src_uri}: KaTeX cannot render {tex!r}: {error}") from error
    _chars.update(html.unescape(TAGS.sub("", rendered)))
    label = html.escape(tex, quote=True)
    style = ' style="display:block"' if tag == "span" and display else ""
    # KaTeX's HTML is aria-hidden already; the label gives screen readers the TeX source.
    return f'<{tag} class="arithmatex" role="math" aria-label="{label}"{style}>{rendered}</{tag}>'


def _lab_math(content: str, page: Page) -> str:
    """Render $...$ and $$...$$ in the Markdown cells of a lab (not in code or outputs)."""

    def prose(text: str) -> str:
        def replace(match: re.Match[str]) -> str:
            display = match["display"] is not None
            tex = html.unescape(match["display"] if display else match["inline"]).strip()
            return _wrap("span", tex, display, page)

        return DOLLARS.sub(replace, text)

    def cell(inner: str) -> str:
        out, last = [], 0
        for match in NOT_PROSE.finditer(inner):
            out += [prose(inner[last : match.start()]), match[0]]
            last = match.end()
        out.append(prose(inner[last:]))
        return "".join(out)

    out, last = [], 0
    for opening in LAB_CELL.finditer(content):
        if opening.start() < last:
            continue
        depth, end = 1, len(content)
        for tag in DIV.finditer(content, opening.end()):
            depth += 1 if tag[0] == "<div" else -1
            if depth == 0:
                end = tag.start()
                break
        out += [content[last : opening.end()], cell(content[opening.end() : end])]
        last = end
    out.append(content[last:])
    return "".join(out)


def on_page_content(content: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    has_lab_math = "jp-MarkdownOutput" in content and "$" in content
    if "arithmatex" not in content and not has_lab_math:
        return content
    if _renderer() is None:
        _state["client_math"] = True
        return content
    before = content

    def replace(match: re.Match[str]) -> str:
        tex = html.unescape(match["tex"]).strip()
        return _wrap(match["tag"], tex, match["open"] == "\\[", page)

    content = MATH.sub(replace, content)
    if has_lab_math:
        content = _lab_math(content, page)
    if content != before:
        page.meta["math"] = True
    return content


# ---------------------------------------------------------------------------------------
# Font subsets
# ---------------------------------------------------------------------------------------

FONTS = "assets/vendor/katex/fonts"
CACHE = ROOT / ".cache" / "katex-fonts"
ALWAYS = "()0123456789"  # equation numbers (KaTeX's CSS draws them with a counter)


def subset_fonts(source: Path, target: Path, chars: str) -> dict[str, tuple[int, int]]:
    """Write each woff2 font of `source` to `target`, cut down to `chars` (cached).

    Returns {font name: (bytes before, bytes after)}.
    """
    from fontTools import subset, version

    sizes = {}
    target.mkdir(parents=True, exist_ok=True)
    for font in sorted(source.glob("*.woff2")):
        data = font.read_bytes()
        key = hashlib.sha256(data + chars.encode() + version.encode()).hexdigest()[:24]
        cached = CACHE / f"{font.stem}-{key}.woff2"
        if not cached.exists():
            options = subset.Options()
            options.flavor = "woff2"
            options.layout_features = ["*"]
            options.name_IDs = ["*"]
            options.notdef_outline = True
            loaded = subset.load_font(str(font), options)
            subsetter = subset.Subsetter(options)
            subsetter.populate(text=chars)
            subsetter.subset(loaded)
            CACHE.mkdir(parents=True, exist_ok=True)
            partial = cached.with_suffix(".tmp")
            subset.save_font(loaded, str(partial), options)
            partial.replace(cached)
        shutil.copyfile(cached, target / font.name)
        sizes[font.name] = (len(data), cached.stat().st_size)
    return sizes


def on_post_build(config: MkDocsConfig) -> None:
    if _state["serving"] or _state["client_math"] or not _chars:
        return
    fonts = Path(config.site_dir) / FONTS
    if not fonts.is_dir():
        return
    sizes = subset_fonts(SOURCE_FONTS, fonts, "".join(sorted(_chars | set(ALWAYS))))
    before = sum(b for b, _ in sizes.values())
    after = sum(a for _, a in sizes.values())
    log.info(f"KaTeX fonts cut to the site's {len(_chars)} characters: {before:,} -> {after:,} bytes")
