"""What the build does to the site's assets: KaTeX font subsets, lab math, lab styles,
lab figures, Material's bundle.

docs/hooks/prerender_math.py renders every formula at build time (lab Markdown cells
included) and cuts KaTeX's fonts down to the characters the formulas use;
docs/hooks/labs.py trims JupyterLab's stylesheet and gives each lab figure the
description written in its cell header. These tests check the built site: a cut that
dropped a glyph a formula needs, a lab formula left for the browser, a stylesheet
variable pruned while still read, or a figure left with nbconvert's placeholder text
would each show up here. docs/hooks/compile_hints.py adds V8's compile hint to
Material's bundle, and the test checks that nothing else in the file or its source map
changed.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import material
import pytest
from bs4 import BeautifulSoup
from fontTools.ttLib import TTFont

from .conftest import LANGS, lang_root
from .modules import load_hook
from .pages import pages_of

ROOT = Path(__file__).resolve().parents[2]
FONTS = "assets/vendor/katex/fonts"
TAGS = re.compile(r"<[^>]+>")

prerender_math = load_hook("prerender_math")


def _pages(site: Path, lang: str) -> list[Path]:
    return [site / path / "index.html" for path in pages_of(site, lang)]


def _cmap(path: Path) -> set[int]:
    return set(TTFont(path).getBestCmap() or {})


@pytest.mark.parametrize("lang", LANGS)
def test_font_subsets_draw_every_formula_on_the_site(site_dir: Path, lang: str) -> None:
    used: set[int] = set()
    for page in _pages(site_dir, lang):
        text = page.read_text(encoding="utf-8")
        if "katex-html" in text:
            for katex in BeautifulSoup(text, "html.parser").select(".katex-html"):
                used.update(ord(c) for c in katex.get_text())
    assert used, f"{lang}: no rendered formula found"
    missing = {}
    for source in sorted(prerender_math.SOURCE_FONTS.glob("*.woff2")):
        built = site_dir / lang_root(lang) / FONTS / source.name
        lost = (_cmap(source) & used) - _cmap(built)
        if lost:
            missing[source.name] = "".join(sorted(chr(c) for c in lost))
    assert not missing, f"{lang}: glyphs cut that formulas use: {missing}"


@pytest.mark.parametrize("lang", LANGS)
def test_lab_math_is_rendered_at_build_time(site_dir: Path, lang: str) -> None:
    labs = [p for p in _pages(site_dir, lang) if "jp-MarkdownOutput" in p.read_text(encoding="utf-8")]
    assert labs, f"{lang}: no lab pages"
    cell = re.compile(r'<div class="[^"]*jp-MarkdownOutput[^"]*"[^>]*>(.*?)</div>', re.DOTALL)
    code = re.compile(r"<(code|pre)\b.*?</\1>", re.DOTALL)
    for page in labs:
        text = page.read_text(encoding="utf-8")
        prose = [TAGS.sub("", code.sub("", c)) for c in cell.findall(text)]
        left = [p for p in prose if re.search(r"\$[^$]+\$", p)]
        assert not left, f"{page.relative_to(site_dir)}: TeX left for the browser: {left[0][:120]!r}"
    assert any('class="arithmatex"' in p.read_text(encoding="utf-8") for p in labs), "no lab formula rendered"


def test_lab_stylesheet_keeps_every_variable_it_reads(site_dir: Path) -> None:
    sheets = site_dir / "assets" / "stylesheets"
    notebook = (sheets / "notebook.css").read_text(encoding="utf-8")
    everything = "".join(p.read_text(encoding="utf-8") for p in sheets.glob("*.css"))
    defined = set(re.findall(r"(--[\w-]+)\s*:", everything))
    read = set(re.findall(r"var\(\s*(--[\w-]+)\s*\)", notebook))  # without a fallback value
    assert read, "notebook.css reads no variables: was it trimmed to nothing?"
    assert read <= defined, f"read but no longer defined: {sorted(read - defined)}"


PLACEHOLDER = "No description has been provided for this image"
CJK = re.compile(r"[\u4e00-\u9fff]")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
MIN_ALT = {"en": 40, "zh": 15, "ru": 40}  # characters; Chinese says as much in fewer


def _figure_name(src: str) -> str:
    """A figure's identity across languages: shared figures have the same file name in every
    language (each language's own file is served under it); a lab figure is one file per
    language, named by its content, so only its place counts."""
    return "lab figure" if "/lab-figures/" in src else Path(src).name


@cache  # English is compared with each translation: parse every page once
def _figures(site: Path, lang: str) -> dict[str, list[tuple[str, str]]]:
    """Page (path below the language root) -> the images in its article, as (file, alt)."""
    figures = {}
    root = lang_root(lang)
    for path in pages_of(site, lang):
        soup = BeautifulSoup((site / path / "index.html").read_text(encoding="utf-8"), "html.parser")
        images = [(i["src"], i.get("alt", "")) for i in soup.select("article img")]
        if images:
            figures[path.removeprefix(root)] = images
    return figures


@pytest.mark.parametrize("lang", LANGS)
def test_every_figure_has_its_own_description(site_dir: Path, lang: str) -> None:
    figures = _figures(site_dir, lang)
    labs = {page: pairs for page, pairs in figures.items() if "/lab-" in f"/{page}"}
    assert sum(map(len, labs.values())) >= 20, f"too few lab figures found: {labs}"
    for page, pairs in figures.items():
        alts = [alt for _, alt in pairs]
        for alt in alts:
            assert alt.strip() and PLACEHOLDER not in alt, f"{lang} {page}: figure without a description"
            assert len(alt) >= MIN_ALT[lang], f"{lang} {page}: too short to describe a chart: {alt!r}"
        assert len(set(alts)) == len(alts), f"{lang} {page}: two figures share a description"


@pytest.mark.parametrize("lang", [lang for lang in LANGS if lang != "en"])
def test_figure_descriptions_are_in_the_page_language(site_dir: Path, lang: str) -> None:
    english = _figures(site_dir, "en")
    figures = _figures(site_dir, lang)
    assert figures.keys() == english.keys()
    script = CJK if lang == "zh" else CYRILLIC
    for page, pairs in figures.items():
        assert [_figure_name(f) for f, _ in pairs] == [_figure_name(f) for f, _ in english[page]], (
            f"{lang} {page}: other figures than en"
        )
        for (_, alt), (_, en_alt) in zip(pairs, english[page], strict=True):
            assert alt != en_alt and script.search(alt), f"{lang} {page}: untranslated: {alt!r}"


@pytest.mark.parametrize("lang", LANGS)
def test_materials_bundle_has_the_compile_hint_and_a_shifted_source_map(site_dir: Path, lang: str) -> None:
    """docs/hooks/compile_hints.py: one new first line, Material's code unchanged after it."""
    hint = load_hook("compile_hints").HINT
    package = Path(material.__file__).parent / "templates" / "assets" / "javascripts"
    built = site_dir / lang_root(lang) / "assets" / "javascripts"
    bundles = sorted(built.glob("bundle.*.min.js"))
    assert len(bundles) == 1, bundles
    original = (package / bundles[0].name).read_text(encoding="utf-8")
    assert bundles[0].read_text(encoding="utf-8") == hint + original
    mappings = json.loads(Path(f"{bundles[0]}.map").read_text(encoding="utf-8"))["mappings"]
    original_map = json.loads((package / f"{bundles[0].name}.map").read_text(encoding="utf-8"))
    assert mappings == ";" + original_map["mappings"]
