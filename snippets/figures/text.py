"""Figure text in the page's language: label tables, number formats, translation of a drawn
figure's strings.

A figure's code asks for its words by key, `L = figure_labels("attention")` and then
`ax.set_xlabel(L["tokens_in_context"])` or `ax.set_title(L("pair_title", pair=50))`.
The words live in `snippets/figures/labels.py`, one table per figure group and language.

Every string a table hands out is remembered with its key and values, so a figure drawn
once can be rendered in every language (`translate`): the labs draw each figure once, and
the build shows each language its own version (see `snippets/figures/render.py`).
"""

from __future__ import annotations

import os
import re
import string
from numbers import Number
from pathlib import Path

from snippets.figures.labels import LABELS

LANGS = ("en", "zh", "ru")
ENV = "FIELD_GUIDE_LANG"  # overrides the language a figure is first drawn in

# Russian: decimal comma, no-break space between thousands and before %, as on the pages.
NBSP = "\u00a0"


def default_lang() -> str:
    """The language figures are first drawn in: $FIELD_GUIDE_LANG, else the docs/<lang>/
    folder the code runs in (a lab opened in Jupyter from docs/ru/ draws in Russian),
    else English."""
    lang = os.environ.get(ENV, "")
    if lang in LANGS:
        return lang
    parts = Path.cwd().parts
    for before, after in zip(parts, parts[1:], strict=False):
        if before == "docs" and after in LANGS:
            return after
    return "en"


def localize_number(text: str, lang: str) -> str:
    """A number formatted the English way ("20,000.5", "30.5%") in `lang`'s convention."""
    if lang != "ru":
        return text
    text = text.translate({ord(","): NBSP, ord("."): ","})
    return re.sub(r"(?<=\d)%", NBSP + "%", text)


def localize_numbers_in(text: str, lang: str) -> str:
    """Decimal points between digits in free text (tick labels) in `lang`'s convention;
    inside mathtext ($...$) a decimal comma is written {,} so that it gets no space."""
    if lang != "ru":
        return text
    comma = "{,}" if text.startswith("$") and text.endswith("$") else ","
    return re.sub(r"(?<=\d)\.(?=\d)", comma, text)


# Latin words that Chinese and Russian figures keep, as the pages do: terms practitioners
# use untranslated, metric and parameter names, function names, index and model names.
KEPT_WORDS = frozenset({
    "token", "batch", "logit", "recall", "hit", "softmax", "log-sum-exp", "log", "exp",
    "nan", "inf", "top-k", "top-p", "nprobe", "Flat", "Llama",
})
_TOKEN = re.compile(r"[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*")
_QUOTED = re.compile(r"“[^”]*”|«[^»]*»|'[^']*'|\"[^\"]*\"")


def english_words(text: str) -> list[str]:
    """The English words in `text` that a Chinese or Russian figure must not keep: Latin
    words of three or more letters, lower-case or capitalised, that are not code (digits,
    underscores), not names (ABC, RoPE, NTK-aware), not quoted and not in KEPT_WORDS."""
    words = []
    for token in _TOKEN.findall(_QUOTED.sub(" ", text)):
        if any(c.isdigit() or c == "_" for c in token) or token in KEPT_WORDS:
            continue
        parts = token.split("-")
        if all(part[:1].isalpha() and part[1:].islower() for part in parts) and len(token) >= 3:
            words.append(token)
    return words


class _Formatter(string.Formatter):
    """str.format with numbers in the language's convention: "{n:,}" gives 20,000 in
    English and 20 000 in Russian, "{x:.1%}" 30.5% and 30,5 %."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def format_field(self, value: object, format_spec: str) -> str:
        text = format(value, format_spec)
        if isinstance(value, Number) and not isinstance(value, bool):
            return localize_number(text, self.lang)
        return text


def render(table: str, key: str, lang: str, values: dict[str, object] | None = None) -> str:
    """The text of `key` in `table` for `lang`, with `values` filled in."""
    try:
        template = LABELS[table][lang][key]
    except KeyError:
        if table not in LABELS:
            raise KeyError(f"no label table {table!r} in snippets/figures/labels.py") from None
        raise KeyError(f"label table {table!r} has no {lang!r} text for {key!r}") from None
    return _Formatter(lang).format(template, **(values or {}))


# Every string handed out -> (table, key, values): how to say it in another language.
_ISSUED: dict[str, tuple[str, str, tuple[tuple[str, object], ...]]] = {}


def _issue(text: str, table: str, key: str, values: dict[str, object]) -> None:
    entry = (table, key, tuple(sorted(values.items())))
    known = _ISSUED.setdefault(text, entry)
    if known != entry and any(
        render(known[0], known[1], lang, dict(known[2])) != render(table, key, lang, values)
        for lang in LANGS
    ):
        raise ValueError(
            f"{text!r} is the text of two labels that other languages say differently: "
            f"{known[:2]} and {entry[:2]}; make one of them distinct"
        )


def translate(text: str, lang: str) -> str | None:
    """`text`, if a label table issued it, in `lang`; None for any other string."""
    entry = _ISSUED.get(text)
    if entry is None:
        return None
    table, key, values = entry
    said = {name: _say(value, lang) for name, value in values}
    return render(table, key, lang, said)


def _say(value: object, lang: str) -> object:
    """A label's value in `lang`: a string from a table (a label inside a label) translated."""
    if isinstance(value, str):
        translated = translate(value, lang)
        return value if translated is None else translated
    return value


class Labels:
    """One table's labels in one language: `L["key"]` or, with values, `L("key", n=3)`."""

    def __init__(self, table: str, lang: str) -> None:
        if table not in LABELS:
            raise KeyError(f"no label table {table!r} in snippets/figures/labels.py")
        if lang not in LANGS:
            raise ValueError(f"unknown language {lang!r}: use one of {LANGS}")
        self.table, self.lang = table, lang

    def __call__(self, key: str, **values: object) -> str:
        text = render(self.table, key, self.lang, values)
        _issue(text, self.table, key, values)
        return text

    def __getitem__(self, key: str) -> str:
        return self(key)

    def __repr__(self) -> str:
        return f"Labels({self.table!r}, {self.lang!r})"


def figure_labels(table: str, lang: str | None = None) -> Labels:
    """The labels of `table` (a key of LABELS) in `lang` (default: `default_lang()`)."""
    return Labels(table, lang or default_lang())
