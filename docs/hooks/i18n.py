"""Per-language details that Material does not handle by itself.

* Tags: pages carry language-neutral tag ids (the same in en, zh and ru, so the parity
  check can compare them); each config maps ids to display names in `extra.tag_names`.
  An unknown id is an error, so a typo cannot create a stray tag.
* The language switch (see overrides/partials/alternate.html) links to the same page in
  every language; that needs nothing here because every page exists in every language.
"""

from __future__ import annotations

import logging

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

log = logging.getLogger("mkdocs.hooks.i18n")


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    ids = page.meta.get("tags")
    if not ids:
        return markdown
    names = config.extra.get("tag_names", {})
    unknown = [t for t in ids if t not in names]
    if unknown:
        raise PluginError(
            f"{page.file.src_uri}: unknown tag id(s) {unknown}; "
            f"add them to extra.tag_names in every mkdocs*.yml"
        )
    page.meta["tag_ids"] = list(ids)
    page.meta["tags"] = [names[t] for t in ids]
    return markdown
