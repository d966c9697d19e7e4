"""A small but real slice of the project, copied into a temporary folder.

Configs, style files, hooks, scripts, assets and the A4 page with its snippet and lab, in all three
languages. Tests break one thing in the slice, or deploy it, without touching the tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LANGS = ("en", "zh", "ru")
PAGE = "ml-fundamentals/broadcasting.md"
LAB = "ml-fundamentals/lab-broadcasting.py"
FILES = [
    "mkdocs.yml",
    "mkdocs.zh.yml",
    "mkdocs.ru.yml",
    "requirements.txt",
    "scripts",
    "style",
    "docs/hooks",
    "docs/overrides",
    "docs/assets",
    "docs/glossary",
    "snippets/__init__.py",
    "snippets/figures",
    "snippets/ml_fundamentals/__init__.py",
    "snippets/ml_fundamentals/broadcasting.py",
    "snippets/ml_fundamentals/outputs/broadcasting.txt",
    "tests/ml_fundamentals/test_broadcasting.py",
    "tests/figures",
    "tests/site/test_hooks.py",
]


def _copy(rel: str, dest: Path) -> None:
    src = ROOT / rel
    target = dest / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, target, ignore=shutil.ignore_patterns("__pycache__", "figures"))
    else:
        shutil.copy2(src, target)


def make_slice(root: Path) -> Path:
    """Copy the slice into root and return root."""
    for rel in FILES:
        _copy(rel, root)
    for lang in LANGS:
        _copy(f"docs/{lang}/{PAGE}", root)
        _copy(f"docs/{lang}/{LAB}", root)
        (root / f"docs/{lang}/index.md").write_text(
            f"---\ntitle: Home\n---\n\n# Home {{ #home }}\n\n[A4]({PAGE})\n", encoding="utf-8"
        )
        (root / f"docs/{lang}/about").mkdir(parents=True, exist_ok=True)
        (root / f"docs/{lang}/about/sources.md").write_text(
            "---\ntitle: Sources\n---\n\n# Sources { #sources }\n\n"
            f'<span id="A4">A4</span> [A4](../{PAGE})\n',
            encoding="utf-8",
        )
    return root


def run(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `python *args` in the slice, with the slice first on the import path."""
    full_env = dict(os.environ, PYTHONPATH=str(root), NO_MKDOCS_2_WARNING="1", **env)
    return subprocess.run(
        [sys.executable, *args],
        cwd=root,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=900,
    )
