"""Shared fixtures for the site checks: the built site and a browser pointed at it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .static_server import serve

ROOT = Path(__file__).resolve().parents[2]
# FG_SITE points the site checks at another built tree (your own build under /tmp, say).
SITE = Path(os.environ.get("FG_SITE", ROOT / "site"))
LANGS = ("en", "zh", "ru")
CHROMIUM = "/usr/bin/chromium"


def lang_root(lang: str) -> str:
    """URL path of a language's root below the site root."""
    return "" if lang == "en" else f"{lang}/"


@pytest.fixture(scope="session")
def site_dir() -> Path:
    """The built site (make test builds it first; build it here if it is missing)."""
    if not all((SITE / lang_root(lang) / "index.html").exists() for lang in LANGS):
        subprocess.run([sys.executable, "scripts/build.py", "--site-dir", str(SITE)], cwd=ROOT, check=True)
    return SITE


@pytest.fixture(scope="session")
def server(site_dir: Path) -> Iterator[str]:
    """Serve the built site on 127.0.0.1 (gzip, like GitHub Pages); yields the base URL."""
    with serve(site_dir) as url:
        yield url


def require_chromium() -> None:
    """Skip without Debian's Chromium, except under CI=true, where its absence fails."""
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but Debian's chromium is not installed (apt-get install chromium)")
        pytest.skip("Debian chromium not installed; browser tests run in CI")


@pytest.fixture(scope="module")
def browser():
    """Debian Chromium driven by Playwright. Skipped without it, except under CI=true.

    Module-scoped: Playwright's sync API keeps an event loop running in the thread while
    it is open, which would break asyncio.run() in tests that a worker runs later."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield instance
        instance.close()
