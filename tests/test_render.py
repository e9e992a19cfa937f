"""Unit tests of the Jinja environment: data is inert in Markdown and HTML, links are relative.

Escaped text is checked the way a reader meets it: rendered by Python-Markdown (with the
site's ``tables`` and ``abbr`` extensions) and read back as the visible text of the HTML.
"""

from __future__ import annotations

from html.parser import HTMLParser

import jinja2
import markdown
import pytest
from livingreview import render
from livingreview.citations import find_citations
from livingreview.render import (
    escape_attr,
    escape_data,
    relative_src,
    relative_url,
    trusted,
)
from markupsafe import Markup

#: Markdown extensions of the site that can give data a meaning (tables split on ``|``,
#: ``abbr`` reads ``*[X]: ...`` definitions).
EXTENSIONS = ["tables", "abbr"]


class _Visible(HTMLParser):
    """Collect the visible text and the element names of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def to_html(text: str) -> str:
    """Return the HTML Python-Markdown makes of ``text`` with the site's extensions."""
    return markdown.markdown(text, extensions=EXTENSIONS)


def visible(html_text: str) -> tuple[str, list[str]]:
    """Return the text a browser shows for an HTML fragment, and its element names.

    The parser decodes every character reference once, as a browser does.
    """
    parser = _Visible()
    parser.feed(html_text)
    parser.close()
    return "".join(parser.text), parser.tags


#: Data values that mean something to Markdown, HTML, Jinja or the citation syntax.
SPECIALS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "![x](data:text/html;base64,PHNjcmlwdD4=)",
    "*a* _b_ **c** __d__",
    "a | b | c",
    "`code` and ``more``",
    "@feder2014 and [@feder2014; @mills1998]",
    "{{ 7*7 }} {% raw %}",
    "O'Brien's \"quoted\" text",
    "AT&T &amp; &#39; &lt;b&gt;",
    "# not a heading",
    "~~strike~~ ^sup^ $x$ \\*",
    "*[AN]: not an abbreviation",
    "{: onclick=alert(1) }",
    "<!-- comment -->",
    "<https://example.org>",
]


@pytest.mark.parametrize("value", SPECIALS)
def test_escaped_data_shows_as_the_literal_text(value: str) -> None:
    out = to_html(escape_data(value))
    text, tags = visible(out)
    assert text == value, out
    assert tags == ["p"], out  # no link, emphasis, code, script, image or table


@pytest.mark.parametrize("value", SPECIALS)
def test_escaped_data_in_a_table_cell_keeps_the_row_shape(value: str) -> None:
    table = f"| A | B |\n| --- | --- |\n| {escape_data(value)} | end |\n"
    out = to_html(table)
    assert out.count("<td>") == 2, out
    text, tags = visible(out)
    assert value in text
    assert set(tags) == {"table", "thead", "tbody", "tr", "th", "td"}, out


def test_apostrophes_and_entities_render_once() -> None:
    text, _ = visible(to_html(escape_data("O'Brien & Smith's <study>")))
    assert text == "O'Brien & Smith's <study>"
    assert "&#39;" not in text and "&amp;" not in text and "&#x27;" not in text


def test_text_that_is_already_an_entity_stays_that_text() -> None:
    # Data holding the characters "&#39;" mean those characters, not an apostrophe.
    text, _ = visible(to_html(escape_data("&#39;")))
    assert text == "&#39;"


def test_escaped_data_holds_no_citation() -> None:
    assert find_citations(escape_data("@feder2014 [@feder2014] [see @mills1998, p. 3]")) == []


def test_line_breaks_become_spaces() -> None:
    assert escape_data("one\ntwo\r\nthree") == "one two  three"


def test_none_is_empty_and_numbers_are_text() -> None:
    assert escape_data(None) == ""
    assert escape_data(12) == "12"
    assert escape_data(0.5) == "0.5"


def test_markup_passes_through_unchanged() -> None:
    link = Markup('<a href="x">[1]</a>')
    assert escape_data(link) == '<a href="x">[1]</a>'
    assert escape_data(trusted("[@feder2014]")) == "[@feder2014]"
    assert isinstance(trusted("x"), Markup)


def test_escape_attr_quotes_for_a_double_quoted_attribute() -> None:
    assert escape_attr("a\"b<c>&'") == "a&quot;b&lt;c&gt;&amp;&#x27;"
    assert escape_attr(None) == ""


@pytest.mark.parametrize("value", ["- dash first", "1. numbered first", "    four spaces"])
def test_escaped_data_at_the_start_of_a_line_stays_a_paragraph(value: str) -> None:
    out = to_html(f"Intro.\n\n{escape_data(value)} Primary report.\n")
    text, tags = visible(out)
    assert tags == ["p", "p"], out
    assert value.strip() in text


# --- Templates -----------------------------------------------------------------------------


def _overlay(**templates: str) -> jinja2.Environment:
    """Return the library's environment with templates from a dict instead of files."""
    return render.environment().overlay(loader=jinja2.DictLoader(templates))


def test_every_output_is_escaped_and_markup_is_not() -> None:
    env = _overlay(page="{{ data }} | {{ link }}\n")
    out = env.get_template("page").render(data="<b>*x*</b>", link=Markup("[a](b.md)"))
    assert out == "&lt;b&gt;&#42;x&#42;&lt;/b&gt; | [a](b.md)\n"


def test_attr_filter_escapes_for_an_attribute_without_double_escaping() -> None:
    env = _overlay(page='<span title="{{ t | attr }}">x</span>')
    out = env.get_template("page").render(t='say "hi" & <go>')
    assert out == '<span title="say &quot;hi&quot; &amp; &lt;go&gt;">x</span>'


def test_data_with_template_syntax_is_not_evaluated() -> None:
    out = render.environment().from_string("{{ v }}").render(v="{{ 7*7 }}")
    assert "49" not in out
    assert visible(to_html(out))[0] == "{{ 7*7 }}"


def test_undefined_name_fails() -> None:
    with pytest.raises(jinja2.UndefinedError, match="missing"):
        render.environment().from_string("Value: {{ missing }}").render()


def test_undefined_attribute_fails() -> None:
    with pytest.raises(jinja2.UndefinedError, match="nope"):
        _overlay(page="{{ s.nope }}").get_template("page").render(s=object())


def test_library_template_fails_without_its_context() -> None:
    with pytest.raises(jinja2.UndefinedError):
        render.render("characteristics.md.jinja")


def test_library_template_renders_with_its_context() -> None:
    assert render.render("characteristics.md.jinja", rows=[], caption="c").strip() == (
        "*No included study matches this selection.*"
    )


# --- Links ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "page", "expected"),
    [
        ("references/#a", "studies/x/", "../../references/#a"),
        ("references/#a", "ptsd/", "../references/#a"),
        ("references/#a", "", "references/#a"),  # the home page's URL is ""
        ("references/", "references/", "./"),
        ("studies/x/", "studies/", "x/"),
        ("studies/x/", "", "studies/x/"),
        ("downloads/references.bib", "references/", "../downloads/references.bib"),
        ("downloads/references.bib", "", "downloads/references.bib"),
        ("references/#ref-a.2f.b", "studies/x/", "../../references/#ref-a.2f.b"),
        ("index.html", "a/b.html", "../index.html"),  # non-directory URLs
    ],
)
def test_relative_url(target: str, page: str, expected: str) -> None:
    assert relative_url(target, page) == expected


@pytest.mark.parametrize(
    ("target", "page", "expected"),
    [
        ("studies/x.md", "index.md", "studies/x.md"),
        ("studies/x.md", "ptsd.md", "studies/x.md"),
        ("studies/x.md", "studies/index.md", "x.md"),
        ("studies/y.md", "studies/x.md", "y.md"),
        ("references.md", "studies/x.md", "../references.md"),
        ("a/b/c.md", "a/d/e.md", "../b/c.md"),
    ],
)
def test_relative_src(target: str, page: str, expected: str) -> None:
    assert relative_src(target, page) == expected
