"""The second half of every language's pages (see test_every_page.py, which has the checks)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import LANGS
from .test_every_page import axe_source, check_pages  # noqa: F401 (axe_source is a fixture)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_second_half(browser, server: str, site_dir: Path, axe_source: str,  # noqa: F811
                                lang: str) -> None:
    check_pages(browser, server, site_dir, axe_source, lang, part=1)
