"""Every built page of every language, visited once: accessibility, weight and scripts.

* Accessibility: axe-core (npm, pinned in package-lock.json) is injected into the page; a
  serious or critical violation fails, listing page, rule and the first elements involved.
* Weight: the bytes transferred for the first view (everything requested until the network
  is idle at a 1280 x 900 viewport, compressed as the server sends it, like GitHub Pages)
  must stay within BUDGET_KB.
* Copy buttons: every code block has exactly one, written at build time
  (docs/hooks/page_weight.py), and the block it copies is its own, under the name
  Material's bundle gives the block when it starts.
* Requests: no sitemap (Material's language-switch maps go unused here).
* Scripts: a page loads the scripts every page needs, and an optional one only when the
  page has what it serves (KaTeX only where math was left for the browser to render);
  any other script fails, named.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import LANGS
from .pages import pages_of

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BUDGET_KB = 150
# Scripts every page loads: Material's bundle, the site's own site.js, and the search
# worker that the bundle starts on every page, since every page has the search box
# (docs/overrides/main.html points Material at the site's worker).
ALWAYS = [re.compile(r"/assets/javascripts/bundle\.[0-9a-f]+\.min\.js$"),
          re.compile(r"/assets/javascripts/site\.js$"),
          re.compile(r"/assets/javascripts/workers/guide-search\.js$")]
# Each language's pages are visited in PARTS interleaved slices: this module checks the
# first, test_every_page_2.py the second, so that `make test` (pytest-xdist, --dist
# loadfile, two workers) can give the two halves of the slow browser work to different
# workers.
PARTS = 2
# Optional scripts, and the selector a page needs for each to be of use there.
NEEDS = {
    re.compile(r"/assets/vendor/katex/katex\.min\.js$"): ".arithmatex:not(:has(.katex))",
}


# Run in the page once Material's bundle has started (it names each code block's <pre>).
COPY_BUTTON_PROBLEMS = """() => [...document.querySelectorAll("pre:not(.mermaid) > code")]
  .flatMap((code, i) => {
    const buttons = code.parentElement.querySelectorAll(":scope > nav.md-code__nav > .md-code__button");
    if (buttons.length !== 1) return [`code block ${i + 1} has ${buttons.length} copy buttons`];
    const target = document.querySelector(buttons[0].dataset.clipboardTarget);
    return target === code ? [] : [`the copy button of code block ${i + 1} copies ` +
        (target ? "another block" : `nothing (${buttons[0].dataset.clipboardTarget})`)];
})"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail("node_modules/axe-core is missing: run make setup (npm ci)")
    return AXE.read_text(encoding="utf-8")


def script_problems(scripts: list[str], page, html: str) -> list[str]:  # type: ignore[no-untyped-def]
    """What is wrong with the scripts a page loaded, judged on its HTML as served."""
    problems = []
    for url in scripts:
        path = url.split("?")[0]
        if any(pattern.search(path) for pattern in ALWAYS):
            continue
        selector = next((sel for pattern, sel in NEEDS.items() if pattern.search(path)), None)
        if selector is None:
            problems.append(f"loads a script no rule allows: {path}")
        elif not page.evaluate(
            "([html, s]) => new DOMParser().parseFromString(html, 'text/html').querySelector(s) !== null",
            [html, selector],
        ):
            problems.append(f"loads {path.rsplit('/', 1)[-1]} but has no {selector}")
    return problems


@pytest.mark.parametrize("lang", LANGS)
def test_every_page(browser, server: str, site_dir: Path, axe_source: str, lang: str) -> None:
    check_pages(browser, server, site_dir, axe_source, lang, part=0)


def check_pages(browser, server: str, site_dir: Path, axe_source: str, lang: str,  # type: ignore[no-untyped-def]
                part: int) -> None:
    """Visit every PARTS-th page of a language, starting at `part`, and fail naming each problem."""
    every = pages_of(site_dir, lang)
    assert len(every) > 5
    paths = every[part::PARTS]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    heaviest = (0.0, "")
    for path in paths:
        finished: list = []

        def record(request, finished=finished) -> None:  # type: ignore[no-untyped-def]
            finished.append(request)

        page.on("requestfinished", record)
        response = page.goto(server + path, wait_until="load")
        page.wait_for_load_state("networkidle")
        page.remove_listener("requestfinished", record)
        kb = sum(r.sizes()["responseBodySize"] for r in finished) / 1024
        heaviest = max(heaviest, (kb, path))
        if kb > BUDGET_KB:
            problems.append(f"/{path}: first view {kb:.0f} KB > {BUDGET_KB} KB")
        scripts = [r.url for r in finished if r.resource_type == "script"]
        problems += [f"/{path}: requests {r.url} (overrides/partials/early.html, part 2)"
                     for r in finished if r.url.split("?")[0].endswith("/sitemap.xml")]
        problems += [f"/{path}: {p}" for p in script_problems(scripts, page, response.text())]
        problems += [f"/{path}: {p}" for p in page.evaluate(COPY_BUTTON_PROBLEMS)]
        # Math is rendered asynchronously (lazy KaTeX): audit the page readers see.
        page.wait_for_function(
            "() => [...document.querySelectorAll('.arithmatex')]"
            ".every(e => e.querySelector('.katex'))",
            timeout=15_000,
        )
        page.evaluate("() => document.fonts.ready.then(() => new Promise(r => requestAnimationFrame(r)))")
        # site.js gives overflowing regions a tab stop in slices of a few milliseconds
        # (part 4); axe's scrollable-region-focusable judges the page after the last pass.
        page.evaluate("() => window.fgScrollablesMarked")
        page.add_script_tag(content=axe_source)
        violations = page.evaluate(
            """async () => {
                const result = await axe.run(document, {resultTypes: ["violations"]});
                return result.violations
                    .filter(v => v.impact === "serious" || v.impact === "critical")
                    .map(v => `${v.id} (${v.impact}): ${v.help} -> ` +
                        v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | "));
            }"""
        )
        problems += [f"/{path}: {v}" for v in violations]
    context.close()
    heaviest_kb, heaviest_path = heaviest
    print(f"{lang} part {part + 1}/{PARTS}: {len(paths)} pages; heaviest first view "
          f"{heaviest_kb:.0f} KB /{heaviest_path}")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
