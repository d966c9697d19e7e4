"""Unit tests of the MkDocs hooks in docs/hooks/."""

from __future__ import annotations

from pathlib import Path

from .modules import load_hook

ROOT = Path(__file__).resolve().parents[2]


i18n = load_hook("i18n")
labs = load_hook("labs")
glossary = load_hook("glossary")


def test_line_breaks_between_chinese_characters_are_removed_outside_pre() -> None:
    html = "<p>第一行，\n    第二行\nEnglish\n中文</p><pre>代码\n保留</pre>"
    assert i18n.join_cjk_lines(html) == "<p>第一行，第二行\nEnglish\n中文</p><pre>代码\n保留</pre>"


def test_lab_headings_get_explicit_or_positional_ids() -> None:
    html = (
        '<h1 id="x">Лаба { #lab }<a class="anchor-link" href="#x">¶</a></h1>'
        '<h2 id="y">Первый шаг<a class="anchor-link" href="#y">¶</a></h2>'
        '<h3 id="z">Детали { #details }<a class="anchor-link" href="#z">¶</a></h3>'
    )
    fixed, tokens = labs._fix_headings(html, "lab-x.py")
    assert [t["id"] for t in tokens] == ["lab", "section-2", "details"]
    assert [t["name"] for t in tokens] == ["Лаба", "Первый шаг", "Детали"]
    assert "{ #" not in fixed and 'id="x"' not in fixed
    nested = labs._nest(tokens)
    assert nested[0]["children"][0]["children"][0]["id"] == "details"


def test_glossary_files_define_the_same_terms_in_every_language() -> None:
    terms = {lang: [t for t, _ in glossary.read_glossary(lang)] for lang in ("en", "zh", "ru")}
    assert terms["en"], "empty glossary"
    assert terms["zh"] == terms["en"], set(terms["zh"]) ^ set(terms["en"])
    assert terms["ru"] == terms["en"], set(terms["ru"]) ^ set(terms["en"])
    for lang, entries in terms.items():
        assert len(entries) == len(set(entries)), f"duplicate term in docs/glossary/{lang}.md"


def test_russian_search_override_is_materials_file_plus_the_patch() -> None:
    import material

    original = (
        Path(material.__file__).parent / "templates/assets/javascripts/lunr/min/lunr.ru.min.js"
    ).read_text(encoding="utf-8")
    ours = (ROOT / "docs/overrides/assets/javascripts/lunr/min/lunr.ru.min.js").read_text("utf-8")
    assert ours.startswith(original), "Material's lunr.ru.min.js changed: re-create the override"
    assert "__fgStemmed" in ours[len(original) :]
