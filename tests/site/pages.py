"""Built pages the site tests visit: every page of a language, and the kinds of page
that the speed checks measure (Lighthouse gate, benchmark)."""

from __future__ import annotations

import re
from pathlib import Path

from .conftest import LANGS, lang_root

QUESTION = "ml-fundamentals/broadcasting/"
LAB = "ml-fundamentals/lab-broadcasting/"
OTHER_LANGS = tuple(f"{lang_root(lang)}" for lang in LANGS if lang != "en")  # below en


def pages_of(site: Path, lang: str) -> list[str]:
    """URL paths of every page of one language (its own tree, not the others')."""
    base = site / lang_root(lang)
    paths = []
    for html in sorted(base.rglob("index.html")):
        rel = html.parent.relative_to(site).as_posix()
        rel = "" if rel == "." else rel + "/"
        if lang == "en" and rel.startswith(OTHER_LANGS):
            continue
        paths.append(rel)
    return paths


def most_matching(site: Path, pattern: str) -> str:
    """URL path of the English question page with the most matches of `pattern`."""
    best, count = "", -1
    for html in sorted(site.glob("*/*/index.html")):
        rel = html.parent.relative_to(site).as_posix()
        if rel.split("/")[0] in ("zh", "ru", "search", "about") or "/lab-" in f"/{rel}":
            continue
        n = len(re.findall(pattern, html.read_text(encoding="utf-8")))
        if n > count:
            best, count = rel + "/", n
    return best


def page_kinds(site: Path) -> dict[str, str]:
    """home, a question, the most formula-heavy and code-heavy pages, and a lab."""
    return {
        "home": "",
        "question": QUESTION,
        "formulas": most_matching(site, r'class="arithmatex"'),
        "code": most_matching(site, r'<div class="language-python highlight">'),
        "lab": LAB,
    }
