"""Check that every page exists in en, zh and ru with the same structure.

For each Markdown page it compares, against English: the front-matter keys that must
not be translated (source, tags, level, order), the sequence of heading ids (every
heading must carry an explicit `{ #id }`), the snippet includes, the display-math blocks
(formulas with `\\text{...}` contents ignored), the Mermaid diagrams (their number, kind and
direction, e.g. `flowchart TB`, and which of `accTitle:`/`accDescr:` they carry; the labels
are translated) and the exact text of every other fenced code block. For labs (`lab-*.py`,
Jupytext percent format) it compares the code cells and which of them carry a figure
description (`# %% alt="..."`).

    python scripts/check_parity.py [--docs DIR]

Prints one line per problem, naming the file, and exits 1 if there is any.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
LANGS = ("en", "zh", "ru")
FROZEN_META = ("source", "tags", "level", "order")

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<text>.*?)\s*$")
HEADING_ID = re.compile(r"\{[^}]*#(?P<id>[A-Za-z0-9_.:-]+)[^}]*\}\s*$")
INCLUDE = re.compile(r"^[ \t]*-{1,}8<-{1,}[ \t]+\"(?P<target>[^\"]+)\"", re.MULTILINE)
TEXT_CMD = re.compile(r"\\(?:text|mathrm|textrm|operatorname)\{[^{}]*\}")


@dataclass
class Structure:
    """What must be identical across languages in one page."""

    meta: dict = field(default_factory=dict)
    heading_ids: list[str] = field(default_factory=list)
    missing_ids: list[str] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)
    math: list[str] = field(default_factory=list)
    mermaid: list[str] = field(default_factory=list)  # one summary per diagram
    code: list[str] = field(default_factory=list)


def split_front_matter(text: str) -> tuple[dict, str]:
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end != -1:
            meta = yaml.safe_load(text[4:end]) or {}
            return meta, text[end + 4 :]
    return {}, text


def _closes(match: re.Match[str] | None, mark: str) -> bool:
    """Whether a fence line closes a block opened with `mark`."""
    return bool(
        match
        and match["fence"][0] == mark[0]
        and len(match["fence"]) >= len(mark)
        and not match["info"].strip()
    )


def _dedent(lines: list[str], indent: str) -> str:
    return "\n".join(line[len(indent) :] if line.startswith(indent) else line.lstrip() for line in lines)


def parse_markdown(text: str) -> Structure:
    """Extract the language-independent structure of a Markdown page."""
    meta, body = split_front_matter(text)
    result = Structure(meta={k: meta.get(k) for k in FROZEN_META})
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = FENCE.match(line)
        if fence:
            indent, mark, info = fence["indent"], fence["fence"], fence["info"].strip()
            block: list[str] = []
            i += 1
            while i < len(lines):
                if _closes(FENCE.match(lines[i]), mark):
                    break
                block.append(lines[i])
                i += 1
            content = _dedent(block, indent)
            result.includes += [m["target"] for m in INCLUDE.finditer(content)]
            if info.split(" ")[0].lstrip(".{") == "mermaid":
                result.mermaid.append(mermaid_summary(content))
            else:
                result.code.append(content)
            i += 1
            continue
        result.includes += [m["target"] for m in INCLUDE.finditer(line)]
        heading = HEADING.match(line)
        if heading and not line.startswith("#!"):
            found = HEADING_ID.search(heading["text"])
            if found:
                result.heading_ids.append(found["id"])
            else:
                result.missing_ids.append(heading["text"])
        if line.strip() == "$$" or (line.strip().startswith("$$") and not line.strip().endswith("$$")):
            block = [line.strip()[2:]]
            i += 1
            while i < len(lines) and not lines[i].strip().endswith("$$"):
                block.append(lines[i].strip())
                i += 1
            if i < len(lines):
                block.append(lines[i].strip()[:-2])
            result.math.append(normalise_math("\n".join(block)))
        elif line.strip().startswith("$$") and line.strip().endswith("$$") and len(line.strip()) > 4:
            result.math.append(normalise_math(line.strip()[2:-2]))
        i += 1
    return result


MERMAID_HEADER = re.compile(r"^(?P<kind>\w+)(?:[ \t]+(?P<direction>TB|TD|BT|RL|LR))?")
MERMAID_ACC = re.compile(r"^[ \t]*(accTitle|accDescr)\b", re.MULTILINE)


def mermaid_summary(source: str) -> str:
    """What must match across languages in a diagram: kind, direction, accessibility lines."""
    lines = [line.strip() for line in source.splitlines()]
    lines = [line for line in lines if line and not line.startswith("%%")]
    header = MERMAID_HEADER.match(lines[0]) if lines else None
    kind = header["kind"] if header else "?"
    direction = (header["direction"] or "").replace("TD", "TB") if header else ""
    acc = sorted(set(MERMAID_ACC.findall(source)))
    return " ".join(part for part in [kind, direction, *acc] if part)


def normalise_math(tex: str) -> str:
    return re.sub(r"\s+", "", TEXT_CMD.sub(r"\\text{}", tex))


def lab_cells(text: str) -> list[tuple[str, str, list[str]]]:
    """Cells of a Jupytext percent-format file: (kind, header line, body lines)."""
    cells: list[tuple[str, str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("# %%"):
            kind = "markdown" if "[markdown]" in line or "[md]" in line else "code"
            cells.append((kind, line, []))
        elif cells:
            cells[-1][2].append(line)
    return cells


def lab_code_cells(text: str) -> list[str]:
    """Code cells of a Jupytext percent-format file."""
    bodies = ["\n".join(body).strip() for kind, _, body in lab_cells(text) if kind == "code"]
    return [body for body in bodies if body]


def _bad_yaml(text: str) -> bool:
    try:
        split_front_matter(text)
    except yaml.YAMLError:
        return True
    return False


LAB_ALT = re.compile(r'\balt="[^"]+"')


def lab_described_cells(text: str) -> list[int]:
    """Positions (1-based, among code cells) of the cells whose header carries a figure
    description, `# %% alt="..."`."""
    headers = [header for kind, header, _ in lab_cells(text) if kind == "code"]
    return [position for position, header in enumerate(headers, start=1) if LAB_ALT.search(header)]


def lab_heading_ids(text: str) -> list[str]:
    """Heading ids in the Markdown cells of a lab, as docs/hooks/labs.py assigns them
    (explicit `{ #id }`, else `section-N` by position)."""
    ids: list[str] = []
    lines = [line for kind, _, body in lab_cells(text) if kind == "markdown" for line in body]
    for line in lines:
        content = line[2:] if line.startswith("# ") else line.lstrip("#")
        heading = HEADING.match(content)
        if heading:
            found = HEADING_ID.search(heading["text"])
            ids.append(found["id"] if found else f"section-{len(ids) + 1}")
    return ids


def pages(docs: Path, lang: str) -> set[str]:
    base = docs / lang
    return {
        p.relative_to(base).as_posix()
        for p in base.rglob("*")
        if p.is_file() and (p.suffix == ".md" or (p.suffix == ".py" and p.name.startswith("lab-")))
    }


def compare(docs: Path) -> list[str]:
    """Return one message per parity problem."""
    problems: list[str] = []
    all_pages = {lang: pages(docs, lang) for lang in LANGS}
    union = set().union(*all_pages.values())
    for rel in sorted(union):
        for lang in LANGS:
            if rel not in all_pages[lang]:
                present = [other for other in LANGS if rel in all_pages[other]]
                problems.append(
                    f"docs/{lang}/{rel}: missing translation (exists in {', '.join(present)})"
                )
    for rel in sorted(set.intersection(*all_pages.values())):
        texts = {lang: (docs / lang / rel).read_text(encoding="utf-8") for lang in LANGS}
        if rel.endswith(".py"):
            ref = lab_code_cells(texts["en"])
            ref_ids = lab_heading_ids(texts["en"])
            ref_described = lab_described_cells(texts["en"])
            for lang in LANGS[1:]:
                ids = lab_heading_ids(texts[lang])
                if lab_code_cells(texts[lang]) != ref:
                    problems.append(f"docs/{lang}/{rel}: code cells differ from docs/en/{rel}")
                if ids != ref_ids:
                    problems.append(f"docs/{lang}/{rel}: lab heading ids {ids} differ from en {ref_ids}")
                described = lab_described_cells(texts[lang])
                if described != ref_described:
                    problems.append(
                        f"docs/{lang}/{rel}: code cells {described} carry a figure description "
                        f"(alt=), en has {ref_described}"
                    )
            continue
        try:
            structures = {lang: parse_markdown(texts[lang]) for lang in LANGS}
        except yaml.YAMLError as error:
            bad = next(lang for lang in LANGS if _bad_yaml(texts[lang]))
            problems.append(f"docs/{bad}/{rel}: front matter is not valid YAML: {error}")
            continue
        for lang, s in structures.items():
            for text in s.missing_ids:
                problems.append(f"docs/{lang}/{rel}: heading without explicit id: {text!r}")
        ref = structures["en"]
        for lang in LANGS[1:]:
            s = structures[lang]
            path = f"docs/{lang}/{rel}"
            for key in FROZEN_META:
                if s.meta.get(key) != ref.meta.get(key):
                    problems.append(
                        f"{path}: front matter {key!r} is {s.meta.get(key)!r}, en has {ref.meta.get(key)!r}"
                    )
            if s.heading_ids != ref.heading_ids:
                problems.append(f"{path}: heading ids {s.heading_ids} differ from en {ref.heading_ids}")
            if s.includes != ref.includes:
                problems.append(f"{path}: snippet includes {s.includes} differ from en {ref.includes}")
            if len(s.math) != len(ref.math):
                problems.append(f"{path}: {len(s.math)} display-math blocks, en has {len(ref.math)}")
            else:
                for n, (a, b) in enumerate(zip(ref.math, s.math, strict=True), 1):
                    if a != b:
                        problems.append(f"{path}: display-math block {n} differs from en")
            if len(s.mermaid) != len(ref.mermaid):
                problems.append(f"{path}: {len(s.mermaid)} Mermaid diagrams, en has {len(ref.mermaid)}")
            else:
                for n, (a, b) in enumerate(zip(ref.mermaid, s.mermaid, strict=True), 1):
                    if a != b:
                        problems.append(f"{path}: Mermaid diagram {n} is '{b}', en has '{a}'")
            if len(s.code) != len(ref.code):
                problems.append(f"{path}: {len(s.code)} code blocks, en has {len(ref.code)}")
            else:
                for n, (a, b) in enumerate(zip(ref.code, s.code, strict=True), 1):
                    if a != b:
                        problems.append(f"{path}: code block {n} differs from en")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    problems = compare(args.docs)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"parity ok: {len(pages(args.docs, 'en'))} pages in each of {', '.join(LANGS)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
