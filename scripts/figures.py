"""Redraw every shared figure in every language (make figures).

    python scripts/figures.py             # recompute exact data, redraw from the records
    python scripts/figures.py --measure   # also measure the timings again (minutes)

The figures are docs/assets/figures/<section>/<name>.<lang>.svg, drawn by the code listed
in snippets/figures/shared.py; the tests compare the committed files with what it draws.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from snippets.figures.shared import measure, recompute, write_all  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", action="store_true", help="measure the timings again")
    args = parser.parse_args()
    if args.measure:
        measure()
    recompute()
    for path in write_all():
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
