"""Load, clean and chunk the corpus of the section's RAG pipeline: this guide's own pages.

Two corpora share one format (a list of `Section`):
- `load_guide(lang)`: the live Markdown pages under docs/<lang>/ (they change as the guide grows);
- `load_mini_guide(lang)`: a frozen, committed collection of one abstract per question page
  (snippets/rag/data/mini_guide.json), whose retrieval results can be recorded.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Section:
    """A run of text under one heading of one page."""

    slug: str  # page slug, e.g. "rag/pipeline"
    lang: str
    title: str  # page title
    heading: str  # heading of this section ("" for text before the first heading)
    anchor: str  # heading id, used to cite "rag/pipeline.md#code"
    text: str


@dataclass(frozen=True)
class Chunk:
    """A piece of a section: the unit that is embedded, indexed and cited."""

    chunk_id: int
    slug: str
    lang: str
    title: str
    heading: str
    anchor: str
    text: str


# --8<-- [start:clean]
FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)
FENCE = re.compile(r"^(`{3,}|~{3,}).*?^\1\s*$", re.DOTALL | re.MULTILINE)
HEADING = re.compile(r"^(#{1,3})\s+(.*?)\s*(?:\{\s*#([\w-]+)[^}]*\})?\s*$", re.MULTILINE)
INLINE_RULES = [
    (re.compile(r"^\*\[[^\]]+\]:.*$", re.MULTILINE), ""),  # abbreviation definitions
    (re.compile(r"^\s*--8<--.*$", re.MULTILINE), ""),  # snippet includes
    (re.compile(r"^(?:!!!|\?\?\?\+?)\s*\w+(?:\s+\"([^\"]*)\")?", re.MULTILINE), r"\1"),
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),  # images
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links keep their text
    (re.compile(r"<[^>]+>"), " "),  # HTML tags
    (re.compile(r"`([^`]*)`"), r"\1"),  # inline code keeps its text
    (re.compile(r"[*_]{1,3}([^*_\n]+)[*_]{1,3}"), r"\1"),  # emphasis
    (re.compile(r"^\s*\|?\s*:?-{3,}.*$", re.MULTILINE), ""),  # table rules
    (re.compile(r"[ \t]*\|[ \t]*"), " | "),  # table cells
    (re.compile(r"[ \t]+"), " "),
    (re.compile(r"\n\s*\n+"), "\n\n"),
]


def clean_markdown(markdown: str) -> tuple[str, dict[str, str]]:
    """Strip front matter and code fences, reduce Markdown to plain text.

    Returns the text (headings kept as lines starting with '#') and the front matter as
    a flat dict of simple `key: value` lines.
    """
    meta: dict[str, str] = {}
    match = FRONT_MATTER.match(markdown)
    if match:
        for line in match.group(1).splitlines():
            key, sep, value = line.partition(":")
            if sep and not line.startswith((" ", "-")):
                meta[key.strip()] = value.split(" #")[0].strip().strip("\"'")
        markdown = markdown[match.end() :]
    text = FENCE.sub("", markdown)  # code lives in snippets/, Mermaid is not prose
    for pattern, replacement in INLINE_RULES:
        text = pattern.sub(replacement, text)
    return text.strip(), meta
# --8<-- [end:clean]


def split_sections(text: str, slug: str, lang: str, title: str) -> list[Section]:
    """Split cleaned page text at its H1-H3 headings; keep each heading's id for citations."""
    sections: list[Section] = []
    heading, anchor, start = "", "", 0
    for match in HEADING.finditer(text):
        body = text[start : match.start()].strip()
        if body:
            sections.append(Section(slug, lang, title, heading, anchor, body))
        heading, anchor, start = match.group(2).strip(), match.group(3) or "", match.end()
    body = text[start:].strip()
    if body:
        sections.append(Section(slug, lang, title, heading, anchor, body))
    return sections


def load_guide(lang: str, docs: Path | None = None) -> list[Section]:
    """Every Markdown page of docs/<lang>/ (the live guide), cleaned and split by heading."""
    base = (docs or ROOT / "docs") / lang
    sections: list[Section] = []
    for path in sorted(base.rglob("*.md")):
        slug = path.relative_to(base).with_suffix("").as_posix()
        text, meta = clean_markdown(path.read_text(encoding="utf-8"))
        sections += split_sections(text, slug, lang, meta.get("title", slug))
    return sections


def load_mini_guide(lang: str) -> list[Section]:
    """The frozen test collection: one section (title + abstract) per question page."""
    data = json.loads((DATA / "mini_guide.json").read_text(encoding="utf-8"))
    return [
        Section(d["slug"], lang, d["title"][lang], d["title"][lang], "", d["text"][lang])
        for d in data["documents"]
    ]


def load_questions() -> list[dict]:
    """The labelled questions: id, relevant {slug: grade}, and the text in en, zh, ru."""
    return json.loads((DATA / "questions.json").read_text(encoding="utf-8"))["questions"]


# --8<-- [start:chunk]
BREAKS = ("\n\n", "\n", "。", ". ", "! ", "? ", "；", "; ", "，", ", ", " ")


def chunk_spans(text: str, size: int, overlap: int) -> list[tuple[int, int]]:
    """Cut text into windows of at most `size` characters; each starts `overlap` before the
    previous one ended. A window ends at the last paragraph, sentence, clause or word break
    in its second half, so chunks rarely cut a word."""
    if not 0 <= overlap < size // 2:
        raise ValueError("need 0 <= overlap < size / 2")
    spans: list[tuple[int, int]] = []
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            for mark in BREAKS:  # prefer the strongest break
                cut = text.rfind(mark, start + size // 2, end)
                if cut != -1:
                    end = cut + len(mark)
                    break
        spans.append((start, end))
        if end == len(text):
            break
        start = end - overlap
    return spans


def chunk_sections(sections: list[Section], size: int, overlap: int) -> list[Chunk]:
    """Chunk every section separately, so no chunk straddles two headings."""
    chunks: list[Chunk] = []
    for s in sections:
        for a, b in chunk_spans(s.text, size, overlap):
            chunks.append(
                Chunk(len(chunks), s.slug, s.lang, s.title, s.heading, s.anchor, s.text[a:b])
            )
    return chunks
# --8<-- [end:chunk]
