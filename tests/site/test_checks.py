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
    # The sections' text sits in a second file, by location (docs/hooks/search.py).
    texts = json.loads((site_dir / "zh" / "search" / "search_text.json").read_text("utf-8"))["docs"]
    text = " ".join(
        doc["title"] + " " + texts.get(doc["location"], {}).get("text", "")
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


check_style = load_script("check_style")


def test_every_page_lab_and_glossary_follows_the_house_style_of_its_language() -> None:
    import time

    started = time.process_time()
    problems = check_style.check(ROOT / "docs", ROOT / "style")
    _fail_with([str(problem) for problem in problems])
    assert time.process_time() - started < 2.0, "check_style.py should stay under 2 s"


def test_a_style_violation_in_a_copy_is_named_with_file_line_and_rule(tmp_path: Path) -> None:
    import re
    import shutil
    import subprocess
    import sys

    for rel in ("docs/en", "docs/zh", "docs/ru", "docs/glossary", "style"):
        shutil.copytree(ROOT / rel, tmp_path / rel)
    (tmp_path / "scripts").mkdir()
    shutil.copy2(ROOT / "scripts/check_style.py", tmp_path / "scripts")

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "scripts/check_style.py"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)

    clean = run()
    assert clean.returncode == 0, clean.stderr

    page = "docs/ru/ml-fundamentals/broadcasting.md"
    lines = (tmp_path / page).read_text(encoding="utf-8").splitlines()
    planted = lines.index("## Объяснение { #explanation }")
    lines[planted:planted] = [
        # decimal point, % without a space, a Latin unit, "et al." in running text
        "Доля 0.5 и 15% от 20 MB (Hu et al., 2021).",
        # the same things in code, math, a URL, a link target and an attribute: not prose
        "См. `0.5 15% 20 MB` и $0.5 + 15\\%$, https://example.org/0.5%20MB,"
        ' [ссылка](https://example.org/a?x=0.5%25) и <span title="0.5% et al.">x</span>.',
        "",
    ]
    heading = next(n for n, line in enumerate(lines) if line.endswith("{ #pitfalls }"))
    lines[heading] = "## Ловушки { #pitfalls }"
    box = next(n for n, line in enumerate(lines) if line.startswith("!!! abstract"))
    lines[box] = '!!! abstract "Коротко"'
    (tmp_path / page).write_text("\n".join(lines) + "\n", encoding="utf-8")

    lab = "docs/zh/ml-fundamentals/lab-broadcasting.py"
    cells = (tmp_path / lab).read_text(encoding="utf-8").splitlines()
    title = next(n for n, line in enumerate(cells) if line.startswith("# # "))
    cells.insert(title + 1, '# 所谓"广播"在 fp16 下也一样（Hu et al., 2021）。')
    (tmp_path / lab).write_text("\n".join(cells) + "\n", encoding="utf-8")

    untitled = "docs/ru/ml-fundamentals/lab-broadcasting.py"
    text = (tmp_path / untitled).read_text(encoding="utf-8")
    assert text.count(" { #lab }") == 1
    (tmp_path / untitled).write_text(text.replace(" { #lab }", ""), encoding="utf-8")

    result = run()
    assert result.returncode == 1
    found = set(re.findall(r"^(\S+):(\d+): \[([^\]]+)\]", result.stderr, re.MULTILINE))
    line = str(planted + 1)
    expected = {
        (page, line, "decimal-comma"),
        (page, line, "percent-space"),
        (page, line, "units"),
        (page, line, "term:и др."),
        (page, str(heading + 1), "heading"),
        (page, str(box + 1), "admonition-title"),
        (lab, str(title + 2), "quotes"),
        (lab, str(title + 2), "term:FP32 / FP16 / BF16 / FP8 / TF32 / INT8 / INT4"),
        (lab, str(title + 2), "term:等人"),
        (untitled, "1", "lab-title"),
    }
    assert found == expected, result.stderr
    assert "'0.5' -> '0,5'" in result.stderr and "## Подводные камни { #pitfalls }" in result.stderr
