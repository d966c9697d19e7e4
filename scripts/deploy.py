"""Publish a release of every language to the gh-pages branch with mike.

    python scripts/deploy.py 1.0                 # deploy 1.0, move "latest" to it
    python scripts/deploy.py 1.0 --push          # ... and push gh-pages to origin
    python scripts/deploy.py 1.1 --no-latest     # deploy without moving "latest"

Layout on the branch (GitHub Pages serves it as is):

    versions.json              mike's list of versions and aliases
    index.html                 redirect to latest/
    zh/index.html, ru/index.html   redirects to latest/zh/ and latest/ru/
    1.0/                       English at the version root, zh/ and ru/ inside it
    latest/                    a copy of the newest version (GitHub Pages rejects symlinks)

Each version is one tree built by scripts/build.py (all three languages), so links
between languages stay inside the version. The build runs with FG_VERSIONED=true,
which turns on the version selector (assets/javascripts/site.js, part 3).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from mike import commands, git_utils, mkdocs_utils

ROOT = Path(__file__).resolve().parent.parent
# Where GitHub Pages serves the branch; canonical and hreflang URLs point into latest/.
PAGES_URL = "https://llm-interview-field-guide.github.io/"
LANG_ROOTS = ("zh", "ru")
REDIRECT = """<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<title>Redirecting</title>
<link rel="canonical" href="{target}">
<meta http-equiv="refresh" content="0; url={target}">
<script>location.replace("{target}" + location.hash)</script>
</head>
<body><a href="{target}">{target}</a></body>
</html>
"""


def deploy(version: str, *, latest: bool, branch: str, push: bool, remote: str) -> None:
    cfg = mkdocs_utils.load_config(str(ROOT / "mkdocs.yml"))
    aliases = ["latest"] if latest else []
    message = f"Deploy {version} of every language"
    with commands.deploy(
        cfg,
        version,
        aliases=aliases,
        update_aliases=True,
        alias_type=commands.AliasType.copy,
        branch=branch,
        message=message,
    ):
        env = dict(
            os.environ,
            FG_VERSIONED="true",
            MIKE_DOCS_VERSION=version,
            FG_SITE_ROOT=os.environ.get("FG_SITE_ROOT", PAGES_URL + "latest/"),
        )
        subprocess.run(
            [sys.executable, "scripts/build.py", "--site-dir", cfg["site_dir"]],
            cwd=ROOT,
            env=env,
            check=True,
        )
    if latest:
        commands.set_default(
            "latest", branch=branch, message="Point the site root to latest", allow_empty=True
        )
        with git_utils.Commit(branch, "Point the language roots to latest", allow_empty=True) as commit:
            for lang in LANG_ROOTS:
                html = REDIRECT.format(lang=lang, target=f"../latest/{lang}/")
                commit.add_file(git_utils.FileInfo(f"{lang}/index.html", html))
    if push:
        git_utils.push_branch(remote, branch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("version", help="release number, e.g. 1.0")
    parser.add_argument("--no-latest", action="store_true", help="do not move the latest alias")
    parser.add_argument("--branch", default="gh-pages")
    parser.add_argument("--push", action="store_true", help="push the branch when done")
    parser.add_argument("--remote", default="origin")
    args = parser.parse_args()
    os.chdir(ROOT)  # mike works on the repository in the current directory
    deploy(
        args.version,
        latest=not args.no_latest,
        branch=args.branch,
        push=args.push,
        remote=args.remote,
    )


if __name__ == "__main__":
    main()
