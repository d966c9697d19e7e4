"""The repository-wide checks pass: parity, snippet includes and coverage, links."""

from __future__ import annotations

from pathlib import Path

import pytest

from .modules import load_script

ROOT = Path(__file__).resolve().parents[2]


check_parity = load_script("check_parity")
check_snippets = load_script("check_snippets")
check_links = load_script("check_links")


def _fail_with(problems: list[str]) -> None:
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def test_every_page_has_the_same_structure_in_every_language() -> None:
    _fail_with(check_parity.compare(ROOT / "docs"))


def test_every_snippet_include_resolves() -> None:
    _fail_with(check_snippets.check_includes(ROOT))


def test_every_snippet_module_is_imported_by_a_test() -> None:
    _fail_with(check_snippets.check_coverage(ROOT))


def test_every_internal_link_and_anchor_resolves_and_nothing_loads_off_site(site_dir: Path) -> None:
    _fail_with(check_links.check(site_dir))


def test_each_language_has_its_own_search_index(site_dir: Path) -> None:
    import json

    langs = {}
    for sub in ("", "zh/", "ru/"):
        index = json.loads((site_dir / sub / "search" / "search_index.json").read_text("utf-8"))
        langs[sub] = index["config"]["lang"]
        locations = [doc["location"] for doc in index["docs"]]
        assert any("ml-fundamentals/broadcasting/" in loc for loc in locations), sub
    assert langs[""] == ["en"]
    assert "zh" in langs["zh/"]
    assert "ru" in langs["ru/"]


def test_chinese_index_is_segmented_by_jieba(site_dir: Path) -> None:
    import json

    import jieba

    index = json.loads((site_dir / "zh" / "search" / "search_index.json").read_text("utf-8"))
    text = " ".join(
        doc["title"] + " " + doc["text"]
        for doc in index["docs"]
        if "ml-fundamentals/broadcasting/" in doc["location"]
    )
    # Material inserts a zero-width space between jieba's words; the separator splits on it.
    assert "\u200b" in text
    assert "\u200b" in index["config"]["separator"] or "u200b" in index["config"]["separator"]
    words = set(text.replace("\u200b", " ").split())
    # The page says 广播规则 (broadcasting rule); the index holds jieba's words for it.
    assert "广播规则" in (ROOT / "docs/zh/ml-fundamentals/broadcasting.md").read_text("utf-8")
    for word in jieba.cut("广播规则"):
        assert word in words


def test_every_page_has_description_canonical_and_hreflang_links(site_dir: Path) -> None:
    import re

    problems = []
    pages = [p for p in site_dir.rglob("index.html") if "search" not in p.parts]
    assert len(pages) > 30
    for page in pages:
        html = page.read_text(encoding="utf-8")
        rel = page.relative_to(site_dir).as_posix()
        if 'http-equiv="refresh"' in html:
            continue  # redirect stubs
        description = re.search(r'<meta name="description" content="([^"]+)"', html)
        if not description or len(description[1].strip()) < 8:
            problems.append(f"{rel}: no meta description")
        if not re.search(r'<link rel="canonical" href="https://', html):
            problems.append(f"{rel}: no absolute canonical URL")
        langs = set(re.findall(r'<link rel="alternate" href="https://[^"]+" hreflang="([^"]+)"', html))
        if langs != {"en", "zh", "ru", "x-default"}:
            problems.append(f"{rel}: hreflang links {sorted(langs)}")
    for lang_dir in ("", "zh/", "ru/"):
        for name in ("404.html", "sitemap.xml"):
            if not (site_dir / lang_dir / name).exists():
                problems.append(f"{lang_dir}{name}: missing")
    _fail_with(problems)
