"""Make labs (notebooks rendered by mkdocs-jupyter) behave like Markdown pages.

* Heading ids: a lab heading may end with an explicit `{ #id }`, as on Markdown pages.
  nbconvert leaves that text in the heading and derives its own id (from the text, so
  it differs between languages); here the id becomes the explicit one, or `section-N`
  (N-th heading) when none is given, so ids are ASCII and the same in every language.
* Table of contents: mkdocs-jupyter builds it with Python-Markdown's slugs, which do not
  match nbconvert's ids for non-Latin headings; it is rebuilt from the final headings.
* Third-party scripts: nbconvert's template loads MathJax (with an empty src here) and,
  for notebooks with diagrams, Mermaid from a CDN. Both are removed: lab math is rendered
  at build time by docs/hooks/prerender_math.py and labs draw no diagrams.
* Weight: JupyterLab's stylesheet becomes one shared file trimmed to what labs use, and
  output figures become image files (see the sections below).
* Links: Markdown cells are rendered by nbconvert, not MkDocs, so `page.md#anchor` links
  are rewritten here to the page's URL; a link to a missing page is an error.
"""

from __future__ import annotations

import html as html_lib
import posixpath
import re

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import get_toc
from mkdocs.utils import get_relative_url

HEADING = re.compile(r"<h([1-6])\b([^>]*)>(.*?)</h\1>", re.DOTALL)
EXPLICIT_ID = re.compile(r"\s*\{\s*#([A-Za-z0-9_.:-]+)\s*\}\s*")
ANCHOR_LINK = re.compile(r'<a class="anchor-link" href="#[^"]*">[^<]*</a>')
MD_LINK = re.compile(r'href="(?P<path>[^":#?]+\.md)(?P<fragment>#[^"]*)?"')
TAGS = re.compile(r"<[^>]+>")
MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.DOTALL)
CDN_MODULE = re.compile(
    r'<script type="module">(?:(?!</script>).)*https://cdn(?:(?!</script>).)*</script>', re.DOTALL
)


def is_lab(page: Page) -> bool:
    return page.file.src_uri.endswith(".py") and page.file.name.startswith("lab-")


def _fix_headings(html: str, src: str) -> tuple[str, list[dict]]:
    tokens: list[dict] = []

    def replace(match: re.Match[str]) -> str:
        level, attrs, inner = int(match[1]), match[2], match[3]
        inner = ANCHOR_LINK.sub("", inner)
        found = EXPLICIT_ID.search(inner)
        new_id = found[1] if found else f"section-{len(tokens) + 1}"
        inner = EXPLICIT_ID.sub("", inner).strip()
        attrs = re.sub(r'\s*id="[^"]*"', "", attrs)
        name = html_lib.unescape(TAGS.sub("", inner)).strip()
        tokens.append({"level": level, "id": new_id, "name": name, "children": []})
        link = f'<a class="headerlink" href="#{new_id}" title="Permanent link">&para;</a>'
        return f'<h{level} id="{new_id}"{attrs}>{inner}{link}</h{level}>'

    return HEADING.sub(replace, html), tokens


def _nest(flat: list[dict]) -> list[dict]:
    """Nest flat heading tokens by level, as Python-Markdown's toc_tokens are."""
    root: list[dict] = []
    stack: list[dict] = []
    for token in flat:
        while stack and stack[-1]["level"] >= token["level"]:
            stack.pop()
        (stack[-1]["children"] if stack else root).append(token)
        stack.append(token)
    return root


def _fix_links(html: str, page: Page, files: Files) -> str:
    base = posixpath.dirname(page.file.src_uri)

    def replace(match: re.Match[str]) -> str:
        target_uri = posixpath.normpath(posixpath.join(base, match["path"]))
        target = files.get_file_from_path(target_uri)
        if target is None:
            raise PluginError(f"{page.file.src_uri}: link to missing page {match['path']!r}")
        url = get_relative_url(target.url, page.url)
        return f'href="{url}{match["fragment"] or ""}"'

    return MD_LINK.sub(replace, html)


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if not is_lab(page):
        return html
    html = CDN_MODULE.sub("", MATHJAX.sub("", html))
    html = _externalise_styles(html, page)
    html = _externalise_images(html, page)
    html, tokens = _fix_headings(html, page.file.src_uri)
    html = _fix_links(html, page, files)
    if tokens and tokens[0]["level"] == 1:
        page.title = tokens[0]["name"]
    first_paragraph = re.search(r"<p>(.*?)</p>", html, re.DOTALL)
    if first_paragraph and not page.meta.get("description"):
        text = " ".join(html_lib.unescape(TAGS.sub("", first_paragraph[1])).split())
        page.meta["description"] = text if len(text) <= 160 else text[:157].rsplit(" ", 1)[0] + "…"
    page.toc = get_toc(_nest(tokens))
    return html


# ---------------------------------------------------------------------------------------
# Execute each lab once per build, not once per language, and not again until its inputs
# change.
#
# The three translations of a lab have identical code cells (the parity check enforces
# it), so their outputs are identical too. mkdocs-jupyter would execute each file; this
# wrapper executes a lab's code once and renders every language from those outputs. A
# failing cell fails the build with the lab's path and the cell's error.
#
# The executed notebook is kept in .cache/labs/, keyed by the code, the kernel and the
# lock file (requirements.txt), together with the files the run actually read: an audit
# hook in the kernel records every file opened and every folder scanned inside the
# repository (snippet modules, the pages the RAG lab indexes, ...), with their digests.
# The entry is reused while all of them are unchanged, so editing a page or a snippet
# re-runs only the labs that read it.
# ---------------------------------------------------------------------------------------

import base64  # noqa: E402
import hashlib  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import jupytext  # noqa: E402
import nbformat  # noqa: E402
from mkdocs_jupyter import convert  # noqa: E402
from nbclient import NotebookClient  # noqa: E402
from nbclient.exceptions import CellExecutionError  # noqa: E402

from snippets.figures.notebook import METADATA_KEY, SETUP  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "labs"
_original_nb2html = getattr(convert.nb2html, "__wrapped__", convert.nb2html)
# The tracing and digests are shared with scripts/snippet_outputs.py.
_spec = importlib.util.spec_from_file_location("input_trace", ROOT / "scripts" / "input_trace.py")
input_trace = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(input_trace)


def _shown(nb_path: str) -> Path:
    """A lab's path as error messages name it: relative to the repository when inside it."""
    path = Path(nb_path).resolve()
    return path.relative_to(ROOT) if ROOT in path.parents else path


def _code(nb: nbformat.NotebookNode) -> list[str]:
    return [cell.source for cell in nb.cells if cell.cell_type == "code"]


def _executed(nb_path: str, nb: nbformat.NotebookNode, kernel_name: str) -> nbformat.NotebookNode:
    kernel = kernel_name or "python3"
    key = hashlib.sha256(
        b"\0".join([input_trace.lock_digest(), kernel.encode(), *(c.encode() for c in _code(nb))])
    ).hexdigest()[:32]
    cached, deps = CACHE / f"{key}.ipynb", CACHE / f"{key}.inputs.json"
    if cached.exists() and deps.exists() and input_trace.fresh(json.loads(deps.read_text(encoding="utf-8"))):
        return nbformat.read(cached, as_version=4)
    runnable = nbformat.from_dict(nb)
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "read.json"
        runnable.cells.insert(0, nbformat.v4.new_code_cell(input_trace.TRACE_START.format(root=str(ROOT))))
        runnable.cells.insert(1, nbformat.v4.new_code_cell(SETUP))  # figures: site style, SVG per language
        runnable.cells.append(nbformat.v4.new_code_cell(input_trace.TRACE_END.format(out=str(trace))))
        client = NotebookClient(
            runnable,
            timeout=900,
            kernel_name=kernel,
            allow_errors=False,
            resources={"metadata": {"path": str(Path(nb_path).parent)}},
        )
        try:
            client.execute()
        except CellExecutionError as error:
            raise PluginError(f"{_shown(nb_path)}: a lab cell raised an error\n{error}") from error
        inputs = input_trace.inputs(json.loads(trace.read_text(encoding="utf-8")))
    runnable.cells = runnable.cells[2:-1]
    CACHE.mkdir(parents=True, exist_ok=True)
    nbformat.write(runnable, cached)
    deps.write_text(json.dumps(inputs, indent=0, sort_keys=True), encoding="utf-8")
    return runnable


def nb2html_once(nb_path: str, execute: bool = False, **kwargs):  # type: ignore[no-untyped-def]
    """mkdocs-jupyter's nb2html, with execution shared between languages and builds."""
    if not execute:
        return _original_nb2html(nb_path, execute=False, **kwargs)
    nb = jupytext.read(nb_path)
    executed = _executed(nb_path, nb, kwargs.get("kernel_name", ""))
    ran = [cell for cell in executed.cells if cell.cell_type == "code"]
    mine = [cell for cell in nb.cells if cell.cell_type == "code"]
    for cell, done in zip(mine, ran, strict=True):
        cell.outputs = done.outputs
        cell.execution_count = done.execution_count
    in_language(nb, _language(nb_path))
    alts = figure_alts(nb, nb_path)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / (Path(nb_path).stem + ".ipynb")
        nbformat.write(nb, path)
        html = _original_nb2html(str(path), execute=False, **kwargs)
    return describe_figures(html, alts)


# A figure's text alternative is written in the header of the code cell that draws it,
# in the lab's own language: `# %% alt="Line chart of ..."` (Jupytext cell metadata). The
# code under the header stays identical in every language. nbconvert's lab template has
# no alt attribute, and nbconvert then gives every image the same placeholder; the
# figure's own description replaces it. A cell that draws a figure without one fails
# the build.

IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")
IMG_TAG = re.compile(r"<img\b[^>]*>")
DATA_SRC = r'\ssrc="data:image/(?P<type>png|jpeg|svg\+xml);base64,(?P<data>[^"]+)"'
IMG_DATA = re.compile(DATA_SRC)
IMG_ALT = re.compile(r'\salt="[^"]*"')


def _image_key(base64_data: str) -> str:
    """The same image's base64 text in the notebook and in the HTML, whitespace aside."""
    return "".join(base64_data.split())


def _output_key(kind: str, data: str) -> str:
    """An output image's key: nbconvert writes SVG text as base64 too (text_base64)."""
    if kind == "image/svg+xml":
        return base64.b64encode(data.encode()).decode()
    return _image_key(data)


def _language(nb_path: str) -> str:
    """The language of a lab: its folder under docs/ (docs/zh/... is Chinese)."""
    parts = Path(nb_path).resolve().parts
    for before, after in zip(parts, parts[1:], strict=False):
        if before == "docs" and after in ("en", "zh", "ru"):
            return after
    return "en"


def in_language(nb: nbformat.NotebookNode, lang: str) -> None:
    """Give every figure its SVG drawn in `lang`: the lab ran once, and the kernel rendered
    each figure in every language (snippets/figures/notebook.py)."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            meta = output.get("metadata", {}).get("image/svg+xml", {})
            svgs = meta.get(METADATA_KEY) if isinstance(meta, dict) else None
            if svgs:
                output["data"]["image/svg+xml"] = svgs[lang]


def figure_alts(nb: nbformat.NotebookNode, nb_path: str) -> dict[str, str]:
    """Image data (base64, no whitespace) -> the alt text of the cell that drew it."""
    alts: dict[str, str] = {}
    missing, no_figure = [], []
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    for number, cell in enumerate(code_cells, start=1):
        images = [
            _output_key(kind, output["data"][kind])
            for output in cell.get("outputs", [])
            for kind in IMAGE_TYPES
            if kind in output.get("data", {})
        ]
        alt = cell.metadata.get("alt")
        if not images:
            if isinstance(alt, str) and alt.strip() and "outputs" in cell:
                errors = [f"{o.get('ename')}: {o.get('evalue')}"
                          for o in cell.outputs if o.get("output_type") == "error"]
                no_figure.append(f"{number} ({'; '.join(errors)})" if errors else str(number))
            continue
        if not isinstance(alt, str) or not alt.strip():
            missing.append(number)
            continue
        alts.update(dict.fromkeys(images, " ".join(alt.split())))
    if missing:
        raise PluginError(
            f"{_shown(nb_path)}: code cell(s) {', '.join(map(str, missing))} draw a figure without a "
            'description: write it in the cell header, # %% alt="..."'
        )
    if no_figure:
        raise PluginError(
            f"{_shown(nb_path)}: code cell(s) {', '.join(no_figure)} carry a figure "
            "description but showed no figure (drawing it failed, or the cell draws nothing)"
        )
    return alts


def describe_figures(html: str, alts: dict[str, str]) -> str:
    """Give every embedded image the alt text of the cell that drew it."""

    def replace(match: re.Match[str]) -> str:
        tag = match[0]
        data = IMG_DATA.search(tag)
        key = _image_key(data["data"]) if data else ""
        if key not in alts:
            return tag
        alt = f' alt="{html_lib.escape(alts[key], quote=True)}"'
        tag = IMG_ALT.sub("", tag)
        return tag[:4] + alt + tag[4:]

    return IMG_TAG.sub(replace, html)


nb2html_once.__wrapped__ = _original_nb2html  # type: ignore[attr-defined]
convert.nb2html = nb2html_once


# ---------------------------------------------------------------------------------------
# Shared, trimmed notebook stylesheet.
#
# nbconvert inlines JupyterLab's theme stylesheet (about 575 KB) into every lab page.
# It is the same for every lab, so it moves to one cached file, and rules whose class
# selectors match nothing in any lab are dropped. Small inline styles stay inline.
# ---------------------------------------------------------------------------------------

STYLE = re.compile(r"<style[^>]*>(?P<css>.*?)</style>", re.DOTALL)
CLASS_ATTR = re.compile(r'class="([^"]*)"')
CSS_CLASS = re.compile(r"\.(-?[_a-zA-Z][\w-]*)")
BIG_STYLE = 50_000
SHARED_CSS = "assets/stylesheets/notebook.css"
_shared_css: dict[str, str] = {}
_lab_classes: set[str] = set()
_lab_var_uses: set[str] = set()


def _rules(css: str) -> list[tuple[str, str]]:
    """Split CSS into top-level (prelude, block) pairs, skipping strings and comments."""
    out: list[tuple[str, str]] = []
    depth, start, prelude_start, prelude = 0, 0, 0, ""
    i = 0
    while i < len(css):
        char = css[i]
        if char in "\"'":
            end = i + 1
            while end < len(css) and css[end] != char:
                end += 2 if css[end] == "\\" else 1
            i = end + 1
            continue
        if css.startswith("/*", i):
            i = css.find("*/", i + 2) + 2 or len(css)
            continue
        if char == "{":
            if depth == 0:
                prelude = css[prelude_start:i]
                start = i + 1
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                out.append((prelude.strip(), css[start:i]))
                prelude_start = i + 1
        elif char == ";" and depth == 0:
            out.append((css[prelude_start:i].strip(), ""))  # @charset, @import
            prelude_start = i + 1
        i += 1
    return out


def _split(text: str, separator: str) -> list[str]:
    """Split on `separator` outside strings, parentheses and brackets.

    Selector lists split on commas (`:is(a, b)` stays whole), declaration blocks on
    semicolons (a data URI's `;base64,` stays whole).
    """
    parts, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(text):
        if quote:
            if char == quote and text[i - 1] != "\\":
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def purge(css: str, used: set[str]) -> str:
    """Keep rules with at least one selector whose classes all occur in `used`."""
    kept = []
    for prelude, block in _rules(css):
        if not prelude:
            continue
        if prelude.startswith("@"):
            if prelude.startswith(("@media", "@supports", "@layer")):
                inner = purge(block, used)
                if inner:
                    kept.append(f"{prelude}{{{inner}}}")
            elif block:
                kept.append(f"{prelude}{{{block}}}")  # @font-face, @keyframes ...
            continue
        selectors = [s for s in _split(prelude, ",") if set(CSS_CLASS.findall(s)) <= used]
        if selectors:
            kept.append(f"{','.join(s.strip() for s in selectors)}{{{block}}}")
    return "".join(kept)


def _externalise_styles(html: str, page: Page) -> str:
    for classes in CLASS_ATTR.findall(html):
        _lab_classes.update(classes.split())

    def replace(match: re.Match[str]) -> str:
        css = match["css"]
        if len(css) < BIG_STYLE:
            return match[0]
        _shared_css[hashlib.sha256(css.encode()).hexdigest()] = css
        # overrides/main.html links it from <head>: a stylesheet that arrives with the
        # body would restyle the page laid out before it.
        page.meta["notebook_css"] = SHARED_CSS
        return ""

    html = STYLE.sub(replace, html)
    _lab_var_uses.update(VAR_USE.findall(html))  # inline styles and the small <style> blocks
    return html


VAR_USE = re.compile(r"var\(\s*(--[\w-]+)")
CUSTOM_PROPERTY = re.compile(r"\s*(--[\w-]+)\s*:")


def _declarations(block: str) -> list[str]:
    return [part for part in _split(block, ";") if part.strip()]


def prune_variables(css: str, also_used: str = "") -> str:
    """Drop custom properties (--name: ...) that nothing reads through var(--name).

    JupyterLab's theme defines about 560 of them (icons as data URIs among them) and a
    lab reads about 80. Reads in `also_used` (the site's other stylesheets) count too.
    """
    definitions: dict[str, list[str]] = {}
    used = set(VAR_USE.findall(also_used))

    def scan(text: str) -> None:
        for prelude, block in _rules(text):
            if prelude.startswith(("@media", "@supports", "@layer")):
                scan(block)
                continue
            for declaration in _declarations(block):
                name = CUSTOM_PROPERTY.match(declaration)
                if name:
                    definitions.setdefault(name[1], []).append(declaration)
                else:
                    used.update(VAR_USE.findall(declaration))

    scan(css)
    pending = list(used)
    while pending:
        for declaration in definitions.get(pending.pop(), []):
            for name in VAR_USE.findall(declaration):
                if name not in used:
                    used.add(name)
                    pending.append(name)

    def rebuild(text: str) -> str:
        kept = []
        for prelude, block in _rules(text):
            if not prelude:
                continue
            if prelude.startswith(("@media", "@supports", "@layer")):
                inner = rebuild(block)
                if inner:
                    kept.append(f"{prelude}{{{inner}}}")
                continue
            if prelude.startswith("@"):
                kept.append(f"{prelude}{{{block}}}" if block else f"{prelude};")
                continue
            declarations = [
                d for d in _declarations(block) if not (m := CUSTOM_PROPERTY.match(d)) or m[1] in used
            ]
            if declarations:
                kept.append(f"{prelude}{{{';'.join(d.strip() for d in declarations)}}}")
        return "".join(kept)

    return rebuild(css)


# ---------------------------------------------------------------------------------------
# Output figures become files. nbconvert embeds each matplotlib figure in the page as a
# base64 data URI: a third larger than the image, never cached, and downloaded before the
# page can paint (the warm-up lab weighed 640 KB compressed). Each figure is written once
# to assets/lab-figures/ under its content hash and linked with its size; page_weight.py
# then makes it load lazily, so the text paints first and figures arrive as the reader
# scrolls. Lab figures are SVG (snippets/figures/notebook.py), sized from their root
# element; PNG and JPEG outputs are handled the same way.
# ---------------------------------------------------------------------------------------

DATA_IMAGE = re.compile(r"<img\b(?P<before>[^>]*?)" + DATA_SRC)
FIGURES = "assets/lab-figures"
_figures: dict[str, bytes] = {}


SVG_SIZE = re.compile(rb'<svg\b[^>]*?\swidth="(?P<w>[\d.]+)pt"[^>]*?\sheight="(?P<h>[\d.]+)pt"')


def svg_size(data: bytes) -> tuple[int, int] | None:
    """Width and height in CSS pixels of a matplotlib SVG (sized in points)."""
    match = SVG_SIZE.search(data[:4000])
    return (round(float(match["w"]) * 4 / 3), round(float(match["h"]) * 4 / 3)) if match else None


def png_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG's IHDR chunk."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _externalise_images(html: str, page: Page) -> str:
    def replace(match: re.Match[str]) -> str:
        data = base64.b64decode(match["data"])
        suffix = {"png": "png", "jpeg": "jpg", "svg+xml": "svg"}[match["type"]]
        name = f"{FIGURES}/{hashlib.sha256(data).hexdigest()[:20]}.{suffix}"
        _figures[name] = data
        size = svg_size(data) if suffix == "svg" else png_size(data)
        attrs = f' width="{size[0]}" height="{size[1]}"' if size else ""
        href = get_relative_url(name, page.url)
        return f'<img{match["before"]} src="{href}"{attrs}'  # page_weight.py makes it lazy

    return DATA_IMAGE.sub(replace, html)


def on_post_build(config: MkDocsConfig) -> None:
    for name, data in _figures.items():
        target = Path(config.site_dir) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    if not _shared_css:
        return
    used = _lab_classes | {"jupyter-wrapper"}
    css = "".join(purge(text, used) for text in _shared_css.values())
    stylesheets = Path(config.site_dir) / "assets" / "stylesheets"
    others = "".join(
        path.read_text(encoding="utf-8")
        for path in sorted(stylesheets.glob("*.css"))
        if path.name != Path(SHARED_CSS).name
    )
    css = prune_variables(css, also_used=others + "".join(f"var({name})" for name in _lab_var_uses))
    target = Path(config.site_dir) / SHARED_CSS
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(css, encoding="utf-8")
