"""Serve docs/assets/ (shared by every language) from each language build.

Figures, vendored KaTeX and Mermaid, the stylesheet and the logo exist once in the
repository and appear at `assets/...` in the en, zh and ru sites alike.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

SHARED = Path(__file__).resolve().parent.parent / "assets"


def on_files(files: Files, config: MkDocsConfig) -> Files:
    for path in sorted(SHARED.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            rel = path.relative_to(SHARED.parent).as_posix()  # "assets/..."
            if files.get_file_from_path(rel) is None:
                files.append(
                    File(
                        rel,
                        src_dir=str(SHARED.parent),
                        dest_dir=config.site_dir,
                        use_directory_urls=config.use_directory_urls,
                    )
                )
    return files
