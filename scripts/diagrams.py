"""Mermaid diagrams drawn as SVG at build time, with a committed cache.

Pages write diagrams as ```mermaid fences; docs/hooks/diagrams.py replaces each with
inline SVG, so readers get no diagram script. The SVG comes from here:

* Each diagram is cached as docs/diagrams-cache/<key>.svg, where the key hashes the
  diagram's source, the vendored Mermaid (version and file), scripts/mermaid_render.js and
  the render options below. The cache is committed, so a build on a machine without
  Chromium (CI, `make serve` on a laptop) draws every diagram from it.
* Diagrams without a cache entry are rendered together, in one Chromium session:
  Playwright for Python drives Debian's /usr/bin/chromium (no browser is downloaded) on
  scripts/mermaid_render.html, which loads scripts/vendor/mermaid/mermaid.min.js and
  scripts/mermaid_render.js.

    python scripts/diagrams.py           # render every diagram of docs/{en,zh,ru} that has no entry
    python scripts/diagrams.py --check   # exit 1 if a diagram has no entry or an entry is unused
    python scripts/diagrams.py --prune   # delete entries that no page uses
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import re
import shutil
import sys
import textwrap
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
LANGS = ("en", "zh", "ru")
CACHE = DOCS / "diagrams-cache"
VENDOR = ROOT / "scripts" / "vendor"
MERMAID_JS = VENDOR / "mermaid" / "mermaid.min.js"
RENDER_JS = ROOT / "scripts" / "mermaid_render.js"
RENDER_PAGE = ROOT / "scripts" / "mermaid_render.html"
# Element id Mermaid is given; the hook replaces it with a per-page id (fg-diagram-1, ...).
SLOT = "fgdiagramslot"

# Arial's metrics (Liberation Sans on Debian) for Latin and Cyrillic; readers without
# Arial get their sans-serif, squeezed or stretched to the measured width of each line.
FONT_FAMILY = 'Arial, "Liberation Sans", Helvetica, sans-serif'
OPTIONS = {
    "mermaid": {
        "startOnLoad": False,
        "securityLevel": "strict",
        "deterministicIds": True,
        "theme": "default",
        "fontFamily": FONT_FAMILY,
        "fontSize": 16,
        # SVG <text> instead of HTML in <foreignObject>: colours from the page's CSS,
        # sizes that do not depend on the page's line height.
        "htmlLabels": False,
        "flowchart": {"htmlLabels": False, "useMaxWidth": False},
    },
    "fontFamily": FONT_FAMILY,
    # Smallest text a reader sees: a diagram is never scaled below this (it scrolls).
    "minTextPx": 12,
}

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>.*)$")
HAN = re.compile(r"[\u3400-\u9fff]")


class RenderError(Exception):
    """A diagram could not be rendered (Mermaid rejected it, or no browser or font)."""


def normalise(source: str) -> str:
    """The diagram as Mermaid sees it: no common indent, trailing spaces or blank ends."""
    lines = [line.rstrip() for line in textwrap.dedent(source).splitlines()]
    return "\n".join(lines).strip("\n")


def diagrams_in(markdown: str) -> list[str]:
    """Normalised sources of the ```mermaid fences of a Markdown text, in order."""
    found: list[str] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        i += 1
        if not opening:
            continue
        mark, indent = opening["fence"], opening["indent"]
        block: list[str] = []
        while i < len(lines):
            closing = FENCE.match(lines[i])
            if closing and closing["fence"][0] == mark[0] and len(closing["fence"]) >= len(mark) \
                    and not closing["info"].strip():
                break
            block.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i].lstrip())
            i += 1
        i += 1
        info = opening["info"].strip().split(" ")[0].lstrip(".{") if opening["info"].strip() else ""
        if info == "mermaid":
            found.append(normalise("\n".join(block)))
    return found


def pages(docs: Path = DOCS) -> dict[str, list[str]]:
    """Every page of every language that has diagrams: {"docs/en/...md": [sources]}."""
    result = {}
    for lang in LANGS:
        for path in sorted((docs / lang).rglob("*.md")):
            sources = diagrams_in(path.read_text(encoding="utf-8"))
            if sources:
                result[path.relative_to(docs.parent).as_posix()] = sources
    return result


def mermaid_version() -> str:
    return json.loads((VENDOR / "package.json").read_text(encoding="utf-8"))["dependencies"]["mermaid"]


@functools.cache
def _fingerprint() -> str:
    """What besides the source decides the SVG: Mermaid, the post-processing, the options."""
    digest = hashlib.sha256()
    digest.update(mermaid_version().encode())
    for path in (MERMAID_JS, RENDER_JS):
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    digest.update(json.dumps(OPTIONS, sort_keys=True).encode())
    return digest.hexdigest()


def key(source: str) -> str:
    """Cache key of a diagram (its source is normalised first)."""
    return hashlib.sha256((_fingerprint() + "\n" + normalise(source)).encode()).hexdigest()[:24]


def cache_file(source: str, cache: Path = CACHE) -> Path:
    return cache / f"{key(source)}.svg"


def cached(source: str, cache: Path = CACHE) -> str | None:
    path = cache_file(source, cache)
    return path.read_text(encoding="utf-8") if path.exists() else None


def chromium() -> str | None:
    """Debian's Chromium, or None. FG_CHROMIUM overrides the path ("" stands for a machine
    without Chromium: the tests use it)."""
    if "FG_CHROMIUM" in os.environ:
        path = os.environ["FG_CHROMIUM"]
        return path if path and os.path.exists(path) else None
    path = "/usr/bin/chromium"
    return path if os.path.exists(path) else shutil.which("chromium")


def render(sources: Iterable[str], cache: Path = CACHE) -> dict[str, str]:
    """Render every source without a cache entry, in one Chromium session, and cache the SVG.

    Returns {source: Mermaid's error} for the sources that could not be rendered; raises
    RenderError when nothing can be rendered (no Chromium, Playwright or fonts).
    """
    missing = sorted({normalise(s) for s in sources if cached(s, cache) is None})
    if not missing:
        return {}
    browser_path = chromium()
    if browser_path is None:
        raise RenderError(
            "drawing a diagram needs Debian's Chromium (apt-get install chromium); "
            "the committed cache (docs/diagrams-cache/) has no entry for it"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        raise RenderError("drawing a diagram needs Playwright for Python (make setup)") from error
    options = dict(OPTIONS, id=SLOT)
    # Closed before returning: Playwright's sync API keeps an event loop running while it
    # is open, which would break the labs' asyncio later in the same build.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=browser_path,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page()
            page.goto(RENDER_PAGE.as_uri())
            fonts = page.evaluate("family => window.fgFontCheck(family)", FONT_FAMILY)
            if not fonts["arial"]:
                raise RenderError("diagrams are measured in Arial's metrics: "
                                  "apt-get install fonts-liberation")
            if not fonts["cjk"] and any(HAN.search(s) for s in missing):
                raise RenderError("a diagram has Chinese text and Chromium has no CJK font: "
                                  "apt-get install fonts-noto-cjk")
            results = page.evaluate("([s, o]) => window.fgRender(s, o)", [missing, options])
        finally:
            browser.close()
    errors = {}
    cache.mkdir(parents=True, exist_ok=True)
    for source, result in zip(missing, results, strict=True):
        if "error" in result:
            errors[source] = result["error"]
            continue
        target = cache_file(source, cache)
        partial = target.with_suffix(".tmp")
        partial.write_text(result["svg"] + "\n", encoding="utf-8")
        partial.replace(target)
    return errors


def unused_entries(found: dict[str, list[str]], cache: Path = CACHE) -> list[Path]:
    used = {cache_file(s, cache).name for sources in found.values() for s in sources}
    return sorted(p for p in cache.glob("*.svg") if p.name not in used)


def missing_entries(found: dict[str, list[str]], cache: Path = CACHE) -> list[tuple[str, int]]:
    """(page, diagram number) of every diagram without a cache entry."""
    return [
        (page, n)
        for page, sources in found.items()
        for n, source in enumerate(sources, 1)
        if not cache_file(source, cache).exists()
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report missing and unused entries")
    parser.add_argument("--prune", action="store_true", help="delete entries no page uses")
    args = parser.parse_args()
    found = pages()
    total = sum(map(len, found.values()))
    if args.check:
        problems = [f"{page}: diagram {n} has no cache entry (python scripts/diagrams.py)"
                    for page, n in missing_entries(found)]
        problems += [f"{p.relative_to(ROOT)}: no page uses this entry (python scripts/diagrams.py --prune)"
                     for p in unused_entries(found)]
        for problem in problems:
            print(problem, file=sys.stderr)
        if not problems:
            print(f"diagram cache ok: {total} diagrams on {len(found)} pages")
        return 1 if problems else 0
    try:
        errors = render([s for sources in found.values() for s in sources])
    except RenderError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for page, sources in found.items():
        for n, source in enumerate(sources, 1):
            if source in errors:
                print(f"{page}: diagram {n}: {errors[source]}", file=sys.stderr)
    if args.prune:
        for path in unused_entries(found):
            path.unlink()
            print(f"removed {path.relative_to(ROOT)}")
    print(f"{total} diagrams on {len(found)} pages; {len(errors)} failed")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
