"""Typography of the built pages: non-breaking spaces where the language wants them.

The rules come from the `typography` part of `style/<lang>.yml` (the same file that
scripts/check_style.py enforces on the sources). Russian sets U+00A0

* before a dash surrounded by spaces (`слово — слово`: a line never starts with `—`),
* between a number and a following unit or percent sign (`15 %`, `20 ГБ`, `7 млрд`),
* inside fixed phrases (`и др.`, `т. е.`, `и т. д.`).

English and Chinese declare no rules, and the hook leaves their pages alone: Chinese
text has no spaces to protect, and its full-width punctuation is written in the source
(the checker enforces it), which is safer than guessing it at build time.

Why the rendered HTML and not the Markdown: in Markdown the same characters can be code,
math, a link target, an attribute list or an HTML attribute, and labs reach the page
through mkdocs-jupyter without passing through `on_page_markdown` at all. In the HTML the
parser tells text from markup. The hook walks the page with the standard library's
`html.parser` (a real, event-based HTML parser) and rewrites only the characters of text
nodes, in place: every byte outside a changed text node stays as it was, so the markup
other hooks produced (KaTeX, figures, Pygments) is not re-serialised. A tree library
(BeautifulSoup) would re-serialise the whole page and costs several times more per page.

Never touched: anything inside `code`, `pre`, `kbd`, `samp`, `script`, `style`,
`textarea`, `svg`, `math`, an element whose class marks math or diagrams (`katex`,
`arithmatex`, `mermaid`), attributes, and the `$...$` and `\\(...\\)` of formulas.
It runs before prerender_math (mkdocs.yml lists it first): formulas are then still one
`<span class="arithmatex">` or `$...$` in a lab's text, both skipped, instead of KaTeX's
thousands of spans, which would make parsing several times slower.
"""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import yaml
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

STYLE_DIR = Path(__file__).resolve().parents[2] / "style"
NBSP = "\u00a0"
SKIP_TAGS = {"code", "pre", "kbd", "samp", "script", "style", "textarea", "svg", "math"}
SKIP_CLASSES = {"katex", "katex-display", "arithmatex", "mermaid"}
# Elements that flow inside a line of text: text after one of them continues the line.
INLINE_TAGS = {
    "a", "abbr", "b", "bdi", "cite", "code", "data", "dfn", "em", "i", "kbd", "mark", "q",
    "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var", "del", "ins",
}
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
             "source", "track", "wbr"}
# Math written in text that the browser will render (no Node.js at build time).
# (the same $...$ pattern prerender_math uses for labs, plus \(...\) and \[...\]).
RAW_MATH = re.compile(r"\$\$.+?\$\$|\$[^$]+?\$|\\\(.+?\\\)|\\\[.+?\\\]", re.DOTALL)
RAW_BLOCK = re.compile(r"(<(pre|script|style|textarea)\b[^>]*>)(.*?)(</\2\s*>)", re.DOTALL | re.IGNORECASE)
LINE_RUN = re.compile(r"[^\n]+")
DIGIT = re.compile(r"\d")
SPACE = "[ \\t\\n\\r]+"
SPACE_OR_NBSP = "[ \\t\\n\\r\\u00a0]+"


class Rules:
    """Compiled typography rules of one language.

    Each rule is (literal, pattern, replacement): the pattern runs only on text that
    contains the literal, which keeps the hook cheap on the many short text nodes.
    """

    def __init__(self, spec: dict) -> None:
        self.dash = bool(spec.get("nbsp_before_dash"))
        self.leading_dash = re.compile(rf"^{SPACE}(?=—)")
        self.rules: list[tuple[str, re.Pattern[str], object]] = []
        if self.dash:
            self.rules.append(("—", re.compile(rf"(?<=\S){SPACE}(?=—)"), NBSP))
        units = spec.get("units_after_number") or []
        if spec.get("nbsp_number_unit") and units:
            names = "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True))
            # the unit ends the word: "5 с" but not "5 слоёв"; "%" and "тыс." end themselves
            self.units = re.compile(rf"(?<=\d){SPACE}(?=(?:{names})(?!\w))")
            self.rules.append(("", self.units, NBSP))
        # longest first, so that "и т. д." is joined before its part "т. д."
        for phrase in sorted(spec.get("nbsp_inside") or [], key=len, reverse=True):
            words = phrase.split()
            pattern = re.compile(rf"(?<!\w){SPACE_OR_NBSP.join(re.escape(w) for w in words)}")
            self.rules.append((words[-1], pattern, lambda m: NBSP.join(m[0].split())))

    def __bool__(self) -> bool:
        return bool(self.rules)

    def apply(self, text: str) -> str:
        has_digit = DIGIT.search(text) is not None
        for literal, pattern, replacement in self.rules:
            if (literal in text) if literal else has_digit:
                text = pattern.sub(replacement, text)
        return text


@cache
def rules_for(lang: str) -> Rules:
    path = STYLE_DIR / f"{lang}.yml"
    if not path.exists():
        raise PluginError(f"{path}: no style file for language {lang!r}")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return Rules(data.get("typography") or {})


class _Walker(HTMLParser):
    """Collect (start, end, new text) for every run of text the rules change.

    A run is the text between two tags, entity references included (`a &amp; b — c`), so
    that a rule sees `$a &lt; b$` as one piece of math, as the math renderer does.
    """

    def __init__(self, html: str, rules: Rules) -> None:
        super().__init__(convert_charrefs=False)
        self.html = html
        self.rules = rules
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", html)]
        self.skip_tag: str | None = None
        self.skip_depth = 0
        self.after_inline = False  # the run follows inline content on the same line
        self.run_start: int | None = None
        self.run_end = 0
        self.edits: list[tuple[int, int, str]] = []

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def _text(self, length: int) -> None:
        if self.skip_tag is not None:
            return
        start = self._offset()
        if self.run_start is None:
            self.run_start = start
        self.run_end = start + length

    def _flush(self) -> None:
        if self.run_start is None:
            return
        text = self.html[self.run_start : self.run_end]
        new = self._typeset(text)
        if new != text:
            self.edits.append((self.run_start, self.run_end, new))
        self.after_inline = not text[-1].isspace() or self.after_inline and text.isspace()
        self.run_start = None

    def handle_data(self, data: str) -> None:
        self._text(len(data))

    def handle_entityref(self, name: str) -> None:
        self._text(len(name) + 2 if self.html.startswith(f"&{name};", self._offset()) else len(name) + 1)

    def handle_charref(self, name: str) -> None:
        self._text(len(name) + 3 if self.html.startswith(f"&#{name};", self._offset()) else len(name) + 2)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._flush()
        if self.skip_tag is not None:
            if tag == self.skip_tag:
                self.skip_depth += 1
            return
        classes = set((dict(attrs).get("class") or "").split())
        if (tag in SKIP_TAGS or classes & SKIP_CLASSES) and tag not in VOID_TAGS:
            self.skip_tag, self.skip_depth = tag, 1
        self.after_inline = tag in INLINE_TAGS

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._flush()
        if self.skip_tag is None:
            self.after_inline = tag in INLINE_TAGS

    def handle_endtag(self, tag: str) -> None:
        self._flush()
        if self.skip_tag is not None:
            if tag != self.skip_tag:
                return
            self.skip_depth -= 1
            if self.skip_depth:
                return
            self.skip_tag = None
        self.after_inline = tag in INLINE_TAGS

    def handle_comment(self, data: str) -> None:
        self._flush()

    def close(self) -> None:
        super().close()
        self._flush()

    def _typeset(self, text: str) -> str:
        if text.isspace():
            return text
        parts = RAW_MATH.split(text) if "$" in text or "\\" in text else [text]
        math = RAW_MATH.findall(text) if len(parts) > 1 else []
        out = []
        for n, part in enumerate(parts):
            if n == 0 and self.after_inline and self.rules.dash:
                part = self.rules.leading_dash.sub(NBSP, part, count=1)
            out.append(self.rules.apply(part))
            if n < len(math):
                out.append(math[n])
        return "".join(out)


def _spaces(match: re.Match[str]) -> str:
    return " " * len(match[0])


def typeset(html: str, lang: str) -> str:
    """Apply the typography rules of `lang` to the text of an HTML fragment."""
    rules = rules_for(lang)
    if not rules:
        return html
    # The parser never needs the inside of <pre>, <script>, <style> or <textarea> (they
    # do not nest and are skipped anyway): blank it, keeping every offset, so that code
    # blocks full of Pygments spans cost one text event each.
    blanked = RAW_BLOCK.sub(lambda m: m[1] + LINE_RUN.sub(_spaces, m[3]) + m[4], html)
    walker = _Walker(blanked, rules)
    walker.feed(blanked)
    walker.close()
    if not walker.edits:
        return html
    out, last = [], 0
    for start, end, new in walker.edits:
        out += [html[last:start], new]
        last = end
    out.append(html[last:])
    return "".join(out)


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    return typeset(html, config.theme["language"])
