"""Figures in every language and both themes (snippets/figures, docs/hooks/labs.py,
docs/hooks/shared_files.py), on every page that shows one:

* the figure's words are in the page's language (code names, model names, units and the
  terms the pages keep in Latin letters aside: snippets.figures.text.KEPT_WORDS);
* its smallest text is at least 12 px at the desktop width of 1280 px;
* every text of it stands out from what is behind it, on the light and on the dark
  theme: two screenshots, with and without the figure's text, give the text's pixels
  and the background under them, whose contrast must reach 4.5:1 (WCAG AA).
"""

from __future__ import annotations

import html
import io
import posixpath
import re
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from bs4 import BeautifulSoup

from snippets.figures.text import english_words

from .conftest import LANGS
from .pages import pages_of

CJK = re.compile(r"[\u4e00-\u9fff]")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
SCRIPT = {"zh": CJK, "ru": CYRILLIC}
TEXT = re.compile(r"<text\b[^>]*>(.*?)</text>", re.DOTALL)
MIN_PX = 12.0
MIN_CONTRAST = 4.5
THEMES = ("default", "slate")  # Material's light and dark schemes, as the palette toggle sets them


def _is_figure(src: str) -> bool:
    return src.endswith(".svg") and ("/figures/" in src or "/lab-figures/" in src)


@cache
def figure_pages(site: Path, lang: str) -> dict[str, list[str]]:
    """Page (URL path below the site root) -> the figures in its article (src as written)."""
    found = {}
    for path in pages_of(site, lang):
        soup = BeautifulSoup((site / path / "index.html").read_text(encoding="utf-8"), "html.parser")
        srcs = [img["src"] for img in soup.select("article img") if _is_figure(img.get("src", ""))]
        if srcs:
            found[path] = srcs
    return found


def _texts(svg: str) -> list[str]:
    """The text of every <text> element (mathtext writes its pieces as <tspan>s)."""
    return [html.unescape(re.sub(r"<[^>]+>", "", t)) for t in TEXT.findall(svg)]


@pytest.mark.parametrize("lang", LANGS)
def test_every_figure_speaks_the_page_language(site_dir: Path, lang: str) -> None:
    pages = figure_pages(site_dir, lang)
    files = [(page, src) for page, srcs in pages.items() for src in srcs]
    assert len([f for f in files if "/lab-figures/" in f[1]]) >= 20, "too few lab figures"
    assert len([f for f in files if "/figures/" in f[1]]) >= 7, "too few shared figures"
    problems = []
    for page, src in files:
        svg = (site_dir / posixpath.normpath(posixpath.join(page, src))).read_text(encoding="utf-8")
        texts = _texts(svg)
        assert texts, f"{page} {src}: no text elements (svg.fonttype must be 'none')"
        joined = " ".join(texts)
        if lang == "en":
            if CJK.search(joined) or CYRILLIC.search(joined):
                problems.append(f"{page} {src}: Chinese or Russian text in an English figure")
            continue
        if not SCRIPT[lang].search(joined):
            problems.append(f"{page} {src}: no {lang} text at all")
        left = sorted({word for text in texts for word in english_words(text)})
        if left:
            problems.append(f"{page} {src}: English words left: {left}")
    assert not problems, "\n".join(problems)


# In the page: the figure's SVG copied into a shadow root at the image's drawn size, to read
# each text's font size and box; then the image with its text hidden, for the background.
MEASURE = """async (img) => {
  const svg = await (await fetch(img.currentSrc || img.src)).text();
  const host = document.createElement("div");
  host.style.cssText = "position:absolute;left:0;top:0;visibility:hidden";
  document.body.append(host);
  const root = host.attachShadow({mode: "open"});
  root.innerHTML = svg.replace(/^[\\s\\S]*?(<svg\\b)/, "$1");
  const copy = root.querySelector("svg");
  const box = img.getBoundingClientRect();
  const viewBox = copy.viewBox.baseVal;
  copy.setAttribute("width", box.width);
  copy.setAttribute("height", box.height);
  const origin = copy.getBoundingClientRect();
  const scale = box.width / viewBox.width;
  const texts = [...copy.querySelectorAll("text")].filter(t => t.textContent.trim()).map(t => {
    const r = t.getBoundingClientRect();
    return {text: t.textContent, px: parseFloat(getComputedStyle(t).fontSize) * scale,
            x: r.left - origin.left, y: r.top - origin.top, w: r.width, h: r.height};
  });
  host.remove();
  return {svg, texts, width: box.width};
}"""

SWAP = """async ([img, svg]) => {
  const hidden = svg.replace('<style type="text/css">',
                             '<style type="text/css">text{visibility:hidden!important}');
  const original = img.src;
  img.src = URL.createObjectURL(new Blob([hidden], {type: "image/svg+xml"}));
  await img.decode();
  return original;
}"""

RESTORE = """async ([img, src]) => { img.src = src; await img.decode(); }"""


def _luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG relative luminance of an (..., 3) array of 8-bit colours."""
    c = rgb / 255.0
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return c @ np.array([0.2126, 0.7152, 0.0722])


def text_contrast(with_text, without_text, box: tuple[int, int, int, int]) -> float:
    """Highest contrast between a pixel of the text and the background under it: the
    pixels that change when the text is hidden are the text's."""
    a = np.asarray(with_text.crop(box).convert("RGB"), dtype=float)
    b = np.asarray(without_text.crop(box).convert("RGB"), dtype=float)
    changed = (a != b).any(axis=-1)
    if not changed.any():
        return 1.0
    la, lb = _luminance(a[changed]), _luminance(b[changed])
    return float(((np.maximum(la, lb) + 0.05) / (np.minimum(la, lb) + 0.05)).max())


@pytest.mark.browser
@pytest.mark.parametrize("lang", LANGS)
def test_figure_text_is_legible_and_visible_in_both_themes(browser, server: str, site_dir: Path,
                                                           lang: str) -> None:
    from PIL import Image

    scale = 2  # device pixels per CSS pixel: glyphs of 12 px have solid cores
    context = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=scale)
    problems, measured = [], 0
    try:
        page = context.new_page()
        for path, _ in figure_pages(site_dir, lang).items():
            page.goto(server + path, wait_until="load")
            images = page.locator("article img")
            for theme in THEMES:
                page.evaluate(f"document.body.setAttribute('data-md-color-scheme', '{theme}')")
                for i in range(images.count()):
                    img = images.nth(i)
                    src = img.get_attribute("src") or ""
                    if not _is_figure(src):
                        continue
                    img.scroll_into_view_if_needed()
                    img.evaluate("img => img.decode()")
                    info = img.evaluate(MEASURE)
                    where = f"{path} {src.rsplit('/', 1)[-1]} ({theme})"
                    if theme == THEMES[0]:
                        smallest = min(t["px"] for t in info["texts"])
                        if smallest < MIN_PX - 0.01:
                            problems.append(f"{where}: smallest text {smallest:.1f} px at 1280 px")
                    shown = Image.open(io.BytesIO(img.screenshot()))
                    original = page.evaluate(SWAP, [img.element_handle(), info["svg"]])
                    bare = Image.open(io.BytesIO(img.screenshot()))
                    page.evaluate(RESTORE, [img.element_handle(), original])
                    for t in info["texts"]:
                        box = (int(t["x"] * scale), int(t["y"] * scale),
                               int((t["x"] + t["w"]) * scale) + 1, int((t["y"] + t["h"]) * scale) + 1)
                        contrast = text_contrast(shown, bare, box)
                        measured += 1
                        if contrast < MIN_CONTRAST:
                            problems.append(f"{where}: {t['text']!r} has contrast {contrast:.2f}")
    finally:
        context.close()
    assert measured > 200, f"only {measured} figure texts measured"
    assert not problems, "\n".join(problems)
