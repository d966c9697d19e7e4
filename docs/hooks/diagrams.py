"""Mermaid diagrams as inline SVG, drawn at build time: no diagram script reaches a reader.

pymdownx.superfences leaves each ```mermaid fence as `<pre class="mermaid"><code>`; this
hook replaces it with `<div class="fg-diagram"><svg role="img" ...></div>`, the SVG taken
from the committed cache docs/diagrams-cache/ (scripts/diagrams.py keys each entry by the
diagram's source, Mermaid's version and the render options).

* Before any page is rendered (on_files), the diagrams of every language that have no
  cache entry are rendered together, in one Chromium session, and cached. A build whose
  diagrams are all cached starts no browser, so it needs no Chromium.
* A diagram Mermaid cannot parse, one without an `accTitle:` (its accessible name, in the
  page's language), or a missing entry on a machine without Chromium fails the build,
  naming the page.
* The SVG's colours come from the site's stylesheet (extra.css, "Diagrams"), which maps
  them to Material's palette variables, so a diagram follows the light and dark scheme.
"""

from __future__ import annotations

import html
import importlib.util
import logging
import re
import sys
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

log = logging.getLogger("mkdocs.hooks.diagrams")
ROOT = Path(__file__).resolve().parents[2]
FENCE_HTML = re.compile(r'<pre class="mermaid"><code>(?P<code>.*?)</code></pre>', re.DOTALL)


def _load_renderer():
    """scripts/diagrams.py (a plain file, not a package), loaded afresh with this hook."""
    name = "_fg_scripts_diagrams"
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "diagrams.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


diagrams = _load_renderer()
# Mermaid's message for each source it rejected in this build.
_errors: dict[str, str] = {}


def _page_name(config: MkDocsConfig, src_uri: str) -> str:
    docs = Path(config.docs_dir).resolve()
    try:
        return f"{docs.relative_to(ROOT).as_posix()}/{src_uri}"
    except ValueError:
        return src_uri


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Render, in one browser session, every diagram of the site without a cache entry."""
    _errors.clear()
    own: dict[str, str] = {}  # source -> first page of this build that draws it
    for file in files.documentation_pages():
        if file.src_uri.endswith(".md") and file.abs_src_path:
            text = Path(file.abs_src_path).read_text(encoding="utf-8")
            for source in diagrams.diagrams_in(text):
                own.setdefault(source, _page_name(config, file.src_uri))
    missing = [s for s in own if diagrams.cached(s) is None]
    if not missing:
        return files
    # The other languages' diagrams too: their builds then find them cached.
    others = [s for sources in diagrams.pages().values() for s in sources]
    try:
        _errors.update(diagrams.render(missing + others))
    except diagrams.RenderError as error:
        pages = ", ".join(sorted({own[s] for s in missing}))
        raise PluginError(f"{pages}: a diagram has no cache entry and cannot be drawn: {error}") from error
    log.info(f"diagrams: rendered {len(missing) - len(_errors)} new diagram(s) into docs/diagrams-cache/")
    return files


def on_page_content(content: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if '<pre class="mermaid">' not in content:
        return content
    name = _page_name(config, page.file.src_uri)
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        source = diagrams.normalise(html.unescape(match["code"]))
        svg = diagrams.cached(source)
        if svg is None and source not in _errors:  # not found by on_files: draw it now
            try:
                _errors.update(diagrams.render([source]))
            except diagrams.RenderError as error:
                message = f"{name}: diagram {count} has no cache entry and cannot be drawn: {error}"
                raise PluginError(message) from error
            svg = diagrams.cached(source)
        if svg is None:
            raise PluginError(f"{name}: Mermaid cannot draw diagram {count}: {_errors.get(source)}")
        svg = svg.strip().replace(diagrams.SLOT, f"fg-diagram-{count}")
        # Out of the search index: the labels' words, run together, would be noise there.
        return f'<div class="fg-diagram" data-search-exclude="true">{svg}</div>'

    return FENCE_HTML.sub(replace, content)
