"""Kinds of built page that the speed checks measure (Lighthouse gate, benchmark)."""

from __future__ import annotations

import re
from pathlib import Path

QUESTION = "ml-fundamentals/broadcasting/"
LAB = "ml-fundamentals/lab-broadcasting/"


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
