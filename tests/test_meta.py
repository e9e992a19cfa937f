"""Meta descriptions reach the page head as inert, single-line text."""

from __future__ import annotations

import html

import pytest
from factories import make_study
from livingreview import meta


@pytest.mark.parametrize(
    "text",
    [
        '"><script>alert(1)</script>',
        "O'Brien & <b>bold</b>",
        "line one\nline two",
        '" onmouseover="alert(1)',
    ],
)
def test_description_is_escaped_and_one_line(text: str) -> None:
    out = meta.inert_description(text)
    assert out is not None
    assert "<" not in out and '"' not in out and "\n" not in out
    assert html.unescape(out) == " ".join(text.split())


def test_long_description_is_cut_at_the_limit() -> None:
    out = meta.inert_description("word " * 200)
    assert out is not None and len(html.unescape(out)) == meta.MAX_DESCRIPTION
    assert out.endswith("…")


@pytest.mark.parametrize("value", [None, 3, ["a"], {"a": 1}])
def test_description_that_is_not_text_is_refused(value: object) -> None:
    assert meta.inert_description(value) is None


def test_study_description_names_study_and_design_but_no_record_text() -> None:
    study = make_study("smith-2020", summary="Symptoms <fell>.")
    text = meta.study_description(study, "Randomized controlled trial")
    assert text.startswith("Smith 2020, randomized controlled trial: the study record with ")
    assert "fell" not in text
