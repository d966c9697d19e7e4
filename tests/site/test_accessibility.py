"""Accessibility gate: axe-core on every built page of every language.

axe-core (npm, pinned in package-lock.json) is injected into each page with Playwright.
A serious or critical violation on any page fails the test, listing page, rule and the
first elements involved.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import LANGS
from .pages import pages_of

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail("node_modules/axe-core is missing: run make setup (npm ci)")
    return AXE.read_text(encoding="utf-8")


@pytest.mark.parametrize("lang", LANGS)
def test_no_serious_or_critical_violations(browser, server: str, site_dir: Path,
                                           axe_source: str, lang: str) -> None:
    paths = pages_of(site_dir, lang)
    assert len(paths) > 5
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    for path in paths:
        page.goto(server + path, wait_until="load")
        page.wait_for_load_state("networkidle")
        # Math is rendered asynchronously (lazy KaTeX): audit the page readers see.
        page.wait_for_function(
            "() => [...document.querySelectorAll('.arithmatex')]"
            ".every(e => e.querySelector('.katex'))",
            timeout=15_000,
        )
        page.evaluate("() => document.fonts.ready.then(() => new Promise(r => requestAnimationFrame(r)))")
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
    page.close()
    assert not problems, f"{len(problems)} accessibility violations:\n" + "\n".join(problems)
