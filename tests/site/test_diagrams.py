"""Mermaid diagrams: drawn at build time as inline SVG, readable, named, in every language.

docs/hooks/diagrams.py replaces each ```mermaid fence with SVG from the committed cache
(docs/diagrams-cache/, filled by scripts/diagrams.py). These tests check the cache
against the pages, the built site against the pages (every diagram drawn, no Mermaid
script anywhere), and, in Chromium, what a reader sees: text of at least 12 px on a
desktop and on a phone, a diagram that fits the desktop column, text that stands out
from its background in the light and the dark scheme, and an accessible name in the
page's language.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from .conftest import LANGS, lang_root
from .modules import load_script
from .pages import pages_of

diagrams = load_script("diagrams")
MIN_TEXT_PX = 12
MIN_TEXT_CONTRAST = 4.5  # WCAG AA for text of this size
MIN_LINE_CONTRAST = 3.0  # WCAG non-text contrast: edges must be seen too
CJK = re.compile(r"[\u4e00-\u9fff]")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def _url(page: str) -> str:
    """docs/<lang>/a/b.md -> URL path below the site root."""
    lang, rel = page.split("/", 2)[1:]
    rel = rel.removesuffix(".md")
    rel = rel.removesuffix("index") if rel == "index" or rel.endswith("/index") else rel + "/"
    return lang_root(lang) + rel


@cache
def _expected() -> dict[str, int]:
    """URL path -> number of diagrams its source page has."""
    return {_url(page): len(sources) for page, sources in diagrams.pages().items()}


def _diagram_pages(lang: str) -> list[str]:
    return sorted(url for url in _expected() if url.startswith(lang_root(lang)) and
                  (lang != "en" or not url.startswith(("zh/", "ru/"))))


# --- The cache -------------------------------------------------------------------------


def test_every_diagram_has_a_fresh_cache_entry() -> None:
    found = diagrams.pages()
    assert sum(map(len, found.values())) >= 3 * 20, "fewer diagrams than the site has"
    missing = diagrams.missing_entries(found)
    assert not missing, (
        "diagrams without a cache entry (run `python scripts/diagrams.py` and commit "
        f"docs/diagrams-cache/): {missing}"
    )
    unused = [p.name for p in diagrams.unused_entries(found)]
    assert not unused, f"cache entries no page uses (python scripts/diagrams.py --prune): {unused}"


def test_the_cache_key_changes_with_the_source_and_the_render_options(monkeypatch) -> None:
    source = "flowchart TB\n    accTitle: t\n    A --> B"
    indented = "\n".join(f"    {line}  " for line in source.splitlines())  # as inside an admonition
    assert diagrams.key(source) == diagrams.key(f"\n{indented}\n\n")
    assert diagrams.key(source) != diagrams.key(source.replace("B", "C"))
    before = diagrams.key(source)
    monkeypatch.setitem(diagrams.OPTIONS, "minTextPx", 11)
    diagrams._fingerprint.cache_clear()
    try:
        assert diagrams.key(source) != before
    finally:
        monkeypatch.undo()
        diagrams._fingerprint.cache_clear()


def test_the_vendored_mermaid_is_the_declared_version() -> None:
    version = diagrams.mermaid_version()
    head = diagrams.MERMAID_JS.read_text(encoding="utf-8")
    assert f'version:"{version}"' in head, f"scripts/vendor/mermaid is not Mermaid {version}"


def test_every_cached_diagram_is_named_and_styled_by_role_only() -> None:
    for page, sources in diagrams.pages().items():
        for n, source in enumerate(sources, 1):
            svg = diagrams.cached(source)
            assert svg is not None, f"{page}: diagram {n} not cached"
            assert 'role="img"' in svg and "<title" in svg, f"{page}: diagram {n} has no accessible name"
            assert "<style" not in svg and "<foreignObject" not in svg, f"{page}: diagram {n}"
            # Colours come from the site's stylesheet, never from the SVG itself.
            colours = re.findall(r'(?:fill|stroke|color)="(?!none)[^"]*"|#[0-9a-fA-F]{3,8}\b', svg)
            assert not colours, f"{page}: diagram {n} carries colours of its own: {colours[:3]}"


# --- The built site --------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_no_page_references_a_mermaid_script(site_dir: Path, lang: str) -> None:
    for path in pages_of(site_dir, lang):
        text = (site_dir / path / "index.html").read_text(encoding="utf-8")
        scripts = re.findall(r"<script\b[^>]*>", text)
        assert not [s for s in scripts if "mermaid" in s.lower()], f"{path}: loads a Mermaid script"
        assert 'class="mermaid"' not in text and "mermaid.min.js" not in text, f"{path}: Mermaid left"
    shipped = [p for p in (site_dir / lang_root(lang)).rglob("*") if "mermaid" in p.name.lower()]
    assert not shipped, f"the site ships Mermaid: {shipped}"
    site_js = (site_dir / lang_root(lang) / "assets/javascripts/site.js").read_text(encoding="utf-8")
    assert "mermaid" not in site_js.lower()


@pytest.mark.parametrize("lang", LANGS)
def test_every_diagram_is_inline_svg_named_in_the_page_language(site_dir: Path, lang: str) -> None:
    pages = _diagram_pages(lang)
    assert len(pages) >= 20, f"{lang}: too few pages with diagrams: {pages}"
    for url in pages:
        soup = BeautifulSoup((site_dir / url / "index.html").read_text(encoding="utf-8"), "html.parser")
        boxes = soup.select("article .fg-diagram")
        expected = _expected()[url]
        assert len(boxes) == expected, f"{url}: {len(boxes)} diagrams drawn, its source has {expected}"
        for box in boxes:
            svg = box.find("svg", recursive=False)
            assert svg is not None and svg.get("role") == "img", f"{url}: not an inline <svg role=img>"
            title = soup.find(id=svg.get("aria-labelledby", ""))
            assert title is not None and title.name == "title", f"{url}: accessible name not found"
            name = title.get_text(strip=True)
            desc = soup.find(id=svg.get("aria-describedby", ""))
            words = name + " " + (desc.get_text(strip=True) if desc else "")
            if lang == "zh":
                assert CJK.search(name), f"{url}: name not in Chinese: {name!r}"
            elif lang == "ru":
                assert CYRILLIC.search(name), f"{url}: name not in Russian: {name!r}"
            else:
                assert not CJK.search(words) and not CYRILLIC.search(words), f"{url}: {name!r}"
        ids = [e["id"] for e in soup.select("[id]")]
        assert len(ids) == len(set(ids)), f"{url}: duplicate element ids"


# --- In Chromium -----------------------------------------------------------------------

# For every text of every diagram on the page: rendered font size (computed size times the
# SVG's scale on screen), and whether the diagram's box overflows its column.
MEASURE = """() => [...document.querySelectorAll('article .fg-diagram')].map((box) => {
  const svg = box.querySelector(':scope > svg');
  const sizes = [...svg.querySelectorAll('text')].filter((t) => t.textContent.trim()).map((t) =>
    parseFloat(getComputedStyle(t).fontSize) * Math.abs(t.getScreenCTM().d));
  return {
    minText: Math.min(...sizes), texts: sizes.length,
    overflows: box.scrollWidth > box.clientWidth + 1,
    overflowX: getComputedStyle(box).overflowX,
    label: svg.querySelector('title')?.textContent,
  };
})"""

# Contrast of every text (and every edge) against what is painted behind it: the shapes
# and boxes under its centre, composited over the page's background, in one scheme.
CONTRAST = """(scheme) => {
  document.body.setAttribute('data-md-color-scheme', scheme);
  const rgba = (css) => {
    const m = css && css.match(/rgba?\\(([^)]*)\\)/);
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  };
  const over = (top, bottom) => {
    const a = top.a + bottom.a * (1 - top.a);
    const mix = (k) => (top[k] * top.a + bottom[k] * bottom.a * (1 - top.a)) / a;
    return { r: mix('r'), g: mix('g'), b: mix('b'), a };
  };
  const luminance = ({ r, g, b }) => {
    const lin = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  const ratio = (x, y) => {
    const [l1, l2] = [luminance(x), luminance(y)].sort((p, q) => q - p);
    return (l1 + 0.05) / (l2 + 0.05);
  };
  const paint = (element, exclude) => {
    if (element === exclude || exclude.contains(element) || element.closest('text')) return null;
    const style = getComputedStyle(element);
    const colour = element instanceof SVGElement && !(element instanceof SVGSVGElement)
      ? rgba(style.fill) : rgba(style.backgroundColor);
    if (!colour) return null;
    const fillOpacity = element instanceof SVGElement ? parseFloat(style.fillOpacity) : 1;
    colour.a *= parseFloat(style.opacity) * fillOpacity;
    return colour;
  };
  const behind = (element, x, y) => {
    let colour = { r: 255, g: 255, b: 255, a: 1 };  // the canvas under everything
    for (const e of document.elementsFromPoint(x, y).reverse()) {
      const p = paint(e, element);
      if (p && p.a > 0) colour = over(p, colour);
    }
    return colour;
  };
  const results = [];
  for (const [n, svg] of [...document.querySelectorAll('article .fg-diagram > svg')].entries()) {
    for (const text of svg.querySelectorAll('text')) {
      if (!text.textContent.trim()) continue;
      text.scrollIntoView({ block: 'center', inline: 'center' });
      const box = text.getBoundingClientRect();
      const back = behind(text, box.x + box.width / 2, box.y + box.height / 2);
      const fill = rgba(getComputedStyle(text).fill);
      const seen = fill ? over(fill, back) : back;
      results.push({ diagram: n + 1, what: text.textContent.trim(), ratio: ratio(seen, back),
                     kind: 'text' });
    }
    for (const edge of svg.querySelectorAll('.fg-edge')) {
      edge.scrollIntoView({ block: 'center', inline: 'center' });
      const middle = edge.getPointAtLength(edge.getTotalLength() / 2);
      const at = middle.matrixTransform(edge.getScreenCTM());
      const back = behind(edge, at.x, at.y);
      const stroke = rgba(getComputedStyle(edge).stroke);
      const seen = stroke ? over(stroke, back) : back;
      results.push({ diagram: n + 1, what: 'an edge', ratio: ratio(seen, back), kind: 'edge' });
    }
  }
  return results;
}"""


NEXT_FRAME = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"


@pytest.fixture(scope="module")
def seen(browser, server: str):
    """lang -> {url: what Chromium shows of its diagrams}; each page is loaded once, at a
    desktop width (1280 px: sizes, names, contrast in both schemes), then narrowed to a
    phone's (390 px: sizes)."""
    results: dict[str, dict[str, dict]] = {}

    def view(lang: str) -> dict[str, dict]:
        if lang in results:
            return results[lang]
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        results[lang] = {}
        try:
            for url in _diagram_pages(lang):
                requests.clear()
                page.set_viewport_size({"width": 1280, "height": 900})
                page.goto(server + url, wait_until="load")
                desktop = page.evaluate(MEASURE)
                # The accessible name as the browser computes it (from the SVG's <title>).
                unnamed = [d["label"] for d in desktop
                           if page.get_by_role("img", name=d["label"], exact=True).count() < 1]
                contrast = {scheme: page.evaluate(CONTRAST, scheme) for scheme in ("default", "slate")}
                page.set_viewport_size({"width": 390, "height": 800})
                page.evaluate(NEXT_FRAME)
                results[lang][url] = {
                    "desktop": desktop, "phone": page.evaluate(MEASURE), "unnamed": unnamed,
                    "contrast": contrast, "mermaid": page.evaluate("typeof window.mermaid"),
                    "requests": [r for r in requests if "mermaid" in r.lower()],
                }
        finally:
            context.close()
        return results[lang]

    return view


@pytest.mark.browser
@pytest.mark.parametrize("lang", LANGS)
def test_no_mermaid_runs_and_every_diagram_is_named(seen, lang: str) -> None:
    pages = seen(lang)
    assert len(pages) >= 20
    for url, view in pages.items():
        assert view["mermaid"] == "undefined", f"{url}: a Mermaid script ran"
        assert not view["requests"], f"{url}: requested {view['requests']}"
        assert not view["unnamed"], f"{url}: no image with the accessible name {view['unnamed']}"


@pytest.mark.browser
@pytest.mark.parametrize("lang", LANGS)
def test_diagrams_are_legible_on_a_desktop_and_a_phone(seen, lang: str) -> None:
    problems = []
    for url, view in seen(lang).items():
        for width, measured in (("1280", view["desktop"]), ("390", view["phone"])):
            for n, d in enumerate(measured, 1):
                where = f"{url} diagram {n} at {width} px"
                assert d["texts"] > 0, f"{where}: no text"
                if d["minText"] < MIN_TEXT_PX - 0.05:
                    problems.append(f"{where}: text drawn at {d['minText']:.1f} px")
                if width == "1280" and d["overflows"]:
                    problems.append(f"{where}: wider than the column (lay it out top to bottom)")
                if d["overflows"] and d["overflowX"] not in ("auto", "scroll"):
                    problems.append(f"{where}: overflows without scrolling")
    assert not problems, "\n".join(problems)


@pytest.mark.browser
@pytest.mark.parametrize("lang", LANGS)
def test_diagram_text_stands_out_in_the_light_and_the_dark_scheme(seen, lang: str) -> None:
    problems = []
    checked = 0
    for url, view in seen(lang).items():
        for scheme, results in view["contrast"].items():
            for r in results:
                checked += 1
                floor = MIN_TEXT_CONTRAST if r["kind"] == "text" else MIN_LINE_CONTRAST
                if r["ratio"] < floor:
                    what = f"{url} diagram {r['diagram']} ({scheme}): {r['what']!r}"
                    problems.append(f"{what} at {r['ratio']:.2f}:1")
    assert checked > 200, f"{lang}: only {checked} texts and edges checked"
    assert not problems, "\n".join(problems)
