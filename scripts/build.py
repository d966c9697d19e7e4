"""Build every language of the site into one tree: en at the root, zh/ and ru/ below it.

Usage:
    python scripts/build.py                      # all languages, strict, labs executed
    python scripts/build.py --lang en --no-labs  # one language, labs shown unexecuted
    python scripts/build.py --site-dir /tmp/site # build elsewhere (parallel work)

English is built first because its build cleans the whole site directory.
Prints the build time of each language and fails (exit 1) on the first failing build.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# language code -> (config file, path below the site root)
LANGUAGES: dict[str, tuple[str, str]] = {
    "en": ("mkdocs.yml", ""),
    "zh": ("mkdocs.zh.yml", "zh"),
    "ru": ("mkdocs.ru.yml", "ru"),
}


def build(lang: str, site_dir: Path, labs: bool, strict: bool = True) -> float:
    """Build one language into its place under site_dir; return seconds taken."""
    config, sub = LANGUAGES[lang]
    env = dict(os.environ, LABS_EXECUTE="true" if labs else "false", NO_MKDOCS_2_WARNING="1")
    cmd = [sys.executable, "-m", "mkdocs", "build", "-f", config, "-d", str(site_dir / sub)]
    if strict:
        cmd.append("--strict")
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=ROOT, env=env)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"build failed: {lang} ({config})")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=LANGUAGES, action="append")
    parser.add_argument("--site-dir", type=Path, default=ROOT / "site")
    parser.add_argument("--no-labs", action="store_true", help="do not execute the labs")
    parser.add_argument("--no-strict", action="store_true", help="report warnings, do not fail")
    args = parser.parse_args()
    langs = args.lang or list(LANGUAGES)
    if "en" in langs:  # en cleans the tree, so it goes first
        langs = ["en"] + [lang for lang in langs if lang != "en"]
    site_dir = args.site_dir.resolve()
    times = {lang: build(lang, site_dir, labs=not args.no_labs, strict=not args.no_strict) for lang in langs}
    for lang, seconds in times.items():
        print(f"built {lang:2} in {seconds:6.1f} s -> {site_dir / LANGUAGES[lang][1]}")


if __name__ == "__main__":
    main()
