"""Unit tests of the MkDocs hooks in docs/hooks/."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

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


prerender_math = load_hook("prerender_math")


class _Page:
    """The little of mkdocs' Page that the math hook reads."""

    def __init__(self) -> None:
        self.meta: dict = {}
        self.file = type("File", (), {"src_uri": "lab-x.py"})()


def test_lab_math_is_rendered_in_markdown_cells_only() -> None:
    if prerender_math._renderer() is None:
        pytest.fail("Node.js is needed to render math at build time (make setup installs it)")
    cell = '<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown jp-MarkdownOutput">'
    html = (
        f"{cell}<p>Rank-$k$ error <code>$HOME</code> and $$x^2$$</p><div>$y$</div></div>"
        '<div class="jp-OutputArea-output"><pre>costs $5 and $6</pre></div>'
    )
    page = _Page()
    out = prerender_math.on_page_content(html, page, None, None)
    assert out.count('class="arithmatex"') == 3  # $k$, $$x^2$$ and $y$ in the nested div
    assert 'aria-label="k"' in out and 'aria-label="x^2" style="display:block"' in out
    assert "<code>$HOME</code>" in out and "costs $5 and $6" in out
    assert page.meta["math"] is True


def test_font_subsets_keep_every_character_asked_for(tmp_path: Path) -> None:
    from fontTools.ttLib import TTFont

    source = prerender_math.SOURCE_FONTS
    sizes = prerender_math.subset_fonts(source, tmp_path, "xyz(1)∑")
    assert sizes, "no KaTeX fonts found"
    for name, (before, after) in sizes.items():
        assert after < before, name
        full = set(TTFont(source / name).getBestCmap() or {})
        cut = set(TTFont(tmp_path / name).getBestCmap() or {})
        assert cut == full & {ord(c) for c in "xyz(1)∑"}, name


def test_unused_custom_properties_are_pruned() -> None:
    css = (
        '.w{--a: 1px;--b: var(--a);--icon: url(data:image/svg+xml;base64,AAA;x);--unused: red}'
        "@media screen{.w .x{margin:var(--b)}}"
        ".w .y{--only-here: 2px;color:var(--site)}"
    )
    out = labs.prune_variables(css, also_used=".z{padding:var(--icon)}")
    assert "--a: 1px" in out and "--b: var(--a)" in out  # --b is read, and reads --a
    assert "--icon: url(data:image/svg+xml;base64,AAA;x)" in out  # read by another sheet
    assert "--unused" not in out and "--only-here" not in out
    assert "@media screen{.w .x{margin:var(--b)}}" in out and "color:var(--site)" in out


page_weight = load_hook("page_weight")


def test_plain_code_spans_are_unwrapped_and_styled_ones_kept() -> None:
    html = (
        '<div class="language-python highlight"><pre><span></span><code>'
        '<span class="k">def</span><span class="w"> </span><span class="nf">f</span>'
        '<span class="p">(</span><span class="n">x</span><span class="p">)</span></code></pre></div>'
        '<p><span class="n">outside code</span></p>'
    )
    out = page_weight._code(html)
    assert '<span class="k">def</span> <span class="nf">f</span><span class="p">(</span>x' in out
    assert '<p><span class="n">outside code</span></p>' in out


def test_markdown_tables_get_a_wrapper_of_their_own_and_classed_tables_do_not() -> None:
    html = (
        "<p>a</p>\n<table>\n<thead><tr><th>x</th></tr></thead>\n<tbody><tr><td>1</td></tr></tbody>\n</table>"
        '<p>b</p><table>\n<tr><td>2</td></tr></table><table class="dataframe"><tr><td>3</td></tr></table>'
    )
    out = page_weight._tables(html)
    assert out.count('<div class="fg-table"><table>') == 2
    assert out.count("</table></div>") == 2
    assert '<table class="dataframe"><tr><td>3</td></tr></table>' in out and out.endswith("</table>")
    assert out.startswith("<p>a</p>\n<div") and "</div><p>b</p>" in out


def test_code_blocks_get_materials_copy_button_numbered_in_page_order() -> None:
    config = json.dumps({"translations": {"clipboard.copy": 'Copy "this" <now>'}, "features": []})
    html = (
        '<html><body><article><div class="language-python highlight">'
        "<pre><span></span><code>a = 1\n</code></pre></div>"
        '<pre class="mermaid"><code>graph LR</code></pre>'
        '<div class="language-text highlight"><pre><span></span><code>out</code></pre></div></article>'
        f'<script id="__config" type="application/json">{config}</script></body></html>'
    )
    out = page_weight.copy_buttons(html)
    title = 'title="Copy &quot;this&quot; &lt;now&gt;"'
    for n, code in enumerate(["<code>a = 1", "<code>out"]):
        assert (
            f'<pre><span></span><nav class="md-code__nav"><button class="md-code__button" {title} '
            f'data-clipboard-target="#__code_{n} > code" data-md-type="copy"></button></nav>{code}'
        ) in out
    assert out.count("md-code__nav") == 2, "a diagram's <pre> gets no button"
    assert page_weight.copy_buttons(html.replace('id="__config"', 'id="other"')) == html.replace(
        'id="__config"', 'id="other"'), "without Material's config there is no title: no buttons"


def test_compile_hint_is_added_once_and_the_source_map_follows(tmp_path: Path) -> None:
    hints = load_hook("compile_hints")
    bundle = tmp_path / "bundle.0123abcd.min.js"
    source_map = tmp_path / "bundle.0123abcd.min.js.map"
    bundle.write_text('"use strict";(()=>{})();\n//# sourceMappingURL=bundle.0123abcd.min.js.map\n', "utf-8")
    source_map.write_text(json.dumps({"version": 3, "mappings": "AAAA,CAAC"}), encoding="utf-8")
    assert hints.add_hint(bundle) is True
    assert hints.add_hint(bundle) is False, "a second build must not add a second line"
    text = bundle.read_text(encoding="utf-8")
    assert text.startswith('//# allFunctionsCalledOnLoad\n"use strict"')
    assert text.count("allFunctionsCalledOnLoad") == 1
    assert json.loads(source_map.read_text(encoding="utf-8"))["mappings"] == ";AAAA,CAAC"


def test_svg_size_reads_points_and_pixels(tmp_path: Path) -> None:
    figure = tmp_path / "f.svg"
    figure.write_text('<?xml version="1.0"?>\n<svg width="417.6pt" height="260.1pt" viewBox="0 0 1 1">')
    assert page_weight.svg_size(figure) == (557, 347)
    figure.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="24" height="12">')
    assert page_weight.svg_size(figure) == (24, 12)
    figure.write_text('<svg viewBox="0 0 24 24">')
    assert page_weight.svg_size(figure) is None


LAB_WITH_FIGURES = '''# %% [markdown]
# # Lab { #lab }

# %% alt="Line chart: «loss» falls & <stays> low"
plt.plot([1, 2])

# %%
plt.plot([3, 4])
'''


def _with_figures(text: str):  # type: ignore[no-untyped-def]
    """The lab as Jupytext reads it, each code cell given a real PNG output."""
    import matplotlib

    matplotlib.use("Agg")
    import base64
    import io

    import matplotlib.pyplot as plt
    import nbformat

    nb = labs.jupytext.reads(text, fmt="py:percent")
    for number, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        figure = plt.figure(figsize=(1, 1))
        plt.plot([0, number + 1])
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        plt.close(figure)
        data = base64.b64encode(buffer.getvalue()).decode()
        cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": data})]
    return nb


def test_a_figure_without_a_description_is_refused() -> None:
    nb = _with_figures(LAB_WITH_FIGURES)
    with pytest.raises(labs.PluginError, match=r"code cell\(s\) 2 draw a figure without a description"):
        labs.figure_alts(nb, "lab-x.py")


def test_figures_get_the_description_of_the_cell_that_drew_them() -> None:
    from nbconvert import HTMLExporter

    described = LAB_WITH_FIGURES.replace("# %%\nplt.plot([3, 4])", '# %% alt="Second"\nplt.plot([3, 4])')
    nb = _with_figures(described)
    alts = labs.figure_alts(nb, "lab-x.py")
    html, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    placeholder = "No description has been provided for this image"
    assert html.count(placeholder) == 2  # what nbconvert does on its own
    out = labs.describe_figures(html, alts)
    assert placeholder not in out
    images = re.findall(r"<img\b[^>]*>", out)
    assert len(images) == 2
    assert 'alt="Line chart: «loss» falls &amp; &lt;stays&gt; low"' in images[0]
    assert 'alt="Second"' in images[1]
    assert all(image.count(" alt=") == 1 for image in images)


def _svg(word: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="300pt" height="150pt" '
            f'viewBox="0 0 300 150"><text x="10" y="20">{word}</text></svg>')


def test_a_lab_figure_is_shown_in_the_page_language_as_an_svg_file() -> None:
    """The kernel renders each figure in every language (snippets/figures/notebook.py); each
    language's page shows its own SVG, as a file with its size and the cell's description."""
    from types import SimpleNamespace

    import nbformat
    from nbconvert import HTMLExporter

    from snippets.figures.notebook import METADATA_KEY

    nb = labs.jupytext.reads(LAB_WITH_FIGURES.replace("# %%\nplt.plot([3, 4])\n", ""), fmt="py:percent")
    svgs = {"en": _svg("loss"), "zh": _svg("损失"), "ru": _svg("потери")}
    (cell,) = [c for c in nb.cells if c.cell_type == "code"]
    cell.outputs = [nbformat.v4.new_output(
        "display_data", data={"image/svg+xml": svgs["en"], "text/plain": "<Figure>"},
        metadata={"image/svg+xml": {METADATA_KEY: svgs}},
    )]
    assert labs._language("/repo/docs/ru/rag/lab-rag.py") == "ru"
    labs.in_language(nb, labs._language("/repo/docs/ru/rag/lab-rag.py"))
    assert cell.outputs[0]["data"]["image/svg+xml"] == svgs["ru"]
    alts = labs.figure_alts(nb, "lab-x.py")
    html, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    html = labs.describe_figures(html, alts)
    html = labs._externalise_images(html, SimpleNamespace(url="rag/lab-rag/"))
    (image,) = re.findall(r"<img\b[^>]*>", html)
    assert 'width="400" height="200"' in image and 'alt="Line chart: «loss»' in image
    src = re.search(r'src="([^"]+)"', image)[1]
    assert src.startswith("../../assets/lab-figures/") and src.endswith(".svg")
    assert labs._figures[src.removeprefix("../../")] == svgs["ru"].encode()


def test_a_described_cell_that_shows_no_figure_fails_the_build() -> None:
    """Drawing a figure can fail inside the display formatter without failing the cell."""
    nb = labs.jupytext.reads(LAB_WITH_FIGURES, fmt="py:percent")
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    with pytest.raises(labs.PluginError, match=r"code cell\(s\) 1 carry a figure description but showed no"):
        labs.figure_alts(nb, "lab-x.py")
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("alt")]
    cell.outputs = [{"output_type": "error", "ename": "ValueError", "evalue": "figure text of 6.0 pt"}]
    with pytest.raises(labs.PluginError, match=r"1 \(ValueError: figure text of 6.0 pt\) carry"):
        labs.figure_alts(nb, "lab-x.py")


typography = load_hook("typography")


def test_russian_typography_puts_nbsp_in_text_and_nowhere_else() -> None:
    nbsp = "\u00a0"
    html = (
        '<p>Память — как у <strong>одного</strong> — батча: 39,5 % и 20 ГБ\n'
        "из 7 млрд, Hu и\nдр. (2021), т. е. и т. д.; 5 слоёв &amp; — ещё.</p>\n"
        '<p title="a — 5 %"><code>a — 5 %</code> <kbd>x — 1 %</kbd> '
        '<span class="arithmatex">\\(x — 5 %\\)</span> $y — 5 %$</p>\n'
        '<pre><code><span class="n">x</span> — 5 %</code></pre>'
        "<script>let s = 'a — 5 %';</script><svg><text>a — 5 %</text></svg>"
    )
    out = typography.typeset(html, "ru")
    text, rest = out.split("</p>\n", 1)
    assert text == (
        f"<p>Память{nbsp}— как у <strong>одного</strong>{nbsp}— батча: 39,5{nbsp}% и 20{nbsp}ГБ\n"
        f"из 7{nbsp}млрд, Hu и{nbsp}др. (2021), т.{nbsp}е. и{nbsp}т.{nbsp}д.; 5 слоёв &amp;{nbsp}— ещё."
    )
    # attributes, code, kbd, math, pre, script and svg are left byte for byte
    assert rest == html.split("</p>\n", 1)[1]
    # only spaces became U+00A0: every other byte of the page is unchanged
    assert out.replace(nbsp, " ") == html.replace("и\nдр.", "и др.")


def test_typography_rules_come_from_the_style_file_and_leave_en_and_zh_alone() -> None:
    import yaml

    spec = yaml.safe_load((ROOT / "style/ru.yml").read_text(encoding="utf-8"))["typography"]
    assert "ГиБ" in spec["units_after_number"] and "и др." in spec["nbsp_inside"]
    assert typography.typeset("<p>4 ГиБ</p>", "ru") == "<p>4\u00a0ГиБ</p>"
    html = "<p>Memory — 15 % of 20 GB; 显存 — 15 %</p>"
    assert typography.typeset(html, "en") == html
    assert typography.typeset(html, "zh") == html
