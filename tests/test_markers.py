"""Unit tests of the marker syntax: positions, code left alone, and problems an author can fix."""

from __future__ import annotations

import pytest
from livingreview.errors import Problem
from livingreview.markers import FILTERS, Marker, expand_markers, find_markers

ALLOWED = "allowed: condition=<id>, design=<id>, kind=<id>, group=<id>"


def _found(text: str, offset: int = 0) -> list[tuple[str, str, dict[str, str], int, int]]:
    markers, problems = find_markers(text, "docs/p.md", offset)
    assert problems == []
    return [(m.kind, m.what, m.filters, m.line, m.column) for m in markers]


def _lines(problems: list[Problem]) -> list[str]:
    return [p.format() for p in problems]


def _upper(marker: Marker) -> str:
    return f"<{marker.kind.upper()}:{marker.what.upper()}>"


def test_marker_with_filters_and_its_position() -> None:
    text = "# Title\n\nWe found [[count studies condition=ptsd kind=primary]] studies.\n"
    markers, problems = find_markers(text, "docs/p.md")
    assert problems == []
    [m] = markers
    assert (m.kind, m.what, m.filters) == (
        "count",
        "studies",
        {"condition": "ptsd", "kind": "primary"},
    )
    assert (m.line, m.column) == (3, 10)
    assert text[m.start : m.end] == "[[count studies condition=ptsd kind=primary]]"


def test_every_filter_is_accepted() -> None:
    assert FILTERS == ("condition", "design", "kind", "group")
    text = "[[count studies condition=ptsd design=rct kind=primary group=veterans]]"
    assert _found(text)[0][2] == {
        "condition": "ptsd",
        "design": "rct",
        "kind": "primary",
        "group": "veterans",
    }


def test_several_markers_on_one_line() -> None:
    text = "A [[count studies]] and [[count trials condition=ptsd]], [[review updated]].\n"
    assert _found(text) == [
        ("count", "studies", {}, 1, 3),
        ("count", "trials", {"condition": "ptsd"}, 1, 25),
        ("review", "updated", {}, 1, 58),
    ]


def test_front_matter_offset_moves_lines_not_columns() -> None:
    assert _found("x\n  [[count studies]]\n", offset=3) == [("count", "studies", {}, 5, 3)]


def test_columns_count_characters_not_bytes() -> None:
    assert _found("Ärztinnen – [[count studies]]") == [("count", "studies", {}, 1, 13)]


def test_marker_in_fenced_code_is_left_alone() -> None:
    text = "```md\n[[count studies]]\n```\n\n~~~~\n[[count trials]]\n~~~~\n[[count designs]]\n"
    assert _found(text) == [("count", "designs", {}, 8, 1)]


def test_marker_in_code_span_is_left_alone() -> None:
    text = "Write `[[count studies]]` or ``a ` [[count trials]]`` to get [[count designs]].\n"
    assert _found(text) == [("count", "designs", {}, 1, 62)]


def test_marker_in_fence_inside_a_list_item_is_left_alone() -> None:
    text = "- Example:\n\n    ```\n    [[count studies]]\n    ```\n"
    assert _found(text) == []


def test_stray_backticks_in_two_paragraphs_do_not_hide_a_marker() -> None:
    text = "Press the ` key.\n\nThere are [[count studies]] studies.\n\nA second ` here.\n"
    assert _found(text) == [("count", "studies", {}, 3, 11)]


def test_marker_in_indented_code_block_is_left_alone() -> None:
    text = "Write this:\n\n    [[count studies]]\n\nand it shows a number.\n"
    assert _found(text) == []


def test_marker_syntax_must_be_lowercase_and_tight() -> None:
    assert _found("[[Count studies]] [[ count studies]] [count studies] [[count\nstudies]]") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[count]]", "docs/p.md:1:1: error: marker: incomplete marker '[[count]]'"),
        (
            "ab [[count studies size=3]]",
            f"docs/p.md:1:4: error: marker: bad filter 'size=3' in marker; {ALLOWED}",
        ),
        (
            "[[count studies condition]]",
            f"docs/p.md:1:1: error: marker: bad filter 'condition' in marker; {ALLOWED}",
        ),
        (
            "[[count studies condition=]]",
            f"docs/p.md:1:1: error: marker: bad filter 'condition=' in marker; {ALLOWED}",
        ),
    ],
)
def test_malformed_marker_is_a_problem_with_its_position(text: str, expected: str) -> None:
    markers, problems = find_markers(text, "docs/p.md")
    assert markers == []
    assert _lines(problems) == [expected]


def test_bad_filter_problem_counts_front_matter_lines() -> None:
    _, problems = find_markers("\n\n  [[table characteristics cond=ptsd]]", "docs/p.md", 4)
    assert [(p.line, p.column) for p in problems] == [(7, 3)]
    assert "bad filter 'cond=ptsd'" in problems[0].message


def test_page_without_markers_is_returned_as_is() -> None:
    text = "No markers [here] or [[ there.\r\n"
    out, problems = expand_markers(text, "docs/p.md", _upper)
    assert out is text
    assert problems == []


def test_expansion_replaces_only_markers_byte_for_byte() -> None:
    text = (
        "---ish\r\nTabs\there  [[count studies]]\u00a0trailing\r\n"
        "`[[count trials]]` [[table trials]]\n\n\n  end   \n"
    )
    out, problems = expand_markers(text, "docs/p.md", _upper)
    assert problems == []
    assert out == (
        "---ish\r\nTabs\there  <COUNT:STUDIES>\u00a0trailing\r\n"
        "`[[count trials]]` <TABLE:TRIALS>\n\n\n  end   \n"
    )


def test_unknown_marker_is_left_in_place_and_reported() -> None:
    text = "a [[count studies]] b [[nope thing condition=ptsd]] c\n"
    out, problems = expand_markers(
        text, "docs/p.md", lambda m: None if m.kind == "nope" else "N", line_offset=2
    )
    assert out == "a N b [[nope thing condition=ptsd]] c\n"
    assert _lines(problems) == [
        "docs/p.md:3:23: error: marker: unknown marker '[[nope thing]]'; "
        "see the README for the allowed markers"
    ]


def test_bad_and_good_markers_on_one_line() -> None:
    text = "[[count studies]] [[count studies colour=red]] [[count trials]]"
    out, problems = expand_markers(text, "docs/p.md", _upper)
    assert out == "<COUNT:STUDIES> [[count studies colour=red]] <COUNT:TRIALS>"
    assert [(p.line, p.column) for p in problems] == [(1, 19)]


def test_expander_sees_each_marker_once_in_order() -> None:
    seen: list[str] = []

    def expand(marker: Marker) -> str:
        seen.append(marker.what)
        return ""

    expand_markers("[[a one]]\n[[b two]] [[c three]]\n```\n[[d four]]\n```\n", "p", expand)
    assert seen == ["one", "two", "three"]


# --- claims: an opening marker, its text, and [[/claim]] -----------------------------------


def test_claim_gets_its_text_and_words() -> None:
    text = "Intro\n\nThere is [[claim none diagnosis=BED]]no report\nin BED[[/claim]] [@x].\n"
    markers, problems = find_markers(text, "docs/p.md")
    assert problems == []
    opener, closer = markers
    assert (opener.kind, opener.what, opener.words) == ("claim", "none", ("diagnosis=BED",))
    assert (opener.line, opener.column, opener.text) == (3, 10, "no report\nin BED")
    assert (closer.closing, closer.line, closer.column) == (True, 4, 7)
    assert expand_markers(text, "docs/p.md", lambda m: "")[0] == (
        "Intro\n\nThere is no report\nin BED [@x].\n"
    )


def test_stacked_claims_and_markers_inside_a_claim_keep_their_order() -> None:
    text = "[[claim none a=b]] [[claim some c=d]]x [[count studies]] y[[/claim]]"
    markers, problems = find_markers(text, "docs/p.md")
    assert problems == []
    assert [(m.kind, m.what, m.closing) for m in markers] == [
        ("claim", "none", False),
        ("claim", "some", False),
        ("count", "studies", False),
        ("claim", "", True),
    ]
    assert markers[0].text == markers[1].text == "x [[count studies]] y"


def test_claim_in_code_is_left_alone() -> None:
    text = "`[[claim none a=b]]x[[/claim]]`\n\n```\n[[/claim]]\n```\n"
    assert find_markers(text, "docs/p.md") == ([], [])
