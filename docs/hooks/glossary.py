"""Render the glossary page from the abbreviation file of the page's language.

docs/glossary/<lang>.md holds Markdown abbreviations (`*[LoRA]: low-rank adaptation`).
pymdownx.snippets appends that file to every page, so each abbreviation becomes a
tooltip everywhere. A page containing the marker below also lists all of them.
"""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

MARKER = "<!-- glossary -->"
GLOSSARY_DIR = Path(__file__).resolve().parent.parent / "glossary"
ABBR = re.compile(r"^\*\[(?P<term>[^\]]+)\]:\s*(?P<text>.+)$")


def read_glossary(lang: str) -> list[tuple[str, str]]:
    """Return (term, expansion) pairs from docs/glossary/<lang>.md, sorted by term."""
    entries = []
    for line in (GLOSSARY_DIR / f"{lang}.md").read_text(encoding="utf-8").splitlines():
        match = ABBR.match(line.strip())
        if match:
            entries.append((match["term"], match["text"].strip()))
    return sorted(entries, key=lambda e: e[0].casefold())


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if MARKER not in markdown:
        return markdown
    rows = [f"`{term}`\n:   {text}\n" for term, text in read_glossary(config.theme["language"])]
    return markdown.replace(MARKER, "\n".join(rows))
