"""Check every internal link and anchor in the built site, in every language.

Walks the HTML files under the site directory (all languages share one tree), resolves
each `href`/`src` that stays on the site, and checks that the target file exists and,
for `#fragment` links, that the target page has an element with that id. It also fails
on any resource the browser would fetch from another host at run time (scripts,
stylesheets, images, fonts, iframes): the site must work offline.

    python scripts/check_links.py [SITE_DIR]

Prints one line per problem, naming the page, and exits 1 if there is any.
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
# Pages that are templates rather than content: their links are relative to wherever
# the server shows them (a 404 page is shown at any URL).
SKIP_PAGES = {"404.html"}
INLINE_URL = re.compile(r"""["'`](https?://[^"'`\s]+)""")


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []  # (tag/attr, url)
        self.fetches: list[str] = []  # resources the browser loads by itself
        self.inline_urls: list[str] = []  # third-party URLs inside inline scripts
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v for k, v in attrs if v is not None}
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and "name" in a:
            self.ids.add(a["name"])
        if tag == "a" and "href" in a:
            self.links.append(("a", a["href"]))
        elif tag == "link" and "href" in a:
            rel = a.get("rel", "")
            if rel in ("stylesheet", "icon", "preload", "modulepreload", "manifest"):
                self.fetches.append(a["href"])
                self.links.append(("link", a["href"]))
        elif tag in ("script", "img", "iframe", "source", "video", "audio", "embed") and "src" in a:
            self.fetches.append(a["src"])
            self.links.append((tag, a["src"]))
        if tag == "script" and "src" not in a:
            self._in_script = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline_urls += INLINE_URL.findall(data)


_cache: dict[Path, _Page] = {}


def parse(path: Path) -> _Page:
    if path not in _cache:
        page = _Page()
        page.feed(path.read_text(encoding="utf-8", errors="replace"))
        _cache[path] = page
    return _cache[path]


def resolve(site: Path, page: Path, url: str) -> Path | None:
    """File an on-site URL points to, or None for an off-site URL."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return None
    if not parts.path:
        return page
    base = site if parts.path.startswith("/") else page.parent
    target = (base / unquote(parts.path.lstrip("/"))).resolve()
    if target.is_dir() or parts.path.endswith("/"):
        target = target / "index.html"
    return target


def check(site: Path) -> list[str]:
    site = site.resolve()
    problems: list[str] = []
    for path in sorted(site.rglob("*.html")):
        rel = path.relative_to(site).as_posix()
        if path.name in SKIP_PAGES:
            continue
        page = parse(path)
        for url in page.fetches:
            if urlsplit(url).scheme in ("http", "https") or url.startswith("//"):
                problems.append(f"{rel}: loads a third-party resource at run time: {url}")
        for url in page.inline_urls:
            problems.append(f"{rel}: inline script refers to a third-party URL: {url}")
        for tag, url in page.links:
            scheme = urlsplit(url).scheme
            if scheme in ("mailto", "javascript", "data", "tel") or url.startswith("//"):
                continue
            target = resolve(site, path, url)
            if target is None:
                continue
            if not str(target).startswith(str(site)):
                problems.append(f"{rel}: link leaves the site: {url}")
                continue
            if not target.exists():
                problems.append(f"{rel}: broken link {url!r} (no {target.relative_to(site)})")
                continue
            fragment = unquote(urlsplit(url).fragment)
            if fragment and target.suffix == ".html" and tag == "a":
                if fragment not in parse(target).ids:
                    problems.append(f"{rel}: broken anchor {url!r} (no id {fragment!r})")
    return problems


def main(argv: list[str]) -> int:
    site = Path(argv[0]) if argv else ROOT / "site"
    if not (site / "index.html").exists():
        print(f"{site}: no built site (run make build)", file=sys.stderr)
        return 1
    problems = check(site)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        count = sum(1 for _ in site.rglob("*.html"))
        print(f"links ok: {count} HTML files under {site}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
