"""Unit tests of docs/hooks/search.py: aliases, page kinds, glossary synonyms, the index."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from mkdocs.exceptions import PluginError

from .modules import load_hook

ROOT = Path(__file__).resolve().parents[2]
search = load_hook("search")


def page(src_uri: str, **meta) -> SimpleNamespace:
    name = Path(src_uri).stem
    return SimpleNamespace(meta=meta, file=SimpleNamespace(src_uri=src_uri, name=name))


def test_aliases_nav_title_and_description_go_to_the_page() -> None:
    meta = search.search_meta(page(
        "fine-tuning/lora.md", nav_title="LoRA", description="Low-rank adaptation.",
        search={"aliases": ["low-rank adapter", "低秩适配"]},
    ))
    assert meta["aliases"] == ["low-rank adapter", "低\u200b秩\u200b适配", "LoRA"]
    assert meta["description"] == "Low-rank adaptation."
    assert meta["boost"] == 1.0


@pytest.mark.parametrize(("src_uri", "kind"), [
    ("rag/pipeline.md", "question"), ("rag/lab-rag.py", "lab"), ("rag/index.md", "section"),
    ("index.md", "home"), ("about/sources.md", "about"),
])
def test_pages_are_weighed_by_kind(src_uri: str, kind: str) -> None:
    assert search.kind_of(page(src_uri)) == kind
    assert search.search_meta(page(src_uri))["boost"] == search.KIND_BOOST[kind]
    assert search.search_meta(page(src_uri, search={"boost": 2}))["boost"] == 2 * search.KIND_BOOST[kind]


@pytest.mark.parametrize("bad", [
    {"aliases": "LoRA"}, {"aliases": ["LoRA", ""]}, {"aliases": [["LoRA"]]}, {"boost": 0}, "LoRA",
])
def test_malformed_search_front_matter_fails_the_build_naming_the_page(bad) -> None:
    with pytest.raises(PluginError, match="fine-tuning/lora.md"):
        search.search_meta(page("fine-tuning/lora.md", search=bad))


def test_every_pages_search_front_matter_is_valid() -> None:
    for lang in ("en", "zh", "ru"):
        for path in sorted((ROOT / "docs" / lang).rglob("*.md")):
            text = path.read_text(encoding="utf-8")
            if not text.startswith("---\n"):
                continue
            meta = yaml.safe_load(text[4 : text.index("\n---\n", 4)]) or {}
            rel = path.relative_to(ROOT / "docs" / lang).as_posix()
            search.search_meta(page(rel, **meta))  # raises on a malformed entry


def test_index_is_split_into_page_names_and_section_text() -> None:
    data = {"config": {"lang": ["en"]}, "docs": [
        {"location": "a/", "title": "A?", "text": "<p>Short.</p>", "tags": ["RAG"]},
        {"location": "a/#code", "title": "Code", "tags": ["RAG"], "text":
            "<p>Run it:</p><pre><code>def merge_and_unload(self):\n    return self.merge_and_unload()"
            "  # x &lt; y</code></pre><p>Done.</p>"},
    ]}
    pages = {"a/": {"aliases": ["alias"], "description": "D.", "boost": 1.0}}
    index, text = search.rewrite(data, pages)
    assert index["docs"] == [
        {"location": "a/", "title": "A?", "text": "<p>Short.</p>", "aliases": ["alias"],
         "description": "D.", "boost": 1.0, "tags": ["RAG"]},
        {"location": "a/#code", "title": "Code"},
    ]
    # Code leaves the text; its names stay searchable, each once, without def, self, return, lt.
    assert text["docs"] == {"a/#code": {"text": "<p>Run it:</p> <p>Done.</p>", "code": "merge_and_unload"}}


def test_glossary_lines_become_synonyms() -> None:
    glossary = "*[ANN]: approximate nearest neighbour (search)\n*[KV]: key/value (as in KV cache)"
    en = search.synonyms(glossary, "en")
    assert en == [["ANN", "approximate nearest neighbour"], ["KV", "key/value"]]
    zh = search.synonyms("*[ANN]: 近似最近邻（approximate nearest neighbour）检索", "zh")
    assert zh == [["ANN", "近似\u200b最近\u200b邻\u200b检索", "approximate nearest neighbour"]]
    ru = search.synonyms("*[LoRA]: низкоранговая адаптация (low-rank adaptation)", "ru")
    assert ru == [["LoRA", "низкоранговая адаптация", "low-rank adaptation"]]


def test_every_glossary_gives_a_synonym_per_line() -> None:
    for lang in ("en", "zh", "ru"):
        text = (ROOT / "docs" / "glossary" / f"{lang}.md").read_text(encoding="utf-8")
        rows = search.synonyms(text, lang)
        assert len(rows) == text.count("*["), lang
        assert all(len(row) >= 2 and all(row) for row in rows), lang


def test_labels_are_kept_out_of_the_index() -> None:
    html = ('<p class="fg-meta">Source question: A4</p><div class="admonition abstract">'
            '<p class="admonition-title">Short answer</p><p>Text</p></div>')
    out = search.on_page_content(html, page("x.md"), None, None)
    assert out.count('data-search-exclude="true"') == 2
    assert '<p>Text</p>' in out
