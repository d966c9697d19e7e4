"""The input-keyed cache of lab runs and snippet outputs (scripts/input_trace.py).

A run traced by TRACE_START / TRACE_END reports the files it opened and the folders it
scanned inside the root; the cached result stays fresh exactly while those are unchanged.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .modules import load_script

input_trace = load_script("input_trace")


def traced_run(root: Path, body: str) -> dict[str, str | None]:
    out = root / ".cache" / "read.json"
    out.parent.mkdir(exist_ok=True)
    code = "\n".join([input_trace.TRACE_START.format(root=str(root)), body,
                      input_trace.TRACE_END.format(out=str(out))])
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)
    return input_trace.inputs(json.loads(out.read_text(encoding="utf-8")))


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(input_trace, "ROOT", tmp_path)
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "a.md").write_text("alpha", encoding="utf-8")
    (tmp_path / "data.txt").write_text("1 2 3", encoding="utf-8")
    (tmp_path / "unread.txt").write_text("never opened", encoding="utf-8")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "out.html").write_text("built", encoding="utf-8")
    return tmp_path


BODY = """
import pathlib
pathlib.Path("data.txt").read_text()
[p.read_text() for p in sorted(pathlib.Path("pages").rglob("*.md"))]
pathlib.Path("site/out.html").read_text()
"""


def test_records_files_opened_and_folders_scanned_only(root: Path) -> None:
    recorded = traced_run(root, BODY)
    assert set(recorded) == {"open:data.txt", "open:pages/a.md", "os.scandir:pages"}
    assert input_trace.fresh(recorded)


def test_an_edited_input_makes_the_entry_stale(root: Path) -> None:
    recorded = traced_run(root, BODY)
    (root / "unread.txt").write_text("changed", encoding="utf-8")
    (root / "site" / "out.html").write_text("rebuilt", encoding="utf-8")
    assert input_trace.fresh(recorded), "files the run did not read are not inputs"
    (root / "pages" / "a.md").write_text("beta", encoding="utf-8")
    assert not input_trace.fresh(recorded)


def test_a_new_file_in_a_scanned_folder_makes_the_entry_stale(root: Path) -> None:
    recorded = traced_run(root, BODY)
    (root / "pages" / "b.md").write_text("new page", encoding="utf-8")
    assert not input_trace.fresh(recorded)


def test_a_deleted_input_makes_the_entry_stale(root: Path) -> None:
    recorded = traced_run(root, BODY)
    (root / "data.txt").unlink()
    assert not input_trace.fresh(recorded)
