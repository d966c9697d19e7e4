"""Record, or check, what each snippet module prints.

A module in snippets/ that has an `if __name__ == "__main__":` block is run as
`python -m snippets.<section>.<name>`; its standard output is recorded in
snippets/<section>/outputs/<name>.txt, which pages embed. The numbers a page shows
are therefore the numbers its code prints.

    python scripts/snippet_outputs.py --write              # refresh every record
    python scripts/snippet_outputs.py --write snippets/rag # refresh one section
    python scripts/snippet_outputs.py                      # check; exit 1 if stale

Checking reuses a module's last output while the files that run read are unchanged
(scripts/input_trace.py; kept in .cache/outputs/); --write always runs every module.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import input_trace  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SNIPPETS = ROOT / "snippets"
CACHE = ROOT / ".cache" / "outputs"
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


def _name(module: Path) -> str:
    return ".".join(module.relative_to(ROOT).with_suffix("").parts)


def _python(module: Path, code: str = "") -> subprocess.CompletedProcess[str]:
    """`python -m snippets.x.y`, or the same run preceded and followed by `code`."""
    env = dict(os.environ, PYTHONHASHSEED="0", PYTHONPATH=str(ROOT))
    command = ["-m", _name(module)] if not code else ["-c", code]
    result = subprocess.run(
        [sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"{module.relative_to(ROOT)} failed:\n{result.stderr}")
    return result


def run(module: Path) -> str:
    """Run a snippet module and return its standard output."""
    return _python(module).stdout


def run_cached(module: Path) -> str:
    """What `run` returns, reused while the files the last run read are unchanged."""
    key = hashlib.sha256(input_trace.lock_digest() + _name(module).encode()).hexdigest()[:32]
    entry = CACHE / f"{key}.json"
    if entry.exists():
        kept = json.loads(entry.read_text(encoding="utf-8"))
        if input_trace.fresh(kept["inputs"]):
            return kept["stdout"]
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "read.json"
        code = "\n".join([
            input_trace.TRACE_START.format(root=str(ROOT)),
            "import atexit",
            "atexit.register(lambda: exec(" + repr(input_trace.TRACE_END.format(out=str(trace))) + "))",
            "import runpy",
            f"runpy._run_module_as_main({_name(module)!r})",
        ])
        stdout = _python(module, code).stdout
        inputs = input_trace.inputs(json.loads(trace.read_text(encoding="utf-8")))
    CACHE.mkdir(parents=True, exist_ok=True)
    entry.write_text(json.dumps({"stdout": stdout, "inputs": inputs}), encoding="utf-8")
    return stdout


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
        out = run(module) if args.write else run_cached(module)
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
