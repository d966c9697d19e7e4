"""Import the project's scripts and MkDocs hooks (plain files, not packages) in tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def load(relative_path: str) -> ModuleType:
    """Import ROOT/relative_path under a private module name."""
    path = ROOT / relative_path
    name = "_fg_" + "_".join(Path(relative_path).with_suffix("").parts)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_script(name: str) -> ModuleType:
    return load(f"scripts/{name}.py")


def load_hook(name: str) -> ModuleType:
    return load(f"docs/hooks/{name}.py")
