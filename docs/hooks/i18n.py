"""Per-language details that Material does not handle by itself.

* Tags: pages carry language-neutral tag ids (the same in en, zh and ru, so the parity
  check can compare them); each config maps ids to display names in `extra.tag_names`.
  An unknown id is an error, so a typo cannot create a stray tag.
* A line of facts under a question's title (source question ids linked to the sources
  page, level), in the page's language.
* Chinese line breaks: a newline between two CJK characters inside a paragraph renders
  as a stray space in Chromium, so such newlines are removed from the HTML (outside
  `<pre>`), for Markdown pages and labs alike. Authors may wrap Chinese text freely.
* hreflang: every page gets fully qualified links to itself in each language (plus
  x-default, English), used by overrides/main.html.
* FG_SITE_ROOT: when set (scripts/deploy.py sets it to the release's URL), each
  language's site_url is rebuilt below it, so canonical and hreflang URLs follow.
* Search index size: Material writes search_index.json with every non-ASCII character
  escaped (\\uXXXX, six bytes for one Cyrillic letter). It is rewritten as UTF-8, which
  halves the Chinese and Russian indexes and keeps them under the 300 KB (gzip) budget.
* The language switch (see overrides/partials/alternate.html) links to the same page in
  every language; that needs nothing here because every page exists in every language.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from urllib.parse import urljoin

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

log = logging.getLogger("mkdocs.hooks.i18n")


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if markdown.startswith("---\n") and page.file.src_uri.endswith(".md"):
        # MkDocs silently keeps front matter it cannot parse as page text.
        raise PluginError(f"{page.file.src_uri}: front matter is not valid YAML")
    facts = _facts_line(page, config.theme["language"])
    if facts:
        markdown = H1.sub(lambda m: m.group(0) + "\n\n" + facts + "\n", markdown, count=1)
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


# Labels for the line of facts under a question page's title.
LABELS = {
    "en": {"source": "Source question", "level": "Level",
           "levels": {"core": "core", "deeper": "deeper", "expert": "expert"}},
    "zh": {"source": "原题", "level": "难度",
           "levels": {"core": "基础", "deeper": "进阶", "expert": "专家"}},
    "ru": {"source": "Исходный вопрос", "level": "Уровень",
           "levels": {"core": "базовый", "deeper": "углублённый", "expert": "экспертный"}},
}
H1 = re.compile(r"^# .*$", re.MULTILINE)


def _facts_line(page: Page, lang: str) -> str:
    """HTML line: 'Source question: A4 · Level: core', linking each id to the sources page."""
    labels = LABELS.get(lang, LABELS["en"])
    parts = []
    sources = page.meta.get("source") or []
    if sources:
        depth = page.file.src_uri.count("/")
        prefix = "../" * (depth + (0 if page.file.name == "index" else 1))
        links = ", ".join(f'<a href="{prefix}about/sources/#{s}">{s}</a>' for s in sources)
        parts.append(f"{labels['source']}: {links}")
    level = page.meta.get("level")
    if level:
        if level not in labels["levels"]:
            raise PluginError(f"{page.file.src_uri}: level must be one of {list(labels['levels'])}")
        parts.append(f'{labels["level"]}: <span class="fg-level">{labels["levels"][level]}</span>')
    if not parts:
        return ""
    return '<p class="fg-meta">' + " · ".join(parts) + "</p>"



CJK = r"[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]"
CJK_BREAK = re.compile(rf"(?<={CJK})[ \t]*\n[ \t]*(?={CJK})")
PRE = re.compile(r"(<pre\b.*?</pre>)", re.DOTALL)


def join_cjk_lines(html: str) -> str:
    """Remove line breaks between two CJK characters, leaving <pre> blocks untouched."""
    parts = PRE.split(html)
    return "".join(part if i % 2 else CJK_BREAK.sub("", part) for i, part in enumerate(parts))


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    return join_cjk_lines(html)


def _tree_root(config: MkDocsConfig) -> str:
    """URL of the site root that holds every language (English's site_url)."""
    english = next(alt for alt in config.extra["alternate"] if alt["lang"] == "en")
    return urljoin(config.site_url, english["link"])


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    root = os.environ.get("FG_SITE_ROOT")
    if root:
        lang_path = config.site_url[len(_tree_root(config)) :]
        config.site_url = root.rstrip("/") + "/" + lang_path
    return config


def on_page_context(context: dict, page: Page, config: MkDocsConfig, nav: object) -> dict:
    links = [
        {"lang": alt["lang"], "href": urljoin(urljoin(config.site_url, alt["link"]), page.url)}
        for alt in config.extra["alternate"]
    ]
    english = next(link for link in links if link["lang"] == "en")
    page.hreflang = [*links, {"lang": "x-default", "href": english["href"]}]
    return context


@event_priority(-100)  # after the search plugin has written its index
def on_post_build(config: MkDocsConfig) -> None:
    index = Path(config.site_dir) / "search" / "search_index.json"
    if index.exists():
        data = json.loads(index.read_text(encoding="utf-8"))
        index.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
