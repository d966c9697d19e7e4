"""Build the navigation from the folder structure, titled and ordered by front matter.

No `nav:` list is kept in the configs: a page appears where its file is. Each section's
title is the `title` (or `nav_title`) of its index.md, so titles are translated along
with the pages. Items are ordered by the front-matter key `order` (index pages first,
then ascending `order`, then title). A page may set `nav_title` for a shorter nav label.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.nav import Navigation, Section
from mkdocs.structure.pages import Page
from mkdocs.utils.meta import get_data

_meta_cache: dict[str, dict[str, Any]] = {}


def _meta(page: Page) -> dict[str, Any]:
    path = page.file.abs_src_path
    if path is None or not path.endswith(".md"):
        return {}
    if path not in _meta_cache:
        _, meta = get_data(Path(path).read_text(encoding="utf-8"))
        _meta_cache[path] = meta
    return _meta_cache[path]


def _index_of(section: Section) -> Page | None:
    for child in section.children:
        if isinstance(child, Page) and child.file.name == "index":
            return child
    return None


def _key(item: Any) -> tuple[int, float, str]:
    if isinstance(item, Page):
        meta = _meta(item)
        is_index = 0 if item.file.name == "index" else 1
        return (is_index, float(meta.get("order", 1000)), str(meta.get("title", item.file.name)))
    if isinstance(item, Section):
        index = _index_of(item)
        meta = _meta(index) if index else {}
        return (1, float(meta.get("order", 1000)), item.title)
    return (2, 1000.0, str(getattr(item, "title", "")))


def _arrange(items: list[Any]) -> None:
    items.sort(key=_key)
    for item in items:
        if isinstance(item, Page):
            short = _meta(item).get("nav_title")
            if short:
                item.title = str(short)
        if isinstance(item, Section):
            index = _index_of(item)
            if index is not None:
                meta = _meta(index)
                item.title = str(meta.get("nav_title") or meta.get("title") or item.title)
            _arrange(item.children)


def _walk(items: list[Any]) -> list[Page]:
    pages: list[Page] = []
    for item in items:
        if isinstance(item, Page):
            pages.append(item)
        elif isinstance(item, Section):
            pages.extend(_walk(item.children))
    return pages


def on_nav(nav: Navigation, config: MkDocsConfig, files: Files) -> Navigation:
    _meta_cache.clear()
    _arrange(nav.items)
    # Keep previous/next links in the new order.
    pages = _walk(nav.items)
    nav.pages[:] = pages
    for i, page in enumerate(pages):
        page.previous_page = pages[i - 1] if i > 0 else None
        page.next_page = pages[i + 1] if i + 1 < len(pages) else None
    return nav
