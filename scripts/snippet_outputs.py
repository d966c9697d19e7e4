"""Record, or check, what each snippet module prints.

A module in snippets/ that has an `if __name__ == "__main__":` block is run as
`python -m snippets.<section>.<name>`; its standard output is recorded in
snippets/<section>/outputs/<name>.txt, which pages embed. The numbers a page shows
are therefore the numbers its code prints.

    python scripts/snippet_outputs.py --write              # refresh every record
    python scripts/snippet_outputs.py --write snippets/rag # refresh one section
    python scripts/snippet_outputs.py                      # check; exit 1 if stale
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SNIPPETS = ROOT / "snippets"
MAIN_GUARD = re.compile(r"^if __name__ == [\"']__main__[\"']:", re.MULTILINE)


def runnable_modules(under: Path = SNIPPETS) -> list[Path]:
    """Snippet modules with a __main__ block, sorted."""
    return sorted(
        p
        for p in under.rglob("*.py")
        if p.name != "__init__.py" and MAIN_GUARD.search(p.read_text(encoding="utf-8"))
    )


def record_path(module: Path) -> Path:
    return module.parent / "outputs" / f"{module.stem}.txt"


def run(module: Path) -> str:
    """Run a snippet module and return its standard output."""
    name = ".".join(module.relative_to(ROOT).with_suffix("").parts)
    env = dict(os.environ, PYTHONHASHSEED="0", PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-m", name], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"{module.relative_to(ROOT)} failed:\n{result.stderr}")
    return result.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write the records")
    parser.add_argument("paths", nargs="*", type=Path, help="limit to these folders or files")
    args = parser.parse_args()
    targets = [p.resolve() for p in args.paths] or [SNIPPETS]
    modules = sorted(
        {m for t in targets for m in ([t] if t.is_file() else runnable_modules(t))}
    )
    stale = []
    for module in modules:
        out = run(module)
        record = record_path(module)
        if args.write:
            record.parent.mkdir(exist_ok=True)
            record.write_text(out, encoding="utf-8")
            print(f"wrote {record.relative_to(ROOT)}")
        elif not record.exists() or record.read_text(encoding="utf-8") != out:
            stale.append(record.relative_to(ROOT))
    for path in stale:
        print(f"stale or missing output record: {path} (run: make outputs)", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
