"""Versioned releases: scripts/deploy.py publishes every language with mike.

Two versions of a project slice are deployed into a temporary git repository; the test
reads the gh-pages branch (versions.json, aliases, redirects, files of every language
and version) and then serves the branch's files to a browser to check the version
selector and the language switch.
"""

from __future__ import annotations

import functools
import http.server
import json
import subprocess
import tarfile
import threading
from pathlib import Path

import pytest

from .slice import LANGS, PAGE, make_slice, run

pytestmark = pytest.mark.slow

IDENTITY = {
    "GIT_AUTHOR_NAME": "Field Guide CI",
    "GIT_AUTHOR_EMAIL": "ci@example.invalid",
    "GIT_COMMITTER_NAME": "Field Guide CI",
    "GIT_COMMITTER_EMAIL": "ci@example.invalid",
}
A4_DIR = PAGE.removesuffix(".md") + "/"


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True,
        env={**IDENTITY, "PATH": "/usr/bin:/bin", "HOME": str(repo)},
    )
    return result.stdout


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository whose gh-pages branch holds releases 1.0 and 1.1 (latest)."""
    repo = make_slice(tmp_path_factory.mktemp("deploy") / "repo")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "slice")
    for version in ("1.0", "1.1"):
        result = run(repo, "scripts/deploy.py", version, **IDENTITY)
        assert result.returncode == 0, result.stdout + result.stderr
    return repo


def test_versions_json_lists_both_releases_with_latest_on_the_newest(published: Path) -> None:
    versions = json.loads(git(published, "show", "gh-pages:versions.json"))
    assert [v["version"] for v in versions] == ["1.1", "1.0"]
    assert versions[0]["aliases"] == ["latest"]
    assert versions[1]["aliases"] == []


def test_aliases_are_copies_not_symlinks(published: Path) -> None:
    tree = git(published, "ls-tree", "-r", "gh-pages")
    modes = {line.split()[0] for line in tree.splitlines()}
    assert "120000" not in modes, "GitHub Pages rejects symlinks"
    files = {line.split("\t")[1] for line in tree.splitlines()}
    for lang_dir in ("", "zh/", "ru/"):
        for version in ("1.0", "1.1", "latest"):
            assert f"{version}/{lang_dir}index.html" in files
            assert f"{version}/{lang_dir}{A4_DIR}index.html" in files
            assert f"{version}/{lang_dir}search/search_index.json" in files
    latest = git(published, "show", f"gh-pages:latest/zh/{A4_DIR}index.html")
    assert latest == git(published, "show", f"gh-pages:1.1/zh/{A4_DIR}index.html")


def test_site_root_and_language_roots_lead_to_latest(published: Path) -> None:
    assert 'latest/' in git(published, "show", "gh-pages:index.html")
    for lang in ("zh", "ru"):
        page = git(published, "show", f"gh-pages:{lang}/index.html")
        assert f"../latest/{lang}/" in page


def test_releases_are_built_with_the_version_selector_on(published: Path) -> None:
    page = git(published, "show", f"gh-pages:1.0/ru/{A4_DIR}index.html")
    assert '<meta name="fg:versioned" content="true">' in page


@pytest.fixture(scope="module")
def branch_server(published: Path, tmp_path_factory: pytest.TempPathFactory):
    """Serve the gh-pages branch's files as GitHub Pages would."""
    out = tmp_path_factory.mktemp("pages")
    archive = out / "pages.tar"
    subprocess.run(
        ["git", "archive", "-o", str(archive), "gh-pages"], cwd=published, check=True
    )
    with tarfile.open(archive) as tar:
        tar.extractall(out / "www", filter="data")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out / "www"))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


@pytest.mark.browser
@pytest.mark.parametrize("lang", LANGS)
def test_version_selector_keeps_language_and_page(browser, branch_server: str, lang: str) -> None:
    prefix = "" if lang == "en" else f"{lang}/"
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{branch_server}1.0/{prefix}{A4_DIR}")
    links = page.locator(".md-version__link")
    links.first.wait_for(state="attached", timeout=15_000)
    assert links.all_text_contents() == ["1.1", "1.0"]
    assert page.locator(".md-version__current").inner_text() == "1.0"
    page.hover(".md-version")
    page.locator('.md-version__link[data-version="1.1"]').click()
    page.wait_for_url(f"{branch_server}1.1/{prefix}{A4_DIR}")
    # The language switch stays inside the version.
    other = "ru" if lang != "ru" else "zh"
    page.hover(".md-header__option .md-select")
    page.locator(f'a.md-select__link[hreflang="{other}"]').click()
    page.wait_for_url(f"{branch_server}1.1/{other}/{A4_DIR}")
    assert errors == []
    page.close()


@pytest.mark.browser
@pytest.mark.parametrize("start", ["", "zh/", "ru/"])
def test_roots_redirect_to_latest(browser, branch_server: str, start: str) -> None:
    page = browser.new_page()
    page.goto(branch_server + start)
    page.wait_for_url(f"{branch_server}latest/{start}")
    assert page.locator("h1").count() >= 1
    page.close()
