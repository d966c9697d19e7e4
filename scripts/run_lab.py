"""Execute one or more labs (Jupytext percent-format .py) and report the first error.

    python scripts/run_lab.py docs/en/rag/lab-rag.py [more labs...]

The build executes labs too (mkdocs-jupyter); this is the quick way to try one while
writing it. Exit status 1 names the lab and the failing cell.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jupytext
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent


def execute(path: Path, timeout: int = 600) -> float:
    """Execute the lab in its own folder; return seconds taken. Raises on a failing cell."""
    notebook = jupytext.read(path)
    client = NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    status = 0
    for arg in argv:
        path = Path(arg).resolve()
        try:
            seconds = execute(path)
            print(f"ok   {path.relative_to(ROOT)} ({seconds:.1f} s)")
        except CellExecutionError as error:
            print(f"FAIL {path.relative_to(ROOT)}\n{error}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
