"""Check every page, lab and glossary against the house style of its language.

The style lives in `style/<lang>.yml` (one file per language: section headings by heading
id, the short-answer title, the lab title prefix, the citation form, quotes, numbers,
units and key terms with their forbidden variants). This script reads those files and
checks the prose of docs/<lang>/**/*.md, the Markdown cells and figure descriptions of
docs/<lang>/**/lab-*.py and docs/glossary/<lang>.md. It never looks at front matter,
fenced code, inline code, math ($...$, $$...$$, \\(...\\)), URLs, link targets, HTML
tags and their attributes, attribute lists ({ #id }) or snippet includes.

    python scripts/check_style.py [--docs DIR] [--style DIR] [--lang ru] [--fix RULE ...]

Prints one line per problem, `file:line: [rule] what is wrong. Fix: what to write`, and
exits 1 if there is any. `--fix RULE` rewrites, in place, the matches of the named rules
whose fix is mechanical (pattern rules with a `replace`, `heading`, `admonition-title`);
review the diff afterwards.
"""

from __future__ import annotations

import argparse
import bisect
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
LANGS = ("en", "zh", "ru")
MASK = "\ufffc"  # stands in for every character the rules must not see

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
HEADING = re.compile(r"^(?P<hashes>#{1,6})[ \t]+(?P<text>.*?)[ \t]*\{[ \t]*#(?P<id>[\w.:-]+)[ \t]*\}[ \t]*$")
ADMONITION = re.compile(
    r'^(?P<lead>[ \t]*(?:!!!|\?\?\?\+?)[ \t]+(?P<kind>[\w-]+)(?:[ \t]+[\w-]+)*)'
    r'(?:[ \t]+"(?P<title>[^"]*)")?[ \t]*$'
)
LIST_ITEM = re.compile(r"^\s*\d+\.\s+\*\*(?P<name>[^*]+)\*\*")
LAB_ALT = re.compile(r'^# %%.*?\balt="(?P<alt>[^"]*)"')

# Non-prose spans inside a line (or across lines, for code spans and inline math),
# masked left to right; the first alternative that matches at a position wins. The
# lookahead lets the engine skip, in one test, the positions no alternative can start at.
INLINE = re.compile(
    r"(?=[`<$\\\]\[h{+:*-])(?:"
    + "|".join(
        [
            r"(?P<bt>`+)(?:(?!(?P=bt)).)+?(?P=bt)",  # inline code, any number of backticks
            r"<!--.*?-->",  # HTML comment
            r"\$\$.+?\$\$",  # display math written inline
            r"(?<![\\$\w])\$(?=\S)(?:\\.|[^$\\])+?(?<=\S)\$(?!\d)",  # inline math $...$
            r"\\\(.+?\\\)",  # inline math \(...\)
            r"</?[A-Za-z][^<>]*>",  # HTML tag with its attributes
            r"\]\((?:[^()\s]|\([^()\s]*\))*(?:[ \t]+\"[^\"]*\")?\)",  # link target ](...)
            r"(?m:^[ \t]*\[[^\]\n]+\]:[ \t]*\S+.*$)",  # reference definition
            r"(?m:^[ \t]*\*\[[^\]\n]+\]:)",  # abbreviation definition: the term
            r"\bhttps?://[^\s<>()\]]+",  # bare URL
            r"\{:?[ \t]*[#.][^}\n]*\}",  # attribute list { #id } { .class }
            r"\+\+[\w+-]+\+\+",  # keys ++ctrl+k++
            r":(?:material|fontawesome|octicons|simple)-[\w-]+:",  # icon shortcode
            r"\[\^[^\]\n]+\]",  # footnote reference
            r"-{1,}8<-{1,}[ \t]+\"[^\"\n]*\"",  # snippet include
        ]
    )
    + ")",
    re.DOTALL,
)


# --------------------------------------------------------------------------- style files


@dataclass
class Rule:
    """A pattern that must not occur in the prose of one language."""

    id: str
    pattern: re.Pattern[str]
    message: str
    fix: str  # what to write instead, shown to the reader
    # re.sub template for --fix where the fix is mechanical; "<upper>" upper-cases the
    # match; a mapping gives the replacement of each matched text
    replace: str | dict[str, str] | None = None
    scope: str = "all"  # all | prose (not in the References section) | references
    allow_before: re.Pattern[str] | None = None  # text just before a match that excuses it
    masked_inside: bool = False  # a match may enclose code or math (quotes around them)


@dataclass
class Style:
    lang: str
    data: dict
    rules: list[Rule] = field(default_factory=list)
    skip: list[re.Pattern[str]] = field(default_factory=list)  # prose spans no rule looks at

    @property
    def sections(self) -> dict[str, str]:
        return self.data.get("sections", {})

    @property
    def short_answer(self) -> str:
        return self.data["admonitions"]["abstract"]


def _rule(spec: dict) -> Rule:
    flags = re.MULTILINE | (re.IGNORECASE if spec.get("ignore_case") else 0)
    allow = spec.get("allow_before")
    return Rule(
        id=spec["id"],
        pattern=re.compile(spec["pattern"], flags),
        message=spec["reason"],
        fix=spec["fix"],
        replace=spec.get("replace"),
        scope=spec.get("scope", "all"),
        allow_before=re.compile(allow + r"\Z") if allow else None,
        masked_inside=bool(spec.get("masked_inside")),
    )


def load_style(path: Path) -> Style:
    """Read style/<lang>.yml and turn its declarations into rules."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    lang = data["lang"]
    style = Style(lang=lang, data=data)
    style.skip = [re.compile(pattern) for pattern in data.get("skip", [])]
    for spec in data.get("rules", []):
        style.rules.append(_rule(spec))
    for term in data.get("terms", []):
        for variant in term.get("forbidden", []):
            spec = {"id": f"term:{term['preferred']}", "fix": term.get("fix", term["preferred"]), **variant}
            spec.setdefault("reason", f"write {term['preferred']!r}")
            style.rules.append(_rule(spec))
    units = data.get("units", {})
    if units.get("forbidden"):
        names = sorted(units["forbidden"], key=len, reverse=True)
        style.rules.append(
            Rule(
                id="units",
                pattern=re.compile("(?:" + "|".join(map(re.escape, names)) + r")(?![\w-])"),
                allow_before=re.compile(r"[\w-]\Z"),
                message=f"units in {lang} prose are written {units['write']}",
                fix=", ".join(units["forbidden"].values()),
                replace=dict(units["forbidden"]),
                scope="prose",
            )
        )
    return style


def load_styles(style_dir: Path, langs: tuple[str, ...] = LANGS) -> dict[str, Style]:
    styles = {}
    for lang in langs:
        path = style_dir / f"{lang}.yml"
        if not path.exists():
            raise SystemExit(f"{path}: missing style file for {lang}")
        style = load_style(path)
        if style.lang != lang:
            raise SystemExit(f"{path}: says lang {style.lang!r}, expected {lang!r}")
        styles[lang] = style
    return styles


# --------------------------------------------------------------------------- prose


@dataclass
class Line:
    """One line of a source file as the rules see it."""

    number: int  # 1-based line in the file
    text: str  # the original text (without a lab's "# " prefix)
    prose: str  # same length as text, every non-prose character replaced by MASK
    offset: int = 0  # columns stripped from the file's line (a lab's "# ")
    section: str = ""  # id of the level-2 section the line is in
    heading: re.Match[str] | None = None
    admonition: re.Match[str] | None = None


NOT_NEWLINE = re.compile(r"[^\n]")


def _mask(text: str) -> str:
    return NOT_NEWLINE.sub(MASK, text)


def _closes(match: re.Match[str] | None, mark: str) -> bool:
    return bool(
        match and match["fence"][0] == mark[0] and len(match["fence"]) >= len(mark)
        and not match["info"].strip()
    )


def prose_lines(raw: list[str], numbers: list[int] | None = None) -> list[Line]:
    """Mask everything in Markdown lines that is not prose.

    `raw` are the Markdown lines; `numbers` their line numbers in the file (defaults to
    1..n). Front matter, fenced code, display math and HTML comment blocks become fully
    masked lines; inline spans are masked by INLINE.
    """
    numbers = numbers or list(range(1, len(raw) + 1))
    keep = [True] * len(raw)
    i = 0
    if raw and raw[0].strip() == "---":
        end = next((j for j in range(1, len(raw)) if raw[j].strip() in ("---", "...")), None)
        if end is not None:
            for j in range(end + 1):
                keep[j] = False
            i = end + 1
    while i < len(raw):
        line = raw[i]
        stripped = line.strip()
        fence = FENCE.match(line)
        if fence:
            keep[i] = False
            i += 1
            while i < len(raw) and not _closes(FENCE.match(raw[i]), fence["fence"]):
                keep[i] = False
                i += 1
            if i < len(raw):
                keep[i] = False
        elif stripped.startswith("$$") and not (stripped.endswith("$$") and len(stripped) > 4):
            keep[i] = False
            i += 1
            while i < len(raw) and not raw[i].strip().endswith("$$"):
                keep[i] = False
                i += 1
            if i < len(raw):
                keep[i] = False
        elif stripped.startswith("<!--") and "-->" not in stripped:
            while i < len(raw) and "-->" not in raw[i]:
                keep[i] = False
                i += 1
            if i < len(raw):
                keep[i] = False
        i += 1
    text = "\n".join(line if k else "" for line, k in zip(raw, keep, strict=True))
    masked = INLINE.sub(lambda m: _mask(m[0]), text).split("\n")
    lines: list[Line] = []
    section = ""
    for n, (line, k, prose) in enumerate(zip(raw, keep, masked, strict=True)):
        entry = Line(number=numbers[n], text=line, prose=prose if k else _mask(line))
        if k:
            heading = HEADING.match(line)
            if heading:
                entry.heading = heading
                if len(heading["hashes"]) <= 2:
                    section = heading["id"]
            else:
                admonition = ADMONITION.match(line)
                if admonition:
                    entry.admonition = admonition
                    # the syntax and the quotes around the title are not prose
                    start, end = admonition.span("title") if admonition["title"] is not None else (0, 0)
                    entry.prose = "".join(
                        c if start <= j < end else MASK for j, c in enumerate(prose)
                    )
        entry.section = section
        lines.append(entry)
    return lines


def lab_lines(text: str) -> list[Line]:
    """Prose lines of a Jupytext percent-format lab: Markdown cells and figure descriptions."""
    raw = text.splitlines()
    md: list[str] = []
    numbers: list[int] = []
    offsets: list[int] = []
    kind = None
    alts: list[Line] = []
    for n, line in enumerate(raw, 1):
        if line.startswith("# %%"):
            kind = "markdown" if "[markdown]" in line or "[md]" in line else "code"
            alt = LAB_ALT.match(line)
            if alt:
                start, end = alt.span("alt")
                prose = "".join(c if start <= j < end else MASK for j, c in enumerate(line))
                alts.append(Line(number=n, text=line, prose=prose))
            md.append("")
        elif kind == "markdown" and (line == "#" or line.startswith("# ")):
            md.append(line[2:])
            offsets.append(2)
            numbers.append(n)
            continue
        else:
            md.append("")
        offsets.append(0)
        numbers.append(n)
    lines = prose_lines(md, numbers)
    for entry, offset in zip(lines, offsets, strict=True):
        entry.offset = offset
    by_number = {entry.number: entry for entry in alts}
    return [by_number.get(entry.number, entry) for entry in lines]


# --------------------------------------------------------------------------- checks


@dataclass
class Problem:
    path: str
    line: int
    rule: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: [{self.rule}] {self.message}. Fix: {self.fix}"


def _in_scope(rule: Rule, line: Line) -> bool:
    if rule.scope == "prose":
        return line.section != "references"
    if rule.scope == "references":
        return line.section == "references"
    return True


@dataclass
class Hit:
    """One match of a pattern rule: the line, the match and its columns in the line."""

    rule: Rule
    line: Line
    match: re.Match[str]
    start: int
    end: int

    @property
    def replacement(self) -> str | None:
        replace = self.rule.replace
        if replace is None or MASK in self.match[0]:
            return None  # a match around code or math is fixed by hand
        if replace == "<upper>":
            return self.match[0].upper()
        if isinstance(replace, dict):
            return replace.get(self.match[0])
        return self.match.expand(replace)


def pattern_hits(style: Style, lines: list[Line]) -> list[Hit]:
    """Every match of the style's pattern rules in the prose of one file.

    Each rule runs once over the whole masked text (fast); a match that touches a masked
    character or crosses a line end is not prose and is ignored.
    """
    text = "\n".join(line.prose for line in lines)
    for pattern in style.skip:
        text = pattern.sub(lambda m: _mask(m[0]), text)
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line.prose) + 1)
    hits: list[Hit] = []
    for rule in style.rules:
        for match in rule.pattern.finditer(text):
            found = match[0]
            if not found or "\n" in found:
                continue
            if MASK in (found if not rule.masked_inside else found[0] + found[-1]):
                continue
            index = bisect.bisect_right(starts, match.start()) - 1
            line = lines[index]
            if not _in_scope(rule, line):
                continue
            # what comes before may start on the previous line (a line break after «версии»)
            context = starts[index - 1] if index else 0
            if rule.allow_before and rule.allow_before.search(text, context, match.start()):
                continue
            hits.append(Hit(rule, line, match, match.start() - starts[index], match.end() - starts[index]))
    return hits


def check_lines(style: Style, rel: str, lines: list[Line], is_lab: bool) -> list[Problem]:
    problems: list[Problem] = []
    sections = style.sections
    for hit in pattern_hits(style, lines):
        found = hit.line.text[hit.start : hit.end]  # as written, code included
        new = hit.replacement
        fix = f"{found!r} -> {new!r}" if new is not None else hit.rule.fix
        problems.append(Problem(rel, hit.line.number, hit.rule.id, f"{found!r}: {hit.rule.message}", fix))
    if is_lab and not any(line.heading and line.heading["id"] == "lab" for line in lines):
        problems.append(
            Problem(rel, 1, "lab-title", "lab title without the id { #lab }",
                    "end the lab's first heading with { #lab }")
        )
    for line in lines:
        heading = line.heading
        if heading:
            level, text, hid = len(heading["hashes"]), heading["text"].strip(), heading["id"]
            if level == 2 and hid in sections and text != sections[hid]:
                problems.append(
                    Problem(rel, line.number, "heading", f"section {{ #{hid} }} is titled {text!r}",
                            f"## {sections[hid]} {{ #{hid} }}")
                )
            prefix = style.data.get("lab_title_prefix")
            if is_lab and level == 1 and prefix and not text.startswith(prefix):
                problems.append(
                    Problem(rel, line.number, "lab-title", f"lab title {text!r}",
                            f"start it with {prefix!r}")
                )
        adm = line.admonition
        if adm and adm["kind"] in style.data.get("admonitions", {}):
            wanted = style.data["admonitions"][adm["kind"]]
            if adm["title"] != wanted:
                problems.append(
                    Problem(rel, line.number, "admonition-title",
                            f"{adm['kind']} box titled {adm['title']!r}", f'!!! {adm["kind"]} "{wanted}"')
                )
    problems.sort(key=lambda p: p.line)
    return problems


def check_home(style: Style, rel: str, lines: list[Line]) -> list[Problem]:
    """The home page's list of page parts names the short-answer title and the section
    headings that question pages use, in their order."""
    home = style.data.get("home")
    if not home:
        return []
    wanted = [style.short_answer] + [style.sections[i] for i in style.data["page_anatomy"]]
    items = [(line, LIST_ITEM.match(line.text)) for line in lines if line.section == home["section"]]
    items = [(line, m["name"].strip()) for line, m in items if m]
    names = [name for _, name in items]
    if names == wanted:
        return []
    differ = [n for n, (a, b) in enumerate(zip(names, wanted, strict=False)) if a != b]
    first = differ[0] if differ else min(len(names), len(wanted))
    number = items[min(first, len(items) - 1)][0].number if items else 1
    return [
        Problem(rel, number, "home-promise",
                f"the list under {{ #{home['section']} }} names {names}",
                f"name the parts pages use, in order: {wanted}")
    ]


def _bare(term: str) -> str:
    """A term without its bracketed abbreviation: 'генерация, дополненная поиском (RAG)'."""
    return re.sub(r"\s*[(（][^()（）]*[)）]$", "", term)


def check_glossary(style: Style, rel: str, text: str) -> list[Problem]:
    """Each key term that has an abbreviation is expanded with its preferred form."""
    problems = []
    entries = {}
    for n, line in enumerate(text.splitlines(), 1):
        match = re.match(r"^\*\[(?P<abbr>[^\]]+)\]:\s*(?P<text>.*)$", line)
        if match:
            entries[match["abbr"]] = (n, match["text"])
    for term in style.data.get("terms", []):
        abbr = term.get("glossary")
        if not abbr:
            continue
        if abbr not in entries:
            wanted = f"*[{abbr}]: {_bare(term['preferred'])}"
            problems.append(Problem(rel, 1, "glossary", f"no entry for {abbr}", f"add {wanted}"))
        elif _bare(term["preferred"]).casefold() not in entries[abbr][1].casefold():
            problems.append(
                Problem(rel, entries[abbr][0], "glossary",
                        f"{abbr} is expanded as {entries[abbr][1]!r}",
                        f"expand it as {_bare(term['preferred'])!r}")
            )
    return problems


def files_of(docs: Path, lang: str) -> list[Path]:
    base = docs / lang
    found = [p for p in base.rglob("*.md")] + [p for p in base.rglob("lab-*.py")]
    glossary = docs / "glossary" / f"{lang}.md"
    if glossary.exists():
        found.append(glossary)
    return sorted(found)


def check_file(style: Style, docs: Path, path: Path) -> list[Problem]:
    rel = path.relative_to(docs.parent).as_posix()
    text = path.read_text(encoding="utf-8")
    is_lab = path.suffix == ".py"
    lines = lab_lines(text) if is_lab else prose_lines(text.splitlines())
    problems = check_lines(style, rel, lines, is_lab)
    if path == docs / style.lang / style.data.get("home", {}).get("page", "index.md"):
        problems += check_home(style, rel, lines)
    if path.parent == docs / "glossary":
        problems += check_glossary(style, rel, text)
    return problems


def check(docs: Path, style_dir: Path, langs: tuple[str, ...] = LANGS) -> list[Problem]:
    """Return every style problem in the given languages."""
    styles = load_styles(style_dir, langs)
    problems: list[Problem] = []
    for lang in langs:
        for path in files_of(docs, lang):
            problems += check_file(styles[lang], docs, path)
    return problems


def fix(docs: Path, style_dir: Path, langs: tuple[str, ...], rule_ids: set[str]) -> int:
    """Apply the replacement of the named rules in place; return how many were made."""
    styles = load_styles(style_dir, langs)
    count = 0
    for lang in langs:
        style = styles[lang]
        for path in files_of(docs, lang):
            text = path.read_text(encoding="utf-8")
            lines = lab_lines(text) if path.suffix == ".py" else prose_lines(text.splitlines())
            edits: dict[int, list[tuple[int, int, str]]] = {}
            for hit in pattern_hits(style, lines):
                new = hit.replacement
                if hit.rule.id in rule_ids and new is not None:
                    offset = hit.line.offset
                    edits.setdefault(hit.line.number, []).append((hit.start + offset, hit.end + offset, new))
            for line in lines:
                offset = line.offset
                heading, adm = line.heading, line.admonition
                if "heading" in rule_ids and heading and len(heading["hashes"]) == 2:
                    wanted = style.sections.get(heading["id"])
                    if wanted is not None and heading["text"].strip() != wanted:
                        start, end = heading.span("text")
                        edits.setdefault(line.number, []).append((start + offset, end + offset, wanted))
                if "admonition-title" in rule_ids and adm and adm["title"] is not None:
                    wanted = style.data.get("admonitions", {}).get(adm["kind"])
                    if wanted is not None and adm["title"] != wanted:
                        start, end = adm.span("title")
                        edits.setdefault(line.number, []).append((start + offset, end + offset, wanted))
            if not edits:
                continue
            file_lines = text.split("\n")
            for number, changes in edits.items():
                current = file_lines[number - 1]
                for start, end, new in sorted(changes, reverse=True):
                    current = current[:start] + new + current[end:]
                    count += 1
                file_lines[number - 1] = current
            path.write_text("\n".join(file_lines), encoding="utf-8")
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, default=ROOT / "docs")
    parser.add_argument("--style", type=Path, default=ROOT / "style")
    parser.add_argument("--lang", action="append", choices=LANGS)
    parser.add_argument("--fix", nargs="+", metavar="RULE", help="rewrite matches of these rules")
    args = parser.parse_args()
    langs = tuple(args.lang) if args.lang else LANGS
    if args.fix:
        print(f"{fix(args.docs, args.style, langs, set(args.fix))} replacements made")
    started = time.process_time()
    problems = check(args.docs, args.style, langs)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} style problems", file=sys.stderr)
        return 1
    files = sum(len(files_of(args.docs, lang)) for lang in langs)
    print(f"style ok: {files} files in {', '.join(langs)} ({time.process_time() - started:.2f} s CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
