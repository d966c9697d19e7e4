"""Speed and quality gate: Lighthouse on four kinds of page in every language.

Lighthouse (npm, pinned in package-lock.json) runs against Debian Chromium with its
default mobile profile (emulated phone, simulated slow 4G and 4x CPU slowdown), on the
built site served with gzip like GitHub Pages. Budgets: Performance >= 95;
Accessibility, Best Practices and SEO = 100. The summary of every run is printed.

The four kinds: the home page, the page with the most formulas, the page with the most
code blocks, and a lab. Lighthouse's performance score varies from run to run with the
machine's load, so each page is measured RUNS times and judged on the median run, as
Lighthouse's own documentation recommends; the other categories must hold in every run.
`make test` runs it last and alone, after the other tests, and `make lighthouse` runs
only it: other work on the machine would slow the CPU that Lighthouse measures.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from .conftest import CHROMIUM, LANGS, lang_root, require_chromium
from .pages import page_kinds

pytestmark = [pytest.mark.browser, pytest.mark.lighthouse]
ROOT = Path(__file__).resolve().parents[2]
LIGHTHOUSE = ROOT / "node_modules" / "lighthouse" / "cli" / "index.js"
BUDGETS = {"performance": 95, "accessibility": 100, "best-practices": 100, "seo": 100}
RUNS = 3


def gated_pages(site: Path) -> dict[str, str]:
    """The four kinds the issue names: home, formula-heavy, code-heavy, lab."""
    kinds = page_kinds(site)
    return {kind: kinds[kind] for kind in ("home", "formulas", "code", "lab")}


def lighthouse(url: str) -> dict:
    require_chromium()
    if not LIGHTHOUSE.exists():
        pytest.fail("node_modules/lighthouse is missing: run make setup (npm ci)")
    result = subprocess.run(
        [
            "node", str(LIGHTHOUSE), url, "--output=json", "--quiet",
            "--only-categories=performance,accessibility,best-practices,seo",
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu "
            "--disable-background-networking --disable-dev-shm-usage",
        ],
        capture_output=True, text=True, timeout=300,
        env=dict(os.environ, CHROME_PATH=CHROMIUM),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def failing_audits(report: dict, category: str) -> list[str]:
    lines = []
    for ref in report["categories"][category]["auditRefs"]:
        audit = report["audits"][ref["id"]]
        if ref.get("weight", 0) > 0 and audit.get("score") is not None and audit["score"] < 1:
            lines.append(f"    {audit['id']}: {audit['score']:.2f} {audit.get('displayValue', '')}")
    return lines


@pytest.mark.parametrize("lang", LANGS)
def test_lighthouse_budgets(server: str, site_dir: Path, lang: str) -> None:
    problems = []
    for kind, path in gated_pages(site_dir).items():
        url = server + lang_root(lang) + path
        reports = [lighthouse(url) for _ in range(RUNS)]
        runs = [{k: round(v["score"] * 100) for k, v in r["categories"].items()} for r in reports]
        order = sorted(range(RUNS), key=lambda i: runs[i]["performance"])
        median = order[RUNS // 2]
        report = reports[median]
        scores = dict(runs[median])
        for category in BUDGETS:
            if category != "performance":
                scores[category] = min(run[category] for run in runs)
        perf_runs = [run["performance"] for run in runs]
        print(f"lighthouse {lang} {kind:5} {scores} (performance runs {perf_runs}) "
              f"/{lang_root(lang)}{path}")
        for category, budget in BUDGETS.items():
            if scores[category] < budget:
                problems.append(f"{lang} {kind} /{lang_root(lang)}{path}: {category} "
                                f"{scores[category]} < {budget}")
                problems += failing_audits(report, category)
    assert not problems, "\n".join(problems)
