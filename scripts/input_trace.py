"""Cache results by the files a run actually read.

A lab (docs/hooks/labs.py) or a snippet module (scripts/snippet_outputs.py) is run once
with an audit hook that records every file it opens and every folder it scans inside the
repository: the snippet modules it imports, the pages the RAG lab indexes, data files.
The result is kept with the digests of those inputs, and reused while all of them are
unchanged (and the lock file, which stands for the installed packages, too). Editing a
page or a snippet then re-runs only what read it.

    code = TRACE_START.format(root=...)  # first thing the run executes
    code = TRACE_END.format(out=...)     # last: writes what was read, as JSON
    inputs(json.load(out))               # -> {"open:snippets/x.py": sha256, ...}
    fresh(inputs)                        # -> True while every input is unchanged
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Inside the repository but not inputs of a run: tools, caches and build output.
NOT_INPUTS = (".cache", ".git", ".venv", "node_modules", "site", "__pycache__")

TRACE_START = """\
import os as _fg_os, sys as _fg_sys
_fg_read = set()
def _fg_audit(event, args, _root={root!r}):
    if event in ("open", "os.scandir") and args and isinstance(args[0], (str, bytes, _fg_os.PathLike)):
        path = _fg_os.path.abspath(_fg_os.fsdecode(args[0]))
        if path.startswith(_root + _fg_os.sep):
            _fg_read.add((event, path))
_fg_sys.addaudithook(_fg_audit)
"""

TRACE_END = """\
import json as _fg_json
with open({out!r}, "w") as _fg_file:
    _fg_json.dump(sorted(_fg_read), _fg_file)
"""


def lock_digest() -> bytes:
    """Stands for the installed packages: the lock file's bytes."""
    return hashlib.sha256((ROOT / "requirements.txt").read_bytes()).digest()


def _digest_of(kind: str, path: Path) -> str | None:
    """Digest of a file's bytes or of a folder's listing; None when it does not exist."""
    try:
        if kind == "os.scandir":
            return hashlib.sha256("\0".join(sorted(os.listdir(path))).encode()).hexdigest()
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def inputs(read: list[list[str]]) -> dict[str, str | None]:
    """The run's inputs, as 'kind:path relative to the repository' -> digest."""
    found: dict[str, str | None] = {}
    for kind, name in read:
        rel = Path(name).relative_to(ROOT)
        if (rel.parts and rel.parts[0] in NOT_INPUTS) or "__pycache__" in rel.parts:
            continue
        found[f"{kind}:{rel.as_posix()}"] = _digest_of(kind, ROOT / rel)
    return found


def fresh(recorded: dict[str, str | None]) -> bool:
    """True while every recorded input still has its recorded digest."""
    for key, digest in recorded.items():
        kind, rel = key.split(":", 1)
        if _digest_of(kind, ROOT / rel) != digest:
            return False
    return True
