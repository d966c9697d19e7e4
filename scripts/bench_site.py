"""Benchmark the site and check its budgets (a benchmark, not a test).

    python scripts/bench_site.py            # measure, print the table, exit 1 if over budget
    python scripts/bench_site.py --write    # also write docs/about/benchmark.md (About page)

Measures, on a temporary copy of the project:
  * cold build time per language (strict, labs not executed) and for all languages;
  * rebuild time after editing one page under `mkdocs serve` (as contributors run it);
  * bytes transferred, gzip-compressed as GitHub Pages serves them, for the first view of
    each kind of page (home, question, formula-heavy, code-heavy, lab);
  * search-index size per language, raw and compressed;
  * search quality on the labelled queries (tests/site/search_queries/): hit@1, hit@3, MRR;
  * search speed in Debian Chromium: the first query, from the focus on the search field
    (which loads the index) to the first result, and later queries, key to results.

Budgets: question page <= 150 KB, search index <= 300 KB per language (compressed),
search hit@1 >= 80 % and hit@3 >= 95 %, first query <= 300 ms, later queries <= 100 ms,
rebuild <= 3 s, all languages <= 60 s without lab execution.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.site import search_eval  # noqa: E402
from tests.site.pages import page_kinds  # noqa: E402
from tests.site.static_server import serve  # noqa: E402

LANGS = {"en": ("mkdocs.yml", ""), "zh": ("mkdocs.zh.yml", "zh/"), "ru": ("mkdocs.ru.yml", "ru/")}
BUDGET_PAGE_KB, BUDGET_INDEX_KB, BUDGET_REBUILD_S, BUDGET_BUILD_S = 150, 300, 3.0, 60.0
COPY = ["mkdocs.yml", "mkdocs.zh.yml", "mkdocs.ru.yml", "docs", "snippets", "scripts", "style"]


def copy_project(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for rel in COPY:
        src = ROOT / rel
        if src.is_dir():
            shutil.copytree(src, dest / rel, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / rel)
    return dest


def env_for(root: Path) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(root), LABS_EXECUTE="false", NO_MKDOCS_2_WARNING="1")


def cold_builds(root: Path, site: Path) -> dict[str, float]:
    times = {}
    for lang, (config, sub) in LANGS.items():
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f", config, "-d", str(site / sub)],
            cwd=root, env=env_for(root), check=True,
        )
        times[lang] = time.perf_counter() - start
    return times


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rebuild_time(root: Path, page: str = "docs/en/ml-fundamentals/broadcasting.md") -> float:
    """Seconds mkdocs serve reports for the rebuild that follows one edited page."""
    port = free_port()
    log = root / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mkdocs", "serve", "--livereload", "--dirty", "-f", "mkdocs.yml",
             "-a", f"127.0.0.1:{port}"],
            cwd=root, env=env_for(root), stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        deadline = time.time() + 300
        while "Serving on" not in log.read_text() and time.time() < deadline:
            time.sleep(0.5)
        time.sleep(1.0)
        before = log.read_text().count("Documentation built in")
        path = root / page
        path.write_text(path.read_text(encoding="utf-8") + "\n<!-- bench edit -->\n", encoding="utf-8")
        while log.read_text().count("Documentation built in") <= before and time.time() < deadline:
            time.sleep(0.2)
        built = re.findall(r"Documentation built in ([\d.]+) seconds", log.read_text())
        return float(built[-1])
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def browser_measures(site: Path) -> tuple[dict[tuple[str, str], int], dict[str, search_eval.LangReport]]:
    from playwright.sync_api import sync_playwright

    transferred: dict[tuple[str, str], int] = {}
    search: dict[str, search_eval.LangReport] = {}
    kinds = page_kinds(site)
    with serve(site) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        for lang, (_, sub) in LANGS.items():
            for kind, path in kinds.items():
                context = browser.new_context()
                page = context.new_page()
                responses = []
                page.on("requestfinished", lambda r, acc=responses: acc.append(r))
                page.goto(url + sub + path)
                page.wait_for_load_state("networkidle")
                transferred[(lang, kind)] = sum(r.sizes()["responseBodySize"] for r in responses)
                context.close()
            search[lang] = search_eval.evaluate(browser, url, site, lang, timing_queries=7, first_tries=3)
        browser.close()
    return transferred, search


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write docs/about/benchmark.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = copy_project(Path(tmp) / "project")
        site = Path(tmp) / "site"
        builds = cold_builds(root, site)
        rebuild = rebuild_time(root)
        transferred, search = browser_measures(site)
        index = {  # both files the search loads (docs/hooks/search.py)
            lang: tuple(
                sum(f(site / sub / "search" / name) for name in search_eval.INDEX_FILES)
                for f in (lambda p: p.stat().st_size, lambda p: len(gzip.compress(p.read_bytes(), 6)))
            )
            for lang, (_, sub) in LANGS.items()
        }
    total = sum(builds.values())
    rows = [("measure", "en", "zh", "ru", "budget", "ok")]
    ok_all = True

    def row(name: str, values: dict[str, float], fmt: str, budget: float | None) -> None:
        nonlocal ok_all
        ok = budget is None or all(v <= budget for v in values.values())
        ok_all &= ok
        rows.append((name, *(fmt.format(values[lang]) for lang in LANGS),
                     "" if budget is None else f"≤ {budget:g}", "yes" if ok else "NO"))

    row("cold build, s (no labs)", builds, "{:.1f}", None)
    for kind in ["home", "question", "formulas", "code", "lab"]:
        values = {lang: transferred[(lang, kind)] / 1024 for lang in LANGS}
        row(f"first view, {kind} page, KB gzip", values, "{:.0f}",
            BUDGET_PAGE_KB if kind == "question" else None)
    row("search index, KB raw", {k: v[0] / 1024 for k, v in index.items()}, "{:.0f}", None)
    row("search index, KB gzip", {k: v[1] / 1024 for k, v in index.items()}, "{:.0f}", BUDGET_INDEX_KB)
    row("search hit@1, % (labelled queries)", {k: 100 * r.hit(1) for k, r in search.items()}, "{:.1f}", None)
    row("search hit@3, %", {k: 100 * r.hit(3) for k, r in search.items()}, "{:.1f}", None)
    row("search MRR", {k: r.mrr for k, r in search.items()}, "{:.3f}", None)
    row("first query incl. index, ms", {k: r.first_ms for k, r in search.items()}, "{:.0f}",
        search_eval.MAX_FIRST_MS)
    row("later query, key to results, ms (median)", {k: r.later_median_ms for k, r in search.items()},
        "{:.0f}", search_eval.MAX_LATER_MS)
    quality_ok = all(
        r.hit(1) >= search_eval.MIN_HIT1 and r.hit(3) >= search_eval.MIN_HIT3 for r in search.values()
    )
    ok_all &= quality_ok
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    rebuild_ok, total_ok = rebuild <= BUDGET_REBUILD_S, total <= BUDGET_BUILD_S
    ok_all &= rebuild_ok and total_ok
    lines += [
        "",
        f"- All three languages, cold, strict, labs not executed: **{total:.1f} s** "
        f"(budget ≤ {BUDGET_BUILD_S:g} s: {'yes' if total_ok else 'NO'}).",
        f"- Rebuild after editing one page under `mkdocs serve --dirty`: **{rebuild:.2f} s** "
        f"(budget ≤ {BUDGET_REBUILD_S:g} s: {'yes' if rebuild_ok else 'NO'}).",
        f"- Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} CPU cores by `scripts/bench_site.py`.",
    ]
    lines.append(
        f"- Search quality budget (hit@1 ≥ {search_eval.MIN_HIT1:.0%}, hit@3 ≥ {search_eval.MIN_HIT3:.0%} "
        f"in every language): {'yes' if quality_ok else 'NO'}."
    )
    table = "\n".join(lines)
    print(table)
    print("\nSearch, labelled queries whose answer was not first:")
    print(search_eval.table(list(search.values())))
    if args.write:
        target = ROOT / "docs" / "about" / "benchmark.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(table + "\n", encoding="utf-8")
        print(f"wrote {target.relative_to(ROOT)}")
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
