"""Serve docs/assets/ (shared by every language) from each language build.

Figures, vendored KaTeX and Mermaid, the stylesheet and the logo exist once in the
repository and appear at `assets/...` in the en, zh and ru sites alike.

A figure drawn in every language is stored once per language, `<name>.<lang>.svg`
(snippets/figures); each language's site serves its own file as `<name>.svg`, so pages
link `<name>.svg` in every language and show the figure in their own.
"""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

SHARED = Path(__file__).resolve().parent.parent / "assets"
PER_LANGUAGE = re.compile(r"^(?P<stem>.+)\.(?P<lang>en|zh|ru)\.svg$")


def on_files(files: Files, config: MkDocsConfig) -> Files:
    lang = config.theme["language"]
    for path in sorted(SHARED.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        rel = path.relative_to(SHARED.parent).as_posix()  # "assets/..."
        variant = PER_LANGUAGE.match(path.name)
        if variant:
            if variant["lang"] != lang:
                continue
            rel = rel.removesuffix(path.name) + variant["stem"] + ".svg"
        if files.get_file_from_path(rel) is not None:
            continue
        if variant:  # served under another name than its own
            files.append(File.generated(config, rel, abs_src_path=str(path)))
        else:
            files.append(
                File(
                    rel,
                    src_dir=str(SHARED.parent),
                    dest_dir=config.site_dir,
                    use_directory_urls=config.use_directory_urls,
                )
            )
    return files
