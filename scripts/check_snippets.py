"""Check the code that pages embed.

1. Every `--8<-- "file[:section]"` include in docs/ names an existing file and, when a
   section is given, a section that the file opens and closes (`--8<-- [start:name]`,
   `--8<-- [end:name]`).
2. Every module in snippets/ is imported by at least one test in tests/.

    python scripts/check_snippets.py [--root DIR]

Prints one line per problem, naming the page or module, and exits 1 if there is any.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INCLUDE = re.compile(r"^[ \t]*-{1,}8<-{1,}[ \t]+\"(?P<target>[^\"]+)\"", re.MULTILINE)
SECTION = re.compile(r"--8<--\s+\[(?P<kind>start|end):(?P<name>[^\]]+)\]")


def sections_of(path: Path) -> tuple[set[str], set[str]]:
    starts, ends = set(), set()
    for match in SECTION.finditer(path.read_text(encoding="utf-8")):
        (starts if match["kind"] == "start" else ends).add(match["name"])
    return starts, ends


def check_includes(root: Path) -> list[str]:
    problems = []
    for page in sorted((root / "docs").rglob("*.md")):
        rel_page = page.relative_to(root)
        for match in INCLUDE.finditer(page.read_text(encoding="utf-8")):
            target = match["target"]
            file_part, _, section = target.partition(":")
            # "file.py:3:10" line ranges are allowed but discouraged; sections are names.
            if section and re.fullmatch(r"[\d:-]+", section):
                section = ""
            path = root / file_part
            if not path.is_file():
                problems.append(f"{rel_page}: include of missing file {file_part!r}")
                continue
            if section:
                starts, ends = sections_of(path)
                if section not in starts or section not in ends:
                    problems.append(
                        f"{rel_page}: include of missing section {section!r} in {file_part}"
                    )
    return problems


def imported_modules(tests: Path) -> set[str]:
    """Dotted names of snippets modules imported anywhere under tests/."""
    found: set[str] = set()
    for test in tests.rglob("*.py"):
        tree = ast.parse(test.read_text(encoding="utf-8"), filename=str(test))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "import_module",
            ):
                if node.args and isinstance(node.args[0], ast.Constant):
                    found.add(str(node.args[0].value))
    return found


def check_coverage(root: Path) -> list[str]:
    imported = imported_modules(root / "tests")
    problems = []
    for module in sorted((root / "snippets").rglob("*.py")):
        if module.name == "__init__.py":
            continue
        dotted = ".".join(module.relative_to(root).with_suffix("").parts)
        if dotted not in imported:
            problems.append(f"{module.relative_to(root)}: no test imports {dotted}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args()
    problems = check_includes(args.root) + check_coverage(args.root)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print("snippets ok: every include resolves and every module is tested")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
