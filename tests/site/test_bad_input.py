"""Bad input fails loudly, naming the file.

Each test copies a small but real slice of the project (configs, hooks, scripts, the A4
page with its snippet and lab, in all three languages) into a temporary folder, checks
that the slice is clean, breaks one thing, and runs the check that `make test` runs.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from .conftest import require_chromium
from .modules import load_script
from .slice import LAB, PAGE, make_slice, run

pytestmark = pytest.mark.slow


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_slice(tmp_path / "project")


def build(root: Path, labs: bool = False) -> subprocess.CompletedProcess[str]:
    args = ["scripts/build.py", "--lang", "en", "--site-dir", str(root / "site")]
    return run(root, *args) if labs else run(root, *args, "--no-labs")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_slice_is_clean(project: Path) -> None:
    result = run(project, "scripts/build.py", "--no-labs", "--site-dir", str(project / "site"))
    assert result.returncode == 0, result.stdout + result.stderr
    for script in ("scripts/check_parity.py", "scripts/check_snippets.py"):
        checked = run(project, script)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    links = run(project, "scripts/check_links.py", str(project / "site"))
    assert links.returncode == 0, links.stdout + links.stderr


def test_a_page_without_its_translation_is_named(project: Path) -> None:
    (project / f"docs/ru/{PAGE}").unlink()
    result = run(project, "scripts/check_parity.py")
    assert result.returncode == 1
    assert f"docs/ru/{PAGE}: missing translation" in result.stderr


def test_a_lab_without_its_translation_is_named(project: Path) -> None:
    (project / f"docs/zh/{LAB}").unlink()
    result = run(project, "scripts/check_parity.py")
    assert result.returncode == 1
    assert f"docs/zh/{LAB}: missing translation" in result.stderr


def test_a_translation_with_different_code_or_ids_is_named(project: Path) -> None:
    edit(project / f"docs/zh/{PAGE}", "{ #pitfalls }", "{ #mistakes }")
    edit(project / f"docs/ru/{LAB}", "describe(a, b)", "describe(b, a)")
    result = run(project, "scripts/check_parity.py")
    assert result.returncode == 1
    assert f"docs/zh/{PAGE}: heading ids" in result.stderr
    assert f"docs/ru/{LAB}: code cells differ" in result.stderr


def test_an_include_of_a_missing_file_fails_the_build_and_is_named(project: Path) -> None:
    edit(
        project / f"docs/en/{PAGE}",
        '--8<-- "snippets/ml_fundamentals/broadcasting.py:rule"',
        '--8<-- "snippets/ml_fundamentals/no_such_module.py:rule"',
    )
    result = build(project)
    assert result.returncode != 0
    assert PAGE in result.stdout + result.stderr
    checked = run(project, "scripts/check_snippets.py")
    assert checked.returncode == 1
    assert f"docs/en/{PAGE}: include of missing file" in checked.stderr


def test_an_include_of_a_missing_section_fails_the_build_and_is_named(project: Path) -> None:
    edit(
        project / f"docs/en/{PAGE}",
        '--8<-- "snippets/ml_fundamentals/broadcasting.py:rule"',
        '--8<-- "snippets/ml_fundamentals/broadcasting.py:no-such-section"',
    )
    result = build(project)
    assert result.returncode != 0
    assert PAGE in result.stdout + result.stderr
    checked = run(project, "scripts/check_snippets.py")
    assert f"docs/en/{PAGE}: include of missing section 'no-such-section'" in checked.stderr


def test_a_broken_internal_link_fails_the_build_and_is_named(project: Path) -> None:
    edit(project / f"docs/en/{PAGE}", "## Pitfalls { #pitfalls }",
         "See [the rank page](matrix-rank-missing.md).\n\n## Pitfalls { #pitfalls }")
    result = build(project)
    assert result.returncode != 0
    assert PAGE in result.stdout + result.stderr
    assert "matrix-rank-missing.md" in result.stdout + result.stderr


def test_a_broken_anchor_fails_the_build_and_is_named(project: Path) -> None:
    edit(project / f"docs/en/{PAGE}", "## Pitfalls { #pitfalls }",
         "See [the rule](#no-such-anchor).\n\n## Pitfalls { #pitfalls }")
    result = build(project)
    assert result.returncode != 0
    assert PAGE in result.stdout + result.stderr
    assert "no-such-anchor" in result.stdout + result.stderr


def test_a_broken_link_in_raw_html_is_caught_by_the_link_checker(project: Path) -> None:
    # MkDocs does not validate raw HTML links; scripts/check_links.py does.
    edit(project / f"docs/en/{PAGE}", "## Pitfalls { #pitfalls }",
         '<a href="#nowhere">x</a> <a href="../vae/">y</a>\n\n## Pitfalls { #pitfalls }')
    assert build(project).returncode == 0
    result = run(project, "scripts/check_links.py", str(project / "site"))
    assert result.returncode == 1
    assert "ml-fundamentals/broadcasting/index.html: broken anchor '#nowhere'" in result.stderr
    assert "ml-fundamentals/broadcasting/index.html: broken link '../vae/'" in result.stderr


def test_a_third_party_script_is_caught_by_the_link_checker(project: Path) -> None:
    edit(project / f"docs/en/{PAGE}", "## Pitfalls { #pitfalls }",
         '<script src="https://cdn.example.com/x.js"></script>\n\n## Pitfalls { #pitfalls }')
    assert build(project).returncode == 0
    result = run(project, "scripts/check_links.py", str(project / "site"))
    assert result.returncode == 1
    assert "loads a third-party resource at run time: https://cdn.example.com/x.js" in result.stderr


def _add_diagram(project: Path, source: str) -> None:
    fence = f"```mermaid\n{source}\n```\n\n## Pitfalls {{ #pitfalls }}"
    edit(project / f"docs/en/{PAGE}", "## Pitfalls { #pitfalls }", fence)


def _build_en(project: Path, **env: str) -> subprocess.CompletedProcess[str]:
    args = ["scripts/build.py", "--lang", "en", "--no-labs", "--site-dir", str(project / "site")]
    return run(project, *args, **env)


def test_a_cached_diagram_builds_without_chromium(project: Path) -> None:
    diagrams = load_script("diagrams")
    source = diagrams.pages()["docs/en/training-efficiency/zero.md"][0]
    entry = diagrams.cache_file(source)
    (project / "docs/diagrams-cache").mkdir(parents=True)
    (project / "docs/diagrams-cache" / entry.name).write_bytes(entry.read_bytes())
    _add_diagram(project, source)
    result = _build_en(project, FG_CHROMIUM="")
    assert result.returncode == 0, result.stdout + result.stderr
    page = (project / "site/ml-fundamentals/broadcasting/index.html").read_text(encoding="utf-8")
    assert '<div class="fg-diagram"' in page and '<svg id="fg-diagram-1"' in page
    assert not re.search(r"<script[^>]*mermaid|class=\"mermaid\"", page, re.IGNORECASE)


def test_a_diagram_without_a_cache_entry_and_without_chromium_fails_and_is_named(project: Path) -> None:
    _add_diagram(project, "flowchart TB\n    accTitle: Not cached\n    A --> B")
    result = _build_en(project, FG_CHROMIUM="")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert f"docs/en/{PAGE}" in output
    assert "no cache entry and cannot be drawn" in output and "chromium" in output


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("flowchart TB\n    accTitle: Broken on purpose\n    A --> B -->", "Parse error"),
        ("flowchart TB\n    A --> B", "accTitle"),
    ],
    ids=["parse-error", "no-accessible-title"],
)
def test_a_diagram_mermaid_cannot_draw_fails_the_build_and_is_named(
    project: Path, source: str, reason: str
) -> None:
    require_chromium()
    _add_diagram(project, source)
    result = _build_en(project)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert f"docs/en/{PAGE}: Mermaid cannot draw diagram 1" in output
    assert reason in output
    assert not list((project / "docs/diagrams-cache").glob("*.svg")), "a broken diagram was cached"


def _drop_first_figure_description(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    stripped, count = re.subn(r'(?m)^(# %%.*?) alt="[^"]*"', r"\1", text, count=1)
    assert count == 1, f"no figure description in {path}"
    path.write_text(stripped, encoding="utf-8")


def test_a_translation_without_a_figure_description_is_named(project: Path) -> None:
    _drop_first_figure_description(project / f"docs/ru/{LAB}")
    result = run(project, "scripts/check_parity.py")
    assert result.returncode == 1
    assert f"docs/ru/{LAB}: code cells" in result.stderr
    assert "figure description" in result.stderr


def test_a_lab_figure_without_a_description_fails_the_build_and_is_named(project: Path) -> None:
    _drop_first_figure_description(project / f"docs/en/{LAB}")
    result = build(project, labs=True)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "lab-broadcasting.py" in output
    assert "draw a figure without a description" in output


def test_a_lab_cell_that_raises_fails_the_build_and_is_named(project: Path) -> None:
    lab = project / f"docs/en/{LAB}"
    lab.write_text(
        lab.read_text(encoding="utf-8") + '\n# %%\nraise RuntimeError("lab cell failed on purpose")\n',
        encoding="utf-8",
    )
    result = build(project, labs=True)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "lab-broadcasting.py" in output
    assert "lab cell failed on purpose" in output


def test_unknown_tag_and_bad_front_matter_fail_the_build(project: Path) -> None:
    page = project / f"docs/en/{PAGE}"
    edit(page, "tags: [ml-fundamentals, pytorch]", "tags: [ml-fundamentals, pytorhc]")
    result = build(project)
    assert result.returncode != 0
    assert "unknown tag id(s) ['pytorhc']" in result.stdout + result.stderr
    edit(page, "tags: [ml-fundamentals, pytorhc]", "tags: [ml-fundamentals, pytorch]\nbad: x: y")
    result = build(project)
    assert result.returncode != 0
    assert f"{PAGE}: front matter is not valid YAML" in result.stdout + result.stderr


def test_a_stale_output_record_is_named(project: Path) -> None:
    record = project / "snippets/ml_fundamentals/outputs/broadcasting.txt"
    record.write_text(record.read_text(encoding="utf-8").replace("(22, 12)", "(22, 1)", 1))
    result = run(project, "scripts/snippet_outputs.py")
    assert result.returncode == 1
    assert "snippets/ml_fundamentals/outputs/broadcasting.txt" in result.stderr


def test_a_snippet_module_without_a_test_is_named(project: Path) -> None:
    (project / "snippets/ml_fundamentals/untested.py").write_text("X = 1\n")
    result = run(project, "scripts/check_snippets.py")
    assert result.returncode == 1
    assert "snippets/ml_fundamentals/untested.py: no test imports" in result.stderr
