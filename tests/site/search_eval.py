"""Search quality and speed, measured with the site's own search in Chromium.

The labelled queries live in tests/site/search_queries/<lang>.yml: what a candidate types,
and the page that answers it. For every language this module opens the built site in
Debian Chromium, lets Material start its search worker (the shipped worker, index and
query code), and then

* sends every labelled query to that worker through the same message the search box
  sends on each keystroke, and reads the ranked pages back as the result list shows them
  (hit@1, hit@3, mean reciprocal rank);
* times the search box itself: the first query on a fresh page, from the focus on the
  field (which is when the deferred index is requested) to the first rendered result
  (median of fresh pages), and later queries, typed once the index is built, from the
  key released to the rendered results;
* records the size of each language's compressed search index (both files).

Hit@k and MRR count pages in the order the result list shows them (a page's sections
follow it); a query whose page is not among the results counts 0 in MRR.

Used by tests/site/test_search_quality.py (make test) and scripts/bench_site.py (make bench).
Run it on a built site:  python -m tests.site.search_eval --site /tmp/search-site [--lang zh]
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
QUERIES = Path(__file__).resolve().parent / "search_queries"
LANGS = ("en", "zh", "ru")
CHROMIUM = "/usr/bin/chromium"

# Budgets (CONTRIBUTING.md, "Search"): quality per language, speed, size.
MIN_HIT1, MIN_HIT3 = 0.80, 0.95
MAX_FIRST_MS, MAX_LATER_MS, MAX_INDEX_KB = 300.0, 100.0, 300.0

# Keeps a handle on Material's search worker and on its answers (Material creates the
# worker with `new Worker(config.search)`; the page's own code is not changed otherwise),
# and notes when the reader's actions reach the page: the first focus on the search field
# (which releases the deferred index) and the last key released (Material searches on keyup).
CAPTURE_WORKER = """
(() => {
  document.addEventListener("focusin", (event) => {
    if (event.target.matches && event.target.matches(".md-search__input") && !window.__fgFocus)
      window.__fgFocus = performance.now();
  }, true);
  document.addEventListener("keyup", () => (window.__fgKey = performance.now()), true);
  const Native = window.Worker;
  window.__fgSearch = { worker: null, ready: null };
  window.Worker = class extends Native {
    constructor(url, options) {
      super(url, options);
      if (window.__fgSearch.worker) return;
      window.__fgSearch.worker = this;
      // The worker answers READY as soon as it can search, and READY {complete: true}
      // once it has indexed every section's text too (text: whether search_text.json came).
      // (Material's own worker, measured for comparison, is complete at its only READY.)
      const ours = String(url).includes("guide-search.js");
      window.__fgSearch.ready = new Promise((resolve, reject) =>
        this.addEventListener("message", (ev) => {
          if (!ev.data || ev.data.type !== 1) return;
          const data = ev.data.data;
          if (!ours) resolve();
          else if (data && data.complete) {
            if (data.text) resolve();
            else reject(new Error("search_text.json not loaded"));
          }
        }));
    }
  };
})();
"""

# Sends each query as Material's search box does ({type: QUERY, data: value}) and
# returns, per query, the pages in the order the result list renders them.
RUN_QUERIES = """
async (queries) => {
  const worker = window.__fgSearch.worker;
  await window.__fgSearch.ready;
  const ask = (query) => new Promise((resolve) => {
    const listen = (ev) => {
      if (!ev.data || ev.data.type !== 3) return;
      worker.removeEventListener("message", listen);
      resolve(ev.data.data.items.map((group) => group[0].location.split("#")[0]));
    };
    worker.addEventListener("message", listen);
    worker.postMessage({ type: 2, data: query });
  });
  const out = [];
  const start = performance.now();
  for (const query of queries) out.push(await ask(query));
  return { pages: out, ms: performance.now() - start };
}
"""

# Resolves with the milliseconds from the reader's action (`since`: the first focus on the
# search field, or the last key released) until the result list shows a result.
WATCH_RESULTS = """
(since) => {
  const list = document.querySelector(".md-search-result__list");
  window.__fgLatency = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (list.querySelector(".md-search-result__item")) {
        observer.disconnect();
        resolve(performance.now() - window[since]);
      }
    });
    observer.observe(list, { childList: true });
  });
}
"""


@dataclass
class Query:
    text: str
    page: str


@dataclass
class LangReport:
    lang: str
    ranks: list[int | None] = field(default_factory=list)  # 1-based rank of the answer
    misses: list[tuple[str, str, int | None, list[str]]] = field(default_factory=list)
    first_ms: float = 0.0
    later_ms: list[float] = field(default_factory=list)
    index_kb: float = 0.0
    eval_s: float = 0.0

    def hit(self, k: int) -> float:
        return sum(1 for r in self.ranks if r is not None and r <= k) / len(self.ranks)

    @property
    def mrr(self) -> float:
        return sum(1 / r for r in self.ranks if r is not None) / len(self.ranks)

    @property
    def later_median_ms(self) -> float:
        return statistics.median(self.later_ms) if self.later_ms else float("nan")


def lang_root(lang: str) -> str:
    return "" if lang == "en" else f"{lang}/"


def load_queries(lang: str) -> list[Query]:
    """The labelled queries of one language: [{q: what is typed, page: path of the answer}]."""
    data = yaml.safe_load((QUERIES / f"{lang}.yml").read_text(encoding="utf-8"))
    return [Query(str(item["q"]), str(item["page"])) for item in data]


INDEX_FILES = ("search_index.json", "search_text.json")  # docs/hooks/search.py writes both


def index_kb(site: Path, lang: str) -> float:
    """The language's search index, both files, gzip-compressed as GitHub Pages sends them."""
    files = [site / lang_root(lang) / "search" / name for name in INDEX_FILES]
    return sum(len(gzip.compress(f.read_bytes(), compresslevel=6)) for f in files if f.exists()) / 1024


def _type(page, text: str) -> None:
    # Playwright types CJK as insertText, which fires no keyup; Material searches on keyup,
    # so every query ends with a real key press, as a reader's typing does.
    page.keyboard.insert_text(text)
    page.keyboard.press("End")


def _open(browser, base_url: str, lang: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(CAPTURE_WORKER)
    page = context.new_page()
    page.goto(base_url + lang_root(lang), wait_until="load")
    page.wait_for_load_state("networkidle")
    return context, page


# A reader who types the whole query at once: focus (which releases the deferred index),
# the query in the field, a key released. In one task, so that the time the test driver
# takes to type does not count.
TYPE_AT_ONCE = """
(text) => {
  const field = document.querySelector("input.md-search__input");
  field.focus();
  field.value = text;
  field.dispatchEvent(new KeyboardEvent("keyup", { key: "End", bubbles: true }));
}
"""


def _first_query(page, text: str) -> float:
    """Milliseconds from the focus on the search field to the first result: loading the
    index, the worker's set-up and the query all count."""
    page.evaluate(WATCH_RESULTS, "__fgFocus")
    page.evaluate(TYPE_AT_ONCE, text)
    return page.evaluate("window.__fgLatency")


def evaluate(
    browser, base_url: str, site: Path, lang: str, timing_queries: int = 5, first_tries: int = 1
) -> LangReport:
    """Quality, latency and index size of one language's search.

    The first query is timed on `first_tries` fresh pages (the median is kept); later
    queries, `timing_queries` of them, are typed into the box once the index is built."""
    report = LangReport(lang)
    queries = load_queries(lang)
    report.index_kb = index_kb(site, lang)
    for name in INDEX_FILES:  # as a CDN would, the server has the compressed files at hand
        if not (site / lang_root(lang) / "search" / name).exists():
            continue
        request = urllib.request.Request(f"{base_url}{lang_root(lang)}search/{name}",
                                         headers={"Accept-Encoding": "gzip"})
        urllib.request.urlopen(request, timeout=30).read()
    firsts = []
    for _ in range(first_tries - 1):
        context, page = _open(browser, base_url, lang)
        try:
            firsts.append(_first_query(page, queries[0].text))
        finally:
            context.close()
    context, page = _open(browser, base_url, lang)
    try:
        firsts.append(_first_query(page, queries[0].text))
        report.first_ms = statistics.median(firsts)
        page.evaluate("window.__fgSearch.ready")
        box = page.locator("input.md-search__input")
        for query in queries[1 : 1 + timing_queries]:
            box.fill("")
            page.evaluate(WATCH_RESULTS, "__fgKey")
            _type(page, query.text)
            report.later_ms.append(page.evaluate("window.__fgLatency"))
        # Every labelled query, through the worker.
        start = time.perf_counter()
        answer = page.evaluate(RUN_QUERIES, [q.text for q in queries])
        report.eval_s = time.perf_counter() - start
    finally:
        context.close()
    for query, pages in zip(queries, answer["pages"], strict=True):
        rank = pages.index(query.page) + 1 if query.page in pages else None
        report.ranks.append(rank)
        if rank != 1:
            report.misses.append((query.text, query.page, rank, pages[:3]))
    return report


def table(reports: list[LangReport]) -> str:
    """The per-language table, then the queries whose answer was not first."""
    rows = [("lang", "queries", "hit@1", "hit@3", "MRR", "first query ms", "later ms (median)",
             "index KB gz")]
    for r in reports:
        later = f"{r.later_median_ms:.0f}" if r.later_ms else "-"
        rows.append((r.lang, str(len(r.ranks)), f"{r.hit(1):.1%}", f"{r.hit(3):.1%}", f"{r.mrr:.3f}",
                     f"{r.first_ms:.0f}", later, f"{r.index_kb:.0f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    for r in reports:
        for text, want, rank, got in r.misses:
            lines.append(f"  {r.lang} {text!r}: {want} at {rank or '-'}; top 3: {', '.join(got)}")
    return "\n".join(lines)


def failures(report: LangReport) -> list[str]:
    """What is over budget in one language's report."""
    out = []
    if report.hit(1) < MIN_HIT1:
        out.append(f"{report.lang}: hit@1 {report.hit(1):.1%} < {MIN_HIT1:.0%}")
    if report.hit(3) < MIN_HIT3:
        out.append(f"{report.lang}: hit@3 {report.hit(3):.1%} < {MIN_HIT3:.0%}")
    if report.first_ms > MAX_FIRST_MS:
        out.append(f"{report.lang}: first query {report.first_ms:.0f} ms > {MAX_FIRST_MS:.0f} ms")
    if report.later_median_ms > MAX_LATER_MS:
        out.append(f"{report.lang}: later queries {report.later_median_ms:.0f} ms > {MAX_LATER_MS:.0f} ms")
    if report.index_kb > MAX_INDEX_KB:
        out.append(f"{report.lang}: index {report.index_kb:.0f} KB gzip > {MAX_INDEX_KB:.0f} KB")
    return out


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from playwright.sync_api import sync_playwright

    from tests.site.static_server import serve

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=ROOT / "site")
    parser.add_argument("--lang", choices=LANGS, action="append")
    args = parser.parse_args()
    with serve(args.site) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        reports = [evaluate(browser, url, args.site, lang, timing_queries=7, first_tries=3)
                   for lang in args.lang or LANGS]
        browser.close()
    print(table(reports))
    problems = [p for r in reports for p in failures(r)]
    for p in problems:
        print("FAIL", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
