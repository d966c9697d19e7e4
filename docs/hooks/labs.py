"""Make labs (notebooks rendered by mkdocs-jupyter) behave like Markdown pages.

* Heading ids: a lab heading may end with an explicit `{ #id }`, as on Markdown pages.
  nbconvert leaves that text in the heading and derives its own id (from the text, so
  it differs between languages); here the id becomes the explicit one, or `section-N`
  (N-th heading) when none is given, so ids are ASCII and the same in every language.
* Table of contents: mkdocs-jupyter builds it with Python-Markdown's slugs, which do not
  match nbconvert's ids for non-Latin headings; it is rebuilt from the final headings.
* Links: Markdown cells are rendered by nbconvert, not MkDocs, so `page.md#anchor` links
  are rewritten here to the page's URL; a link to a missing page is an error.
"""

from __future__ import annotations

import html as html_lib
import posixpath
import re

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import get_toc
from mkdocs.utils import get_relative_url

HEADING = re.compile(r"<h([1-6])\b([^>]*)>(.*?)</h\1>", re.DOTALL)
EXPLICIT_ID = re.compile(r"\s*\{\s*#([A-Za-z0-9_.:-]+)\s*\}\s*")
ANCHOR_LINK = re.compile(r'<a class="anchor-link" href="#[^"]*">[^<]*</a>')
MD_LINK = re.compile(r'href="(?P<path>[^":#?]+\.md)(?P<fragment>#[^"]*)?"')
TAGS = re.compile(r"<[^>]+>")


def is_lab(page: Page) -> bool:
    return page.file.src_uri.endswith(".py") and page.file.name.startswith("lab-")


def _fix_headings(html: str, src: str) -> tuple[str, list[dict]]:
    tokens: list[dict] = []

    def replace(match: re.Match[str]) -> str:
        level, attrs, inner = int(match[1]), match[2], match[3]
        inner = ANCHOR_LINK.sub("", inner)
        found = EXPLICIT_ID.search(inner)
        new_id = found[1] if found else f"section-{len(tokens) + 1}"
        inner = EXPLICIT_ID.sub("", inner).strip()
        attrs = re.sub(r'\s*id="[^"]*"', "", attrs)
        name = html_lib.unescape(TAGS.sub("", inner)).strip()
        tokens.append({"level": level, "id": new_id, "name": name, "children": []})
        link = f'<a class="headerlink" href="#{new_id}" title="Permanent link">&para;</a>'
        return f'<h{level} id="{new_id}"{attrs}>{inner}{link}</h{level}>'

    return HEADING.sub(replace, html), tokens


def _nest(flat: list[dict]) -> list[dict]:
    """Nest flat heading tokens by level, as Python-Markdown's toc_tokens are."""
    root: list[dict] = []
    stack: list[dict] = []
    for token in flat:
        while stack and stack[-1]["level"] >= token["level"]:
            stack.pop()
        (stack[-1]["children"] if stack else root).append(token)
        stack.append(token)
    return root


def _fix_links(html: str, page: Page, files: Files) -> str:
    base = posixpath.dirname(page.file.src_uri)

    def replace(match: re.Match[str]) -> str:
        target_uri = posixpath.normpath(posixpath.join(base, match["path"]))
        target = files.get_file_from_path(target_uri)
        if target is None:
            raise PluginError(f"{page.file.src_uri}: link to missing page {match['path']!r}")
        url = get_relative_url(target.url, page.url)
        return f'href="{url}{match["fragment"] or ""}"'

    return MD_LINK.sub(replace, html)


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if not is_lab(page):
        return html
    html, tokens = _fix_headings(html, page.file.src_uri)
    html = _fix_links(html, page, files)
    if tokens and tokens[0]["level"] == 1:
        page.title = tokens[0]["name"]
    page.toc = get_toc(_nest(tokens))
    return html
