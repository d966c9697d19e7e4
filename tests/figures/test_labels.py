"""snippets/figures: label tables, number formats, translation of a drawn figure, themed SVG."""

from __future__ import annotations

import re
import string

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from snippets.figures import LANGS, figure_labels, figure_svg, in_language, site_figure, translate  # noqa: E402
from snippets.figures.labels import LABELS  # noqa: E402
from snippets.figures.render import FOREGROUND, plain_power  # noqa: E402
from snippets.figures.text import default_lang, english_words, localize_number  # noqa: E402

CJK = re.compile(r"[\u4e00-\u9fff]")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


@pytest.mark.parametrize("table", sorted(LABELS))
def test_every_language_has_the_same_keys_and_placeholders(table: str) -> None:
    english = LABELS[table]["en"]
    assert set(LABELS[table]) == set(LANGS), f"{table}: languages {sorted(LABELS[table])}"
    for lang in LANGS:
        assert LABELS[table][lang].keys() == english.keys(), f"{table}/{lang}: other keys than en"
        for key, text in LABELS[table][lang].items():
            assert text.strip(), f"{table}/{lang}/{key} is empty"
            assert _fields(text) == _fields(english[key]), f"{table}/{lang}/{key}: other placeholders"


@pytest.mark.parametrize("table", sorted(LABELS))
def test_translations_are_written_in_their_language(table: str) -> None:
    """No English word is left in a Chinese or Russian text (code names, model names, units
    and KEPT_WORDS may stay), and a text with English words is translated."""
    def words(template: str) -> list[str]:
        return english_words(re.sub(r"\{[^{}]*\}", " ", template))  # placeholders are not words

    for key, text in LABELS[table]["en"].items():
        for lang, script in (("zh", CJK), ("ru", CYRILLIC)):
            translated = LABELS[table][lang][key]
            assert words(translated) == [], f"{table}/{lang}/{key}: {translated!r}"
            if words(text):
                assert script.search(translated), f"{table}/{lang}/{key} untranslated: {translated!r}"


def test_english_words_are_told_from_names_and_code() -> None:
    assert english_words("tokens already in the context") == ["tokens", "already", "the", "context"]
    assert english_words("KV-кэш fp16, NTK-aware, d_ff, 3-gram, RoPE, Llama-2-70B, «the»") == []
    assert english_words("Naive attention") == ["Naive", "attention"]


def test_numbers_follow_the_language() -> None:
    assert localize_number("20,000.5", "ru") == "20\u00a0000,5"
    assert localize_number("30.5%", "ru") == "30,5\u00a0%"
    assert localize_number("20,000.5", "zh") == "20,000.5"
    L = figure_labels("vector_search", "ru")
    assert L("title", n=20_000, d=384) == "20\u00a0000 векторов, d = 384: полнота против скорости"
    assert figure_labels("vector_search", "en")("title", n=20_000, d=384).startswith("20,000 vectors")
    assert figure_labels("svm", "ru")("panel", kernel="k", acc=0.605).endswith("0,60")


def test_a_label_says_itself_in_every_language_and_nests() -> None:
    L = figure_labels("batching", "en")
    inner = L["continuous"]
    outer = L("passes_title", title=inner, n=13)
    assert translate(outer, "ru") == "непрерывный батчинг (на уровне итераций): прямых проходов — 13"
    assert translate(outer, "zh") == "连续（迭代级）批处理：13 次前向计算"
    assert translate(outer, "en") == outer
    assert translate("not a label", "ru") is None


def test_unknown_tables_keys_and_languages_fail_loudly() -> None:
    with pytest.raises(KeyError, match="no label table"):
        figure_labels("nope")
    with pytest.raises(KeyError, match="has no"):
        figure_labels("svm", "en")["nope"]
    with pytest.raises(ValueError, match="unknown language"):
        figure_labels("svm", "de")


def test_default_language_comes_from_the_environment_or_the_docs_folder(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("FIELD_GUIDE_LANG", raising=False)
    folder = tmp_path / "docs" / "ru" / "rag"
    folder.mkdir(parents=True)
    monkeypatch.chdir(folder)
    assert default_lang() == "ru"
    monkeypatch.setenv("FIELD_GUIDE_LANG", "zh")
    assert default_lang() == "zh"
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FIELD_GUIDE_LANG")
    assert default_lang() == "en"


def test_log_axis_powers_become_plain_text() -> None:
    assert plain_power(r"$\mathdefault{10^{-45}}$") == "10⁻⁴⁵"
    assert plain_power(r"$\mathdefault{2\times10^{3}}$") == "2×10³"
    assert plain_power(r"$\mathdefault{0}$") == "0"
    assert plain_power("0.5") == "0.5"


@site_figure
def _tiny() -> plt.Figure:
    L = figure_labels("attention", "en")
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([1, 2, 3], [0.5, 1.5, 2.5], label=L["with cache"], color="k")
    ax.bar(["x"], [1.0], color="C0")  # a category axis: its label must not be lost
    ax.set_xlabel(L["tokens_in_context"])
    ax.set_title(L("decode_title", layers=4, d=256))
    ax.legend()
    return fig


def _texts(svg: str) -> list[str]:
    return [t for t in re.findall(r"<text\b[^>]*>([^<]*)</text>", svg)]


def test_one_drawing_renders_in_every_language_and_is_restored() -> None:
    fig = _tiny()
    svgs = {lang: figure_svg(fig, lang) for lang in LANGS}
    assert "上下文中已有的 token 数" in _texts(svgs["zh"])
    assert "токенов уже в контексте" in _texts(svgs["ru"])
    assert "with cache" not in " ".join(_texts(svgs["ru"]))
    ru_ticks = [t for t in _texts(svgs["ru"]) if re.fullmatch(r"[\d,.\u2212]+", t)]
    assert ru_ticks and all("." not in t for t in ru_ticks), ru_ticks  # decimal comma
    assert any("," in t for t in ru_ticks)
    assert fig.axes[0].get_xlabel() == "tokens already in the context"  # restored
    with in_language(fig, "zh"):
        assert fig.axes[0].get_title().startswith("CPU 上")
    assert figure_svg(fig, "en") == svgs["en"]  # reproducible after other languages
    plt.close(fig)


def test_svg_is_text_themed_and_transparent() -> None:
    fig = _tiny()
    svg = figure_svg(fig, "zh")
    plt.close(fig)
    assert "<text" in svg and "<path d" in svg
    assert "#000000" not in svg and "currentColor" in svg  # black became the theme's colour
    assert "prefers-color-scheme: dark" in svg and FOREGROUND["light"] in svg
    assert re.search(r"font-family: 'DejaVu Sans', 'Noto Sans CJK SC'", svg)
    assert "fill: #ffffff" not in svg  # no white background box
    assert "<dc:date>" not in svg


def test_small_text_is_refused() -> None:
    fig, ax = plt.subplots()
    ax.set_title("tiny", fontsize=7)
    with pytest.raises(ValueError, match="12 px"):
        figure_svg(fig, "en")
    plt.close(fig)


def test_a_figure_too_wide_for_the_column_is_refused() -> None:
    """9 pt is 12 px only at natural size: an 11-inch figure is shrunk into 616 px."""
    fig, ax = plt.subplots(figsize=(11, 3))
    ax.set_title("wide", fontsize=10)
    ax.tick_params(labelsize=9)
    with pytest.raises(ValueError, match="at most 6.4 in wide"):
        figure_svg(fig, "en")
    plt.close(fig)
