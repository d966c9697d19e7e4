"""Search: aliases from front matter and the index for the site's search worker.

Material's search plugin cuts every page into sections (the page with its short answer,
then one entry per heading) and writes them to search/search_index.json; for Chinese it
segments the text with jieba and joins the words with U+200B. This hook runs after it and
rewrites it for the site's search worker (overrides/assets/javascripts/workers/
guide-search.js), which ranks pages rather than sections. It splits it in two, so that the
first query waits only for the small part:

* search_index.json (what Material's bundle downloads and hands to the worker): every
  entry's location and title, and each page's own words: its short answer, aliases,
  description, tags and weight. The worker can answer from this alone.
* search_text.json (which the worker downloads next, while it already answers): the
  sections' text and the names in code.

Besides:

* Each page's first entry gets the page's own words besides its title: `aliases` (the
  front-matter list `search: aliases:`, and `nav_title`) and `description`. A reader's
  abbreviation, synonym or other spelling ("low-rank adapter", 低秩适配, «низкоранговая
  адаптация») then weighs like the title instead of like a passing mention.
* `boost` (Material's key) says what kind of page it is: question pages first, labs,
  section pages and the About pages below them, times the front matter's `search: boost:`.
* Code blocks leave the displayed text; the names in them stay searchable in a `code`
  field (each once per entry). Tags stay on the page entry only.
* The glossary (docs/glossary/<lang>.md, `*[RAG]: retrieval-augmented generation`) goes
  to `config.synonyms`: a query that spells an abbreviation out also finds it.

Front matter (each language has its own aliases; the parity check does not compare them):

    search:
      aliases: [low-rank adapter, low-rank adaptation]
      boost: 2          # optional, Material's key: multiplies the page's weight
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.pages import Page

try:  # Material segments Chinese with jieba when it is installed; so do the aliases.
    import jieba
except ImportError:  # pragma: no cover - jieba is in requirements.txt
    jieba = None

# Weight of a page by kind, before the page's own `search: boost:`. A reader looks for
# answers; labs, section overviews and the About pages mention everything in passing.
KIND_BOOST = {"question": 1.0, "lab": 0.5, "section": 0.45, "home": 0.3, "about": 0.3}

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
PRE = re.compile(r"<pre>(.*?)</pre>", re.DOTALL)
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Words of Python code that say nothing about a page.
CODE_NOISE = frozenset(
    "and as assert async await break class continue def del elif else except false finally for "
    "from global if import in is lambda none nonlocal not or pass raise return self true try "
    "while with yield int float str bool list dict tuple set len range print super init "
    "torch nn np numpy math typing annotations future dtype shape".split()
)

TEXT_FILE = "search_text.json"  # beside search_index.json; the worker fetches it itself

_pages: dict[str, dict[str, Any]] = {}


def segment(text: str) -> str:
    """Chinese runs cut into words joined by U+200B, exactly as Material's plugin does."""
    if jieba is None:
        return text
    return HAN.sub(lambda m: "\u200b" + "\u200b".join(jieba.cut(m.group(0))) + "\u200b", text).strip(
        "\u200b"
    )


def kind_of(page: Page) -> str:
    uri = page.file.src_uri
    if uri.startswith("about/"):
        return "about"
    if page.file.name == "index":
        return "section" if "/" in uri else "home"
    if Path(uri).name.startswith("lab-"):
        return "lab"
    return "question"


def search_meta(page: Page) -> dict[str, Any]:
    """Aliases, description and boost of one page, from its front matter (checked)."""
    search = page.meta.get("search") or {}
    if not isinstance(search, dict):
        raise PluginError(f"{page.file.src_uri}: front matter 'search' must be a mapping")
    aliases = search.get("aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
        raise PluginError(
            f"{page.file.src_uri}: 'search: aliases:' must be a list of non-empty strings, got {aliases!r}"
        )
    boost = search.get("boost", 1)
    if not isinstance(boost, int | float) or boost <= 0:
        raise PluginError(f"{page.file.src_uri}: 'search: boost:' must be a positive number")
    nav_title = page.meta.get("nav_title")
    words = [*aliases, *([str(nav_title)] if nav_title else [])]
    return {
        "aliases": [segment(a.strip()) for a in words],
        "description": segment(str(page.meta.get("description") or "")),
        "boost": round(KIND_BOOST[kind_of(page)] * float(boost), 3),
    }


# The line of facts under a title and the "Short answer" label are not words a reader
# searches for. Material's plugin skips elements marked data-search-exclude and then removes
# the attribute from the page.
LABELS = re.compile(r'<p class="(?:fg-meta|admonition-title)"')


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: object) -> str:
    return LABELS.sub(lambda m: m.group(0) + ' data-search-exclude="true"', html)


def on_page_context(context: dict, page: Page, config: MkDocsConfig, nav: object) -> dict:
    _pages[page.url] = search_meta(page)
    return context


def code_names(code: str) -> str:
    """The names in code, each once, without Python's own words."""
    seen: dict[str, None] = {}
    code = re.sub(r"<[^>]*>|&(?:[a-z]+|#\d+);", " ", code)
    for name in NAME.findall(code):
        if len(name) > 2 and name.lower() not in CODE_NOISE:
            seen.setdefault(name, None)
    return " ".join(seen)


def rewrite(data: dict[str, Any], pages: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Material's index -> the worker's two files.

    search_index.json: every entry's location and title; a page's entry also its short
    answer (`text`), aliases, description, boost and tags. search_text.json: the sections'
    text and the names in every entry's code, by location."""
    docs, bodies = [], {}
    for entry in data["docs"]:
        path, _, anchor = entry["location"].partition("#")
        out: dict[str, Any] = {"location": entry["location"], "title": entry["title"]}
        html = entry.get("text", "")
        text = re.sub(r"\s{2,}", " ", PRE.sub(" ", html)).strip()
        body = {}
        if anchor:
            if text:
                body["text"] = text
        else:
            out["text"] = text
            meta = pages.get(path, {"aliases": [], "description": "", "boost": 1.0})
            if meta["aliases"]:
                out["aliases"] = meta["aliases"]
            if meta["description"]:
                out["description"] = meta["description"]
            out["boost"] = meta["boost"]
            if entry.get("tags"):  # cut like the text: Material leaves tag names whole
                out["tags"] = [segment(tag) for tag in entry["tags"]]
        code = code_names(" ".join(PRE.findall(html)))
        if code:
            body["code"] = code
        if body:
            bodies[entry["location"]] = body
        docs.append(out)
    return {"config": data["config"], "docs": docs}, {"docs": bodies}


GLOSSARY_LINE = re.compile(r"^\*\[(.+?)\]:\s*(.+?)\s*$", re.MULTILINE)
BRACKETS = re.compile(r"\s*[(（]([^()（）]*)[)）]\s*")


def synonyms(glossary: str, lang: str) -> list[list[str]]:
    """[abbreviation, what it stands for, ...] for each glossary line `*[RAG]: ...`.

    Words in brackets are another name when they are English in a Chinese or Russian
    glossary ("低秩适配（low-rank adaptation）"), and a note otherwise ("(search)")."""
    rows = []
    for abbreviation, expansion in GLOSSARY_LINE.findall(glossary):
        main = " ".join(BRACKETS.sub(" ", expansion).split())
        names = [re.sub(r"(?<=[\u4e00-\u9fff]) (?=[\u4e00-\u9fff])", "", main)]
        if lang != "en":
            names += [b.strip() for b in BRACKETS.findall(expansion) if re.search(r"[A-Za-z]{3}", b)]
        rows.append([abbreviation, *(segment(n) for n in names if n)])
    return rows


def glossary_of(config: MkDocsConfig) -> str:
    """The text of the glossary files appended to every page (pymdownx.snippets)."""
    files = config.mdx_configs.get("pymdownx.snippets", {}).get("auto_append", [])
    return "\n".join(Path(f).read_text(encoding="utf-8") for f in files if Path(f).is_file())


@event_priority(-50)  # after the search plugin has written its index
def on_post_build(config: MkDocsConfig) -> None:
    index = Path(config.site_dir) / "search" / "search_index.json"
    if not index.exists():
        return
    data, text = rewrite(json.loads(index.read_text(encoding="utf-8")), _pages)
    data["config"]["synonyms"] = synonyms(glossary_of(config), config.theme["language"])
    for path, content in ((index, data), (index.with_name(TEXT_FILE), text)):
        path.write_text(json.dumps(content, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
