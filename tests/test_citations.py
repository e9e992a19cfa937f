"""Unit tests of the Pandoc citation parser: syntax, keys, locators, protected text, positions."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from livingreview.citations import (
    LOCATOR_TERMS,
    Citation,
    CiteItem,
    cited_keys,
    find_citations,
    replace_citations,
)

FIXTURES = Path(__file__).parent / "fixtures" / "citations"


def _one(markdown: str) -> Citation:
    """Return the only citation in ``markdown``."""
    found = find_citations(markdown)
    assert len(found) == 1, found
    return found[0]


def _source(markdown: str) -> list[str]:
    """Return the source text of every citation."""
    return [markdown[c.start : c.end] for c in find_citations(markdown)]


# -- bracketed citations --------------------------------------------------------------------


def test_bracketed_single_key() -> None:
    citation = _one("Ketamine helps [@Feder2014].")
    assert citation.items == (CiteItem("Feder2014"),)
    assert not citation.narrative
    assert (citation.start, citation.end) == (15, 27)


def test_bracketed_several_keys() -> None:
    citation = _one("[@a; @b;@c]")
    assert citation.keys == ("a", "b", "c")
    assert citation.items == (CiteItem("a"), CiteItem("b"), CiteItem("c"))


def test_bracketed_prefix_and_locator() -> None:
    assert _one("[see @key, p. 12]").items == (
        CiteItem("key", prefix="see", locator="12", label="page"),
    )


def test_bracketed_items_with_prefixes_locators_and_suffixes() -> None:
    assert _one("[@key, pp. 33-35; also @b, chap. 1]").items == (
        CiteItem("key", locator="33-35", label="page"),
        CiteItem("b", prefix="also", locator="1", label="chapter"),
    )


def test_bracketed_locator_without_comma() -> None:
    assert _one("[@key p. 12]").items == (CiteItem("key", locator="12", label="page"),)


def test_bracketed_suffix_after_locator_keeps_its_comma() -> None:
    assert _one("[see, e.g., @key, p. 12, emphasis added]").items == (
        CiteItem("key", prefix="see, e.g.,", locator="12", label="page", suffix=", emphasis added"),
    )


def test_bracketed_suffix_without_locator() -> None:
    assert _one("[@key, and references therein]").items == (
        CiteItem("key", suffix=", and references therein"),
    )
    assert _one("[@key and passim]").items == (CiteItem("key", suffix="and passim"),)


def test_bracketed_suppress_author() -> None:
    assert _one("Feder et al. [-@Feder2014] found").items == (
        CiteItem("Feder2014", suppress_author=True),
    )
    assert _one("[see -@a, p. 4]").items == (
        CiteItem("a", prefix="see", locator="4", label="page", suppress_author=True),
    )


def test_bracketed_citation_spanning_lines() -> None:
    citation = _one("as shown [see\n@a, p. 4;\n  also @b].")
    assert citation.items == (
        CiteItem("a", prefix="see", locator="4", label="page"),
        CiteItem("b", prefix="also"),
    )


def test_bracketed_item_without_key_is_text_and_its_keys_are_narrative() -> None:
    # As in Pandoc, "[@a; no key]" is not a bracketed citation; "@a" inside is in-text.
    citation = _one("[@a; and also]")
    assert citation.narrative
    assert citation.keys == ("a",)


def test_bracketed_second_key_without_semicolon_starts_an_item() -> None:
    assert _one("[@a @b]").keys == ("a", "b")


def test_bracketed_nested_brackets_cite_only_the_inner_group() -> None:
    assert _source("[see [@a] here]") == ["[@a]"]


def test_bracketed_blank_line_ends_the_bracket() -> None:
    assert [c.narrative for c in find_citations("[see @a\n\nmore]")] == [True]


def test_bracket_followed_by_link_or_reference_is_not_a_citation() -> None:
    assert find_citations("[@key](https://example.org)") == []
    assert find_citations("[@key][ref] and [@key][]") == []
    assert find_citations("![@key](img.png)") == []


def test_link_text_and_destination_are_not_citations() -> None:
    text = '[see @a](https://mastodon.social/@user "by @b") and [x](<a b/@c>)'
    assert find_citations(text) == []


def test_footnote_reference_is_not_a_citation() -> None:
    assert find_citations("text[^note] and [^@a]") == []


# -- narrative citations --------------------------------------------------------------------


def test_narrative_key() -> None:
    citation = _one("As @Feder2014 showed")
    assert citation.narrative
    assert citation.items == (CiteItem("Feder2014"),)
    assert (citation.start, citation.end, citation.column) == (3, 13, 4)


def test_narrative_with_locator() -> None:
    citation = _one("@key [p. 33] says")
    assert citation.narrative
    assert citation.items == (CiteItem("key", locator="33", label="page"),)
    assert (citation.start, citation.end) == (0, 12)


def test_narrative_with_locator_on_next_line() -> None:
    citation = _one("@key\n[chap. 2]")
    assert citation.items == (CiteItem("key", locator="2", label="chapter"),)


def test_narrative_with_locator_and_more_items() -> None:
    assert _one("@a [p. 3; see @b, fig. 2]").items == (
        CiteItem("a", locator="3", label="page"),
        CiteItem("b", prefix="see", locator="2", label="figure"),
    )


def test_narrative_followed_by_a_citation_is_two_citations() -> None:
    found = find_citations("@a [see @b]")
    assert [(c.narrative, c.keys) for c in found] == [(True, ("a",)), (False, ("b",))]


def test_narrative_not_followed_by_link() -> None:
    found = find_citations("@a [the site](https://x.org)")
    assert [(c.keys, c.end) for c in found] == [(("a",), 2)]


def test_narrative_suppressed_author() -> None:
    citation = _one("in -@a we")
    assert not citation.narrative
    assert citation.items == (CiteItem("a", suppress_author=True),)
    assert citation.start == 3


def test_narrative_after_hyphenated_word_keeps_author() -> None:
    citation = _one("well-@a")
    assert citation.items == (CiteItem("a"),)
    assert citation.start == 5


# -- keys -----------------------------------------------------------------------------------


@pytest.mark.parametrize("punct", list(":.#$%&-+?<>~/"))
def test_key_with_internal_punctuation(punct: str) -> None:
    key = f"doe{punct}2020a"
    assert cited_keys(f"See [@{key}] and @{key}.") == [key]


@pytest.mark.parametrize("key", ["Feickert:2021ajf", "ATLAS:2019abc", "doe-2020a", "_x1", "9lives"])
def test_key_real_world(key: str) -> None:
    assert cited_keys(f"[@{key}]; @{key}") == [key]


@pytest.mark.parametrize("after", [*".,;:!?)'\"", "...", "--", "'s", ":\n"])
def test_key_trailing_punctuation_is_not_part_of_key(after: str) -> None:
    citation = _one(f"as @doe2020{after} said")
    assert citation.keys == ("doe2020",)
    assert citation.end == 3 + len("@doe2020")


def test_key_url_like() -> None:
    # Pandoc keeps ":" and "/" before "/" so that URL-like keys work.
    assert cited_keys("[@https://doi.org/10.1/x]") == ["https://doi.org/10.1/x"]


def test_key_unicode() -> None:
    assert cited_keys("[@Müller2019; @Zoë_2020]") == ["Müller2019", "Zoë_2020"]


def test_curly_brace_key() -> None:
    assert cited_keys("[@{key with anything}] and @{https://x.org/a?b=c&d}.") == [
        "key with anything",
        "https://x.org/a?b=c&d",
    ]
    assert _one("@{a{b}c} [p. 2]").items == (CiteItem("a{b}c", locator="2", label="page"),)


def test_curly_brace_key_must_close_on_its_line() -> None:
    assert find_citations("@{a\nb}") == []
    assert find_citations("@{}") == []


@pytest.mark.parametrize("text", ["@ key", "@.x", "@-x", "@@", "@", "a @ b", "@*"])
def test_at_followed_by_a_non_key_character(text: str) -> None:
    assert find_citations(text) == []


def test_double_at_cites_the_second() -> None:
    assert cited_keys("@@key") == ["key"]


# -- locators -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "label"),
    [(term, label) for label, terms in LOCATOR_TERMS.items() for term in terms],
)
def test_locator_term_maps_to_csl_label(term: str, label: str) -> None:
    assert _one(f"[@a, {term} 12]").items == (CiteItem("a", locator="12", label=label),)


@pytest.mark.parametrize(
    ("text", "label", "locator"),
    [
        ("P. 7", "page", "7"),
        ("Pp. 7-9", "page", "7-9"),
        ("Chapter 3", "chapter", "3"),
        ("p.12", "page", "12"),
        ("§3", "section", "3"),
        ("sec. 3.2.1", "section", "3.2.1"),
        ("fig. 2a", "figure", "2a"),
        ("pp. 33-35, 38-39", "page", "33-35, 38-39"),
        ("pp. 33–35", "page", "33–35"),
        ("pp. iv, vi-xi", "page", "iv, vi-xi"),
        ("chap. XII", "chapter", "XII"),
        ("para. 34(1)(a)", "paragraph", "34(1)(a)"),
        ("vol. 2:14", "volume", "2:14"),
    ],
)
def test_locator_forms(text: str, label: str, locator: str) -> None:
    item = _one(f"[@a, {text}]").items[0]
    assert (item.label, item.locator, item.suffix) == (label, locator, "")


@pytest.mark.parametrize("text", ["12", "33-35", "e12"])
def test_locator_number_without_label_is_a_page(text: str) -> None:
    assert _one(f"[@a, {text}]").items == (CiteItem("a", locator=text, label="page"),)
    assert _one(f"[@a {text}]").items == (CiteItem("a", locator=text, label="page"),)


@pytest.mark.parametrize(
    ("text", "locator", "suffix"),
    [
        ("pp. 33-35, 38-39 and passim", "33-35, 38-39", "and passim"),
        ("p. 12, emphasis added", "12", ", emphasis added"),
        ("table 2 CI", "2", "CI"),
        ("p. 5 MD reported", "5", "MD reported"),
        ("vol. 2, p. 5", "2", ", p. 5"),
    ],
)
def test_locator_stops_before_the_suffix(text: str, locator: str, suffix: str) -> None:
    item = _one(f"[@a, {text}]").items[0]
    assert (item.locator, item.suffix) == (locator, suffix)


@pytest.mark.parametrize("text", ["ch. 3", "in press", "see fig", "p. a"])
def test_locator_absent_when_not_a_locator(text: str) -> None:
    item = _one(f"[@a, {text}]").items[0]
    assert (item.label, item.locator, item.suffix) == ("", "", f", {text}")


def test_locator_in_braces() -> None:
    assert _one("[@smith{ii, A, D-Z}, with a suffix]").items == (
        CiteItem("smith", locator="ii, A, D-Z", label="page", suffix=", with a suffix"),
    )
    assert _one("[@a, {pp. iv, vi-xi, (xv)-(xvii)} with suffix]").items == (
        CiteItem("a", locator="iv, vi-xi, (xv)-(xvii)", label="page", suffix="with suffix"),
    )


def test_empty_braces_mean_no_locator() -> None:
    assert _one("[@smith{}, 99 years later]").items == (
        CiteItem("smith", suffix=", 99 years later"),
    )


def test_locator_whitespace_is_collapsed() -> None:
    assert _one("[@a,\n   pp.\u00a033-35]").items == (CiteItem("a", locator="33-35", label="page"),)


# -- text that is not a citation ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "`@x`",
        "`[@x]`",
        "`` `@x` ``",
        "```@x```",
        "`a\n@x`",
        "x `` [@a; `@b`] `` y",
    ],
)
def test_code_span(text: str) -> None:
    assert find_citations(text) == []


def test_code_span_unmatched_backticks_are_text() -> None:
    assert cited_keys("a ` @x and `` @y") == ["x", "y"]


def test_code_span_does_not_cross_a_blank_line() -> None:
    assert cited_keys("`a\n\n@x `b`") == ["x"]


def test_code_span_escaped_opening_backtick() -> None:
    # "\`" is a literal backtick, so the span is `@x` ... and "@y" is outside it.
    assert cited_keys(r"\`@y `@x`") == ["y"]


@pytest.mark.parametrize(
    "text",
    [
        "```\n@x\n```",
        "~~~\n@x\n~~~",
        "```python title='a.py'\n@decorator\n```",
        "~~~ {.md}\n[@x]\n~~~",
        "   ```\n@x\n   ```",
        "````\n```\n@x\n```\n````",
        "```\n@x\n",
        "> ```\n> @x\n> ```",
        "- item\n\n    ```\n    @x\n    ```",
        "!!! note\n\n    ```\n    @x\n    ```",
    ],
)
def test_fenced_code_block(text: str) -> None:
    assert find_citations(text) == []


def test_fenced_code_block_closes_only_on_a_long_enough_fence() -> None:
    assert cited_keys("````\n```\n@x\n````\n@y") == ["y"]
    assert cited_keys("```\n~~~\n@x\n```\n@y") == ["y"]


def test_fenced_code_with_backtick_info_string_is_not_a_fence() -> None:
    # "``` a ` b" cannot open a fence (CommonMark); it is inline text.
    assert cited_keys("``` a ` b\n@y") == ["y"]


@pytest.mark.parametrize(
    "text",
    [
        "    @x",
        "\t@x",
        "text\n\n    @x\n\n    [@y]",
        "- item\n\n        @x",
        "!!! note\n\n        @x",
    ],
)
def test_indented_code_block(text: str) -> None:
    assert find_citations(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "text\n    @x",
        "- item\n\n    @x",
        "1. item\n\n    @x",
        "!!! note\n\n    @x",
        '??? tip "More"\n    @x',
        '=== "Tab"\n\n    @x',
        "- item\n    - sub\n\n        @x",
    ],
)
def test_indented_text_that_is_not_code(text: str) -> None:
    assert cited_keys(text) == ["x"]


def test_indented_code_block_ends_at_less_indented_text() -> None:
    assert cited_keys("    @x\n\n    @y\n@z") == ["z"]


@pytest.mark.parametrize(
    "text",
    [
        "<!-- @x -->",
        "<!--\n[@x]\n\n@y\n-->",
        "text <!-- [@x] --> more",
        "<!-- `@x` -->",
        "<!--\n```\n-->\n",
        "  <!-- @x\n\n@y -->",
        "> <!-- @x -->",
    ],
)
def test_html_comment(text: str) -> None:
    assert find_citations(text) == []


def test_html_comment_empty_forms_end_at_once() -> None:
    assert cited_keys("<!-->@x <!---> @y <!----> @z") == ["x", "y", "z"]


def test_html_comment_in_code_is_code() -> None:
    assert cited_keys("`<!--` @x `-->`") == ["x"]
    assert cited_keys("```\n<!--\n```\n@x -->") == ["x"]


def test_html_comment_text_after_it_is_read() -> None:
    assert cited_keys("<!-- hidden @a --> shown @b") == ["b"]


def test_html_comment_unclosed_inline_is_text() -> None:
    assert cited_keys("a <!-- b @x") == ["x"]


def test_html_raw_elements() -> None:
    assert find_citations("<pre>\n@x\n</pre>") == []
    assert find_citations("a <code>@x</code> b <kbd>@y</kbd>") == []
    assert cited_keys('<span class="@x">@y</span>') == ["y"]


@pytest.mark.parametrize(
    "text",
    [
        "someone@example.org",
        "[someone@example.org]",
        "<someone@example.org>",
        "mailto:someone@example.org",
        "x_@y",
        "et al.@x",
    ],
)
def test_email_and_at_after_a_word(text: str) -> None:
    assert find_citations(text) == []


@pytest.mark.parametrize("text", [r"\@key", r"[\@key]", r"[see \@a, p. 3]"])
def test_escaped_at(text: str) -> None:
    assert find_citations(text) == []


def test_escaped_bracket_leaves_an_in_text_citation() -> None:
    # The bracket is escaped, the key is not: an in-text citation, as in Pandoc.
    citation = _one(r"\[@key]")
    assert (citation.narrative, citation.keys, citation.start) == (True, ("key",), 2)


def test_escaped_hyphen_does_not_suppress_the_author() -> None:
    citation = _one(r"\-@key")
    assert (citation.narrative, citation.items, citation.start) == (True, (CiteItem("key"),), 2)


def test_escaped_backslash_before_key() -> None:
    assert cited_keys(r"\\@key") == ["key"]


@pytest.mark.parametrize(
    "text",
    [
        "<https://mastodon.social/@user>",
        "https://mastodon.social/@user",
        "(see https://medium.com/@user/post)",
        "www.npmjs.com/package/@scope/name",
        "[site]: https://mastodon.social/@user",
        "[@site]: https://example.org/x",
    ],
)
def test_links_and_urls(text: str) -> None:
    assert find_citations(text) == []


def test_front_matter_is_not_markdown() -> None:
    text = '---\ntitle: x\nhandle: "@someone"\n---\n\n@key'
    citation = _one(text)
    assert (citation.keys, citation.line, citation.column) == (("key",), 6, 1)


def test_leading_thematic_break_is_not_front_matter() -> None:
    assert cited_keys("---\n\n@a\n\n---\n") == ["a"]


def test_table_cell() -> None:
    text = "| Study | Source |\n|---|---|\n| a | [@key] |\n| b | @other [p. 2] |\n"
    found = find_citations(text)
    assert [(c.keys, c.line, c.column, c.narrative) for c in found] == [
        (("key",), 3, 7, False),
        (("other",), 4, 7, True),
    ]


# -- positions ------------------------------------------------------------------------------


def test_line_and_column() -> None:
    text = "First [@a].\nSecond line @b\n  [see @c]"
    assert [(c.keys[0], c.line, c.column) for c in find_citations(text)] == [
        ("a", 1, 7),
        ("b", 2, 13),
        ("c", 3, 3),
    ]


def test_line_and_column_after_multiline_code_blocks() -> None:
    text = (
        "Intro @a\n"
        "\n"
        "```python\n"
        "@decorator\n"
        "def f():\n"
        "    return '[@x]'\n"
        "```\n"
        "\n"
        "    @indented\n"
        "    code\n"
        "\n"
        "<!--\n@hidden\n-->\n"
        "After `span\n@y` and [@b]\n"
        "  last @c\n"
    )
    assert [(c.keys[0], c.line, c.column) for c in find_citations(text)] == [
        ("a", 1, 7),
        ("b", 16, 9),
        ("c", 17, 8),
    ]


def test_line_and_column_with_crlf() -> None:
    text = "a\r\n```\r\n@x\r\n```\r\n\r\n  [@b]\r\n"
    assert [(c.keys[0], c.line, c.column) for c in find_citations(text)] == [("b", 6, 3)]


def test_positions_slice_the_citation() -> None:
    text = "x [see @a, p. 3] y -@b z @c [ch. 2] w"
    assert _source(text) == ["[see @a, p. 3]", "-@b", "@c [ch. 2]"]


# -- replace and keys -----------------------------------------------------------------------


def test_replace_citations_round_trip_keeps_other_text() -> None:
    text = (FIXTURES / "mkdocs_page.md").read_text(encoding="utf-8")
    assert replace_citations(text, lambda c: text[c.start : c.end]) == text
    marked = replace_citations(text, lambda c: "\x02")
    # Splitting on the marker gives back exactly the text between citations.
    pieces = marked.split("\x02")
    found = find_citations(text)
    assert len(pieces) == len(found) + 1
    bounds = [0, *[p for c in found for p in (c.start, c.end)], len(text)]
    expected = [text[bounds[i] : bounds[i + 1]] for i in range(0, len(bounds), 2)]
    assert pieces == expected


def test_replace_citations_renders_in_order() -> None:
    text = "A [@a; @b], B @c [p. 2]\n`@d` C."
    rendered = replace_citations(text, lambda c: "<" + ",".join(c.keys) + ">")
    assert rendered == "A <a,b>, B <c>\n`@d` C."


def test_cited_keys_in_order_without_duplicates() -> None:
    assert cited_keys("[@b; @a] then @b, @c [p. 1; @a] and [-@d]") == ["b", "a", "c", "d"]


def test_mkdocs_page_fixture() -> None:
    text = (FIXTURES / "mkdocs_page.md").read_text(encoding="utf-8")
    found = find_citations(text)
    assert cited_keys(text) == [
        "Feder2014",
        "Feder2021",
        "ATLAS:2019abc",
        "doe-2020a",
        "Feickert:2021ajf",
    ]
    first = found[0]
    assert (first.line, first.column, first.narrative) == (8, 31, True)
    assert first.items == (CiteItem("Feder2014", locator="3", label="page"),)
    assert found[1].items == (
        CiteItem("Feder2021", prefix="see", locator="33-35", label="page"),
        CiteItem("ATLAS:2019abc", prefix="also", locator="1", label="chapter"),
    )
    assert found[2].items == (CiteItem("Feder2014", suppress_author=True),)
    assert found[-1].items == (CiteItem("Feder2014", locator="2", label="table"),)
    for citation in found:
        line = text.split("\n")[citation.line - 1]
        assert line[citation.column - 1] in "[@-"


_FUZZ_TOKENS = [
    *("@a", "@b.c", "-@d", "@{x y}", "@", "me@x.org", "http://x/", "[", "]", "[^1]", "](u)"),
    *(";", ",", " ", "\n", "\n\n", "\r\n", "    ", "\t", "\\", "(", ")", "{", "}", "<", ">"),
    *("`", "``", "```", "~~~", "<!--", "-->", "<code>", "</code>", "- ", "1. ", "> ", "#", "|"),
    *("!!! note\n", "---\n", "p. 3", "pp. 1-2", "iv", "CI", "see", "é"),
]


def test_fuzz_citations_are_ordered_and_positioned() -> None:
    rng = random.Random(20240611)
    for _ in range(3000):
        text = "".join(rng.choice(_FUZZ_TOKENS) for _ in range(rng.randint(1, 40)))
        found = find_citations(text)
        previous_end = 0
        for citation in found:
            assert previous_end <= citation.start < citation.end <= len(text), text
            assert text[citation.start] in "[@-", text
            line = text.count("\n", 0, citation.start) + 1
            column = citation.start - (text.rfind("\n", 0, citation.start) + 1) + 1
            assert (citation.line, citation.column) == (line, column), text
            assert all(item.key for item in citation.items), text
            previous_end = citation.end
        assert replace_citations(text, lambda c, t=text: t[c.start : c.end]) == text


# -- performance ----------------------------------------------------------------------------


def _big_page(paragraphs: int) -> str:
    blocks = []
    for i in range(paragraphs):
        blocks.append(
            f"Paragraph {i} cites [see @key{i}, pp. {i}-{i + 3}; also @Feickert:2021ajf] and, "
            f"as @doe-2020a [p. {i}] notes, `code @x{i}` matters; mail a{i}@example.org."
        )
        if i % 10 == 0:
            blocks.append(f"```python\n@decorator\ndef f{i}():\n    return '[@no]'\n```")
        if i % 25 == 0:
            blocks.append(f"<!-- hidden [@hidden{i}] -->\n\n!!! note\n\n    Admonition [@adm{i}].")
    return "\n\n".join(blocks) + "\n"


def test_performance_2000_paragraphs() -> None:
    text = _big_page(2000)
    find_citations(text)  # warm the regex caches
    began = time.perf_counter()
    found = find_citations(text)
    elapsed = time.perf_counter() - began
    assert len(found) == 2000 * 2 + 80
    assert len(cited_keys(text)) == 2000 + 2 + 80
    # Measured at about 0.1 s; the bound leaves room for slow CI machines.
    assert elapsed < 1.0, f"{elapsed:.3f} s for {len(text)} characters"


@pytest.mark.parametrize(
    "text",
    [
        "`" * 5000 + "a",
        "` " * 5000,
        "[" * 5000 + "@a",
        "[@a " * 5000,
        "<" * 5000,
        "<!--" * 2000,
        "<code>" * 2000,
        "@{" * 3000,
        "x" * 5000 + "@" * 5000,
        "-@a" * 3000,
    ],
)
def test_performance_pathological_input_is_linear(text: str) -> None:
    began = time.perf_counter()
    find_citations(text)
    assert time.perf_counter() - began < 0.5


def test_one_table_of_locator_terms_for_reading_and_writing() -> None:
    from livingreview.bibliography import LOCATOR_LABELS
    from livingreview.citations.locators import locator_abbreviation

    # Every label the formatter accepts is a label the parser can read (or CSL's timestamp).
    assert set(LOCATOR_LABELS) - set(LOCATOR_TERMS) == {"timestamp"}
    for label, terms in LOCATOR_TERMS.items():
        # What the formatter writes, the parser reads back as the same label.
        for plural in (False, True):
            written = locator_abbreviation(label, plural)
            assert written.casefold() in (t.casefold() for t in terms), (label, written)
    assert (locator_abbreviation("page"), locator_abbreviation("page", plural=True)) == (
        "p.",
        "pp.",
    )
    assert locator_abbreviation("table") == "table"  # AMA spells it out
