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
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from snippets.figures.notebook import SETUP

ROOT = Path(__file__).resolve().parent.parent


def execute(path: Path, timeout: int = 600) -> float:
    """Execute the lab in its own folder; return seconds taken. Raises on a failing cell."""
    notebook = jupytext.read(path)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(SETUP))  # figures, as the build draws them
    client = NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    code = [cell for cell in notebook.cells[1:] if cell.cell_type == "code"]
    for number, cell in enumerate(code, start=1):
        shown = any("image/svg+xml" in output.get("data", {}) for output in cell.outputs)
        if cell.metadata.get("alt") and not shown:
            errors = [f"{o.get('ename')}: {o.get('evalue')}"
                      for o in cell.outputs if o.get("output_type") == "error"]
            raise FigureMissing(
                f"code cell {number} carries a figure description but showed no figure"
                + (f" ({'; '.join(errors)})" if errors else "")
            )
    return seconds


class FigureMissing(Exception):
    """A described cell drew nothing: drawing the figure failed (see the cell's output)."""


def main(argv: list[str]) -> int:
    status = 0
    for arg in argv:
        path = Path(arg).resolve()
        try:
            seconds = execute(path)
            print(f"ok   {path.relative_to(ROOT)} ({seconds:.1f} s)")
        except (CellExecutionError, FigureMissing) as error:
            print(f"FAIL {path.relative_to(ROOT)}\n{error}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
