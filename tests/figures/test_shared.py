"""snippets/figures/shared.py: every shared figure exists in every language, nothing else.

Each section's test (tests/<section>/test_figures.py, test_svm_kernels.py) compares its
files with what the code draws; this one checks the set of files the pages can use."""

from __future__ import annotations

import re
from pathlib import Path

from snippets.figures import LANGS
from snippets.figures.render import FIGURES_DIR
from snippets.figures.shared import WRITERS

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\]\(\.\./assets/figures/(?P<folder>[^/)]+)/(?P<name>[^/)]+)\.svg\)")


def test_every_figure_file_is_one_language_of_a_drawn_figure() -> None:
    files = sorted(FIGURES_DIR.rglob("*.svg"))
    assert files, "no shared figures"
    stems: dict[tuple[str, str], set[str]] = {}
    for path in files:
        folder = path.parent.relative_to(FIGURES_DIR).as_posix()
        assert folder in WRITERS, f"{path}: no writer in snippets/figures/shared.py draws it"
        match = re.fullmatch(r"(?P<stem>.+)\.(?P<lang>[a-z]{2})\.svg", path.name)
        assert match and match["lang"] in LANGS, f"{path}: not <name>.<lang>.svg"
        stems.setdefault((folder, match["stem"]), set()).add(match["lang"])
    for (folder, stem), langs in stems.items():
        assert langs == set(LANGS), f"{folder}/{stem}: only {sorted(langs)}"


def test_pages_link_figures_by_their_name_without_language() -> None:
    """Pages link <name>.svg; docs/hooks/shared_files.py serves each language its own file."""
    linked = 0
    for lang in LANGS:
        for page in (ROOT / "docs" / lang).rglob("*.md"):
            for link in LINK.finditer(page.read_text(encoding="utf-8")):
                linked += 1
                for other in LANGS:
                    path = FIGURES_DIR / link["folder"] / f"{link['name']}.{other}.svg"
                    assert path.exists(), f"{page}: {link[0]} has no {other} file {path.name}"
    assert linked >= 3 * 7
