"""Browser tests: Debian Chromium, driven by Playwright, against the built site.

Each page must load with no console error and without a single request to a host other
than the local test server; the language switch must keep the page; search must find the
A4 page in every language; math and labs must render. Diagrams (SVG drawn at build time)
are checked in test_diagrams.py.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .conftest import LANGS, lang_root
from .pages import page_kinds

pytestmark = pytest.mark.browser

A4 = "ml-fundamentals/broadcasting/"
ROOT = Path(__file__).resolve().parents[2]


class Visit:
    """A page opened in a fresh context that records errors and off-site requests."""

    def __init__(self, browser, url: str) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.offsite: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        self.context.route("**/*", self._route)
        self.page.goto(url, wait_until="load")
        self.page.wait_for_load_state("networkidle")

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text} ({message.location.get('url')})")

    def _route(self, route) -> None:
        host = urlsplit(route.request.url).hostname
        if host in ("127.0.0.1", "localhost") or route.request.url.startswith("data:"):
            route.continue_()
        else:
            self.offsite.append(route.request.url)
            route.abort()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser):
    opened: list[Visit] = []

    def open_page(url: str) -> Visit:
        v = Visit(browser, url)
        opened.append(v)
        return v

    yield open_page
    for v in opened:
        v.close()


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", ["", A4, "about/", "ml-fundamentals/lab-broadcasting/"])
def test_page_loads_cleanly_and_stays_on_localhost(visit, server: str, lang: str, path: str) -> None:
    v = visit(server + lang_root(lang) + path)
    assert v.page.locator("h1").count() >= 1
    assert v.errors == [], "\n".join(v.errors)
    assert v.offsite == [], f"requests left localhost: {v.offsite}"
    assert v.page.evaluate("document.documentElement.lang") == lang


@pytest.mark.parametrize(("source", "target"), list(itertools.permutations(LANGS, 2)))
def test_language_switch_keeps_the_page(visit, server: str, source: str, target: str) -> None:
    v = visit(server + lang_root(source) + A4)
    v.page.hover(".md-header__option .md-select")
    v.page.locator(f'a.md-select__link[hreflang="{target}"]').click()
    v.page.wait_for_url(server + lang_root(target) + A4 + "**")
    v.page.wait_for_load_state("networkidle")
    assert v.page.evaluate("document.documentElement.lang") == target
    assert v.errors == [], "\n".join(v.errors)


# (language, query, how to type it). The zh query is a word that the page only uses
# inside longer compounds or phrases; the ru query uses word forms that do not occur on
# the page, so only stemming can match them.
SEARCHES = [
    ("en", "broadcastable shapes", "type"),
    ("zh", "广播", "insert"),
    ("ru", "попарными разностями", "stem"),
    ("ru", "broadcasting", "type"),  # English word in a Russian page: stems must agree
]


@pytest.mark.parametrize(("lang", "query", "how"), SEARCHES)
def test_search_finds_the_a4_page(visit, server: str, lang: str, query: str, how: str) -> None:
    if how == "stem":
        text = (ROOT / "docs/ru/ml-fundamentals/broadcasting.md").read_text("utf-8").lower()
        for word in query.split():
            assert word not in text, f"{word!r} occurs verbatim: the query would not test stemming"
    if lang == "zh":
        text = (ROOT / "docs/zh/ml-fundamentals/broadcasting.md").read_text("utf-8")
        # 广播 only occurs inside longer phrases (广播规则, 广播机制 ...): segmentation matters.
        assert re.search("广播[\u4e00-\u9fff]", text)
    v = visit(server + lang_root(lang))
    box = v.page.locator("input.md-search__input")
    box.click()
    if how == "insert":
        # Playwright types CJK text as insertText; Material listens to keyup, so press a key.
        v.page.keyboard.insert_text(query)
        v.page.keyboard.press("End")
    else:
        # Non-ASCII characters are typed as insertText too: end with a real key press.
        v.page.keyboard.type(query, delay=20)
        v.page.keyboard.press("End")
    link = v.page.locator(f'.md-search-result a[href*="{A4}"]').first
    link.wait_for(state="attached", timeout=15_000)
    assert v.errors == [], "\n".join(v.errors)


@pytest.mark.parametrize("lang", LANGS)
def test_math_is_rendered_with_no_raw_tex_left(visit, server: str, lang: str) -> None:
    v = visit(server + lang_root(lang) + A4)
    blocks = v.page.locator(".arithmatex")
    count = blocks.count()
    assert count > 5
    rendered = v.page.locator(".arithmatex .katex").count()
    assert rendered >= count
    visible = v.page.locator("article").inner_text()
    assert not re.search(r"\\\(|\\\)|\$\$|\\begin\{", visible), "raw TeX left on the page"


def test_math_left_for_the_browser_is_rendered_by_the_sites_katex(browser, server: str) -> None:
    """assets/javascripts/site.js, part 1: what a build without Node.js leaves unrendered.

    The served page gets one formula of each kind the fallback handles added to it: an
    .arithmatex element (Markdown pages) and $...$ in a lab's Markdown cell."""
    raw = (
        '<p id="fg-raw"><span class="arithmatex">\\(x^2 + 1\\)</span></p>'
        '<div class="jp-MarkdownOutput" id="fg-raw-lab"><p>so $y_1 = 2$ here</p></div>'
    )
    context = browser.new_context()
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))

        def with_raw_math(route) -> None:
            response = route.fetch()
            body = response.text().replace("</article>", raw + "</article>", 1)
            route.fulfill(response=response, body=body)

        page.route(server + A4, with_raw_math)
        page.goto(server + A4, wait_until="load")
        page.locator("#fg-raw .katex").wait_for(timeout=15_000)
        page.locator("#fg-raw-lab .katex").wait_for(timeout=15_000)
        assert "$" not in page.locator("#fg-raw-lab").inner_text()
        assert [url for url in requests if url.endswith("katex.min.js")], "KaTeX was not loaded"
        assert errors == [], errors
    finally:
        context.close()


@pytest.mark.parametrize("lang", LANGS)
def test_lab_is_rendered_with_its_outputs(visit, server: str, lang: str) -> None:
    v = visit(server + lang_root(lang) + "ml-fundamentals/lab-broadcasting/")
    assert "broadcast_shape" in v.page.content()
    # Executed labs carry outputs: printed text and matplotlib figures.
    outputs = v.page.locator(".jp-OutputArea-output")
    assert outputs.count() >= 5, "the lab was not executed (build without --no-labs)"
    printed = "\n".join(outputs.all_inner_texts())
    assert "-> (22, 12)" in printed
    assert v.page.locator(".jp-OutputArea-output img").count() >= 2
    # Heading ids are the explicit, language-independent ones (docs/hooks/labs.py).
    for anchor in ("cases", "pairwise", "view-vs-copy", "silent-bug"):
        assert v.page.locator(f"h2#{anchor}").count() == 1
    assert v.errors == [], "\n".join(v.errors)


# The browser's toolbar takes the header's colour (<meta name="theme-color">, set by
# overrides/partials/javascripts/palette.html once the page has loaded and on a switch).
THEME_COLOR_IS_THE_HEADERS = """() => {
    const meta = document.querySelector("meta[name=theme-color]");
    const header = document.querySelector("[data-md-component=header]");
    const [r, g, b] = getComputedStyle(header).backgroundColor.match(/\\d+/g).map(Number);
    const hex = "#" + ((1 << 24) + (r << 16) + (g << 8) + b).toString(16).slice(1);
    return meta !== null && meta.content.toLowerCase() === hex;
}"""


@pytest.mark.parametrize("lang", LANGS)
def test_copy_button_copies_its_code_block(browser, server: str, lang: str) -> None:
    """Copy buttons are written at build time (docs/hooks/page_weight.py); Material copies."""
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    try:
        page = context.new_page()
        page.goto(server + lang_root(lang) + A4, wait_until="load")
        blocks = page.locator("pre:not(.mermaid) > code")
        # Blocks on view when the page opens (others sit in closed tabs or <details>).
        shown = [index for index in range(blocks.count()) if blocks.nth(index).is_visible()]
        assert len(shown) >= 2
        for index in (shown[0], shown[-1]):
            code = blocks.nth(index)
            button = code.locator("xpath=..").locator(".md-code__button")
            code.scroll_into_view_if_needed()
            button.click()
            copied = page.evaluate("navigator.clipboard.readText()")
            assert copied.strip() == code.inner_text().strip() and copied.strip(), (
                f"block {index + 1}: the clipboard holds {copied[:80]!r}"
            )
    finally:
        context.close()


@pytest.mark.parametrize("system", ["light", "dark"])
def test_palette_follows_the_system_until_the_reader_switches(browser, server: str, system: str) -> None:
    """overrides/partials/javascripts/palette.html replaces Material's palette code."""
    context = browser.new_context(color_scheme=system)
    try:
        page = context.new_page()
        page.goto(server + A4, wait_until="load")
        page.wait_for_function(THEME_COLOR_IS_THE_HEADERS)
        scheme = lambda: page.evaluate("document.body.dataset.mdColorScheme")  # noqa: E731
        expected = {"light": "default", "dark": "slate"}[system]
        assert scheme() == expected
        toggle = page.locator("[data-fg-component=palette] label:not([hidden])")
        assert toggle.count() == 1, "exactly one palette toggle must be visible"
        toggle.click()
        switched = "slate" if expected == "default" else "default"
        assert scheme() == switched
        page.wait_for_function("!document.body.hasAttribute('data-md-color-switching')")
        page.wait_for_function(THEME_COLOR_IS_THE_HEADERS)
        page.reload(wait_until="load")
        assert scheme() == switched, "the reader's choice must survive a reload"
        page.wait_for_function(THEME_COLOR_IS_THE_HEADERS)
        page.locator("[data-fg-component=palette] label:not([hidden])").click()
        assert scheme() == expected
    finally:
        context.close()


# Resolves once the frame after this call has been drawn: ResizeObserver callbacks and the
# style work of that frame are done (site.js's window.fgScrollablesMarked does the same).
NEXT_FRAME_DRAWN = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def _whole_article_restyles(browser, url: str) -> list[str]:
    """Loads `url` on a phone with Chromium's invalidation tracking on and returns every
    element whose whole subtree was marked for restyling, when that element is the
    article (the invalidation Material's table wrapper used to cause)."""
    page = browser.new_page(viewport={"width": 360, "height": 640})
    try:
        browser.start_tracing(page=page, categories=[
            "devtools.timeline", "disabled-by-default-devtools.timeline.invalidationTracking"])
        page.goto(url, wait_until="load")
        page.evaluate("() => document.fonts.ready")
        page.evaluate(NEXT_FRAME_DRAWN)
        events = json.loads(browser.stop_tracing())["traceEvents"]
    finally:
        page.close()
    tracked = [e["args"]["data"] for e in events if e.get("name") == "StyleInvalidatorInvalidationTracking"]
    assert tracked, "the trace has no invalidation tracking: the check would pass blindly"
    return [d.get("nodeName", "") for d in tracked
            if d.get("reason") == "Invalidation set invalidates subtree"
            and "ARTICLE" in d.get("nodeName", "")]


@pytest.mark.parametrize("lang", LANGS)
def test_start_up_does_not_restyle_the_page(visit, browser, server: str, site_dir: Path, lang: str) -> None:
    """What overrides/partials/early.html and docs/hooks/page_weight.py do so that
    Material's start-up restyles only what it changes, never the whole page (the page with
    the most formulas: the largest DOM, and a table)."""
    path = lang_root(lang) + page_kinds(site_dir)["formulas"]
    v = visit(server + path)
    classes = v.page.evaluate("document.documentElement.className").split()
    assert "js" in classes and "no-js" not in classes
    # Material's palette component is not mounted: it would add <meta name=color-scheme>.
    assert v.page.locator("meta[name=color-scheme]").count() == 0
    assert v.errors == [], "\n".join(v.errors)
    assert v.page.locator("article table").count() > 0, f"{path} has no table to wrap"
    whole = _whole_article_restyles(browser, server + path)
    assert whole == [], f"{path}: start-up restyled the whole article {len(whole)} times"


@pytest.mark.parametrize("lang", LANGS)
def test_lab_loads_no_math_javascript(browser, server: str, lang: str) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto(server + lang_root(lang) + "ml-fundamentals/lab-warm-up-math/", wait_until="load")
        page.wait_for_load_state("networkidle")
        assert page.locator(".jp-MarkdownOutput .arithmatex .katex").count() >= 5
        assert not [url for url in requests if url.endswith(".js") and "katex" in url], requests
    finally:
        context.close()


def test_lab_figures_are_files_drawn_in_their_own_shape(visit, server: str) -> None:
    """docs/hooks/labs.py moves nbconvert's base64 figures to files, with their size."""
    v = visit(server + "ml-fundamentals/lab-broadcasting/")
    figures = v.page.locator(".jp-OutputArea-output img")
    assert figures.count() >= 2
    for i in range(figures.count()):
        figure = figures.nth(i)
        figure.scroll_into_view_if_needed()
        figure.evaluate("img => img.decode()")
        src, natural, drawn = figure.evaluate(
            "img => [img.getAttribute('src'), img.naturalWidth / img.naturalHeight,"
            " img.getBoundingClientRect().width / img.getBoundingClientRect().height]"
        )
        assert not src.startswith("data:"), "figure still embedded in the page"
        assert abs(natural - drawn) < 0.02, f"{src}: drawn {drawn:.3f}, image {natural:.3f}"
    assert v.errors == [], "\n".join(v.errors)


SCROLL_REGIONS = """() => [...document.querySelectorAll(
        '.arithmatex, .md-typeset__scrollwrap, .md-typeset__table, .fg-diagram')]
    .map(e => ({
        id: e.id,
        wide: e.scrollWidth > e.clientWidth,
        stop: e.getAttribute('tabindex') === '0',
        below: e.getBoundingClientRect().top > 3 * innerHeight,
        html: e.outerHTML.slice(0, 80),
    }))"""


def test_regions_that_scroll_sideways_get_a_tab_stop_on_a_phone(browser, server: str) -> None:
    """site.js part 4 (a ResizeObserver), on the page with the most formulas.

    The served page gets a formula wider than any phone added at its end, far below the
    screen: once the last check is over, every region has a tab stop exactly when it
    overflows, the added one included; and again after the window is made wider."""
    wide = ('<div class="arithmatex" id="fg-wide"><span style="display:inline-block;width:2000px">'
            "wide</span></div>")
    context = browser.new_context(viewport={"width": 360, "height": 640})
    try:
        page = context.new_page()

        def with_wide_formula(route) -> None:
            response = route.fetch()
            body = response.text().replace("</article>", wide + "</article>", 1)
            route.fulfill(response=response, body=body)

        page.route(server + "ml-fundamentals/matrix-rank/", with_wide_formula)
        page.goto(server + "ml-fundamentals/matrix-rank/", wait_until="load")
        page.evaluate("() => document.fonts.ready")
        page.evaluate("() => window.fgScrollablesMarked")
        regions = page.evaluate(SCROLL_REGIONS)
        wrong = [r["html"] for r in regions if r["wide"] != r["stop"]]
        assert not wrong, f"{len(wrong)} regions where tab stop != overflow: {wrong[:3]}"
        added = [r for r in regions if r["id"] == "fg-wide"]
        assert added and added[0]["wide"] and added[0]["below"] and added[0]["stop"], added
        assert any(not r["wide"] for r in regions), "no region that fits"
        # A wider window: regions that fit now lose their tab stop, the others keep it.
        page.set_viewport_size({"width": 1280, "height": 900})
        page.evaluate(NEXT_FRAME_DRAWN)
        wider = page.evaluate(SCROLL_REGIONS)
        wrong = [r["html"] for r in wider if r["wide"] != r["stop"]]
        assert not wrong, f"after widening, {len(wrong)} regions where tab stop != overflow: {wrong[:3]}"
        fits_now = [a["html"] for a, b in zip(regions, wider, strict=True) if a["wide"] and not b["wide"]]
        assert fits_now, "no region that overflows on a phone fits a desktop window"
    finally:
        context.close()
