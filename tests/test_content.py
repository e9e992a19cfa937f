"""The review's own pages: every factual paragraph is cited.

The check is deliberately simple and strict on the evidence pages: a prose paragraph (not a
heading, table, marker, admonition title or code) without a citation fails, unless it only
frames computed content (a sentence that ends in a colon before a list of markers).
"""

from __future__ import annotations

import re

import pytest
from conftest import ROOT
from livingreview.citations import find_citations
from livingreview.markers import MARKER
from livingreview.project import split_front_matter

EVIDENCE_PAGES = ("index.md", "eating-disorders.md", "ptsd.md", "methods.md")
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def _paragraphs(page: str) -> list[str]:
    text, _ = split_front_matter((ROOT / "docs" / page).read_text(encoding="utf-8"))
    text = _FENCE.sub("", text)
    return [block.strip() for block in re.split(r"\n\s*\n", text) if block.strip()]


def _needs_citation(block: str) -> bool:
    if block.startswith(("#", "|", "<", "!!!", "???", "[[")):
        return False
    without_markers = MARKER.sub("", block)
    if block.rstrip().endswith(":"):
        return False  # an introduction to the list or table that follows
    if not re.search(r"[A-Za-z]{4,}", without_markers):
        return False
    # One line per list item: continuation lines are indented.
    lines = [ln.strip() for ln in re.sub(r"\n\s{2,}", " ", block).splitlines()]
    # A list whose items are links to other pages, or computed counts, states no finding.
    return not all(
        re.match(r"^(- |\d+\. )?(\[[^\]]+\]\([^)]+\)|[^[]*\[\[count )", ln) for ln in lines
    )


@pytest.mark.parametrize("page", EVIDENCE_PAGES)
def test_every_factual_paragraph_is_cited(page: str) -> None:
    uncited = [
        block[:120]
        for block in _paragraphs(page)
        if _needs_citation(block) and not find_citations(block)
    ]
    # Paragraphs about the review itself (its questions, its checks, how to read it) are
    # not findings; they are listed here by their opening words so that any new uncited
    # paragraph fails until it is cited or consciously added.
    about_the_review = (
        "This page explains",
        "Before the site is built",
        "Each record, and the bibliographic entry",
        "The review is updated whenever",
        "This is version",
        "Cite the review as a whole",
        "1. What clinical evidence exists",
    )
    unexpected = [b for b in uncited if not b.startswith(about_the_review)]
    assert not unexpected, "paragraphs without a citation:\n" + "\n---\n".join(unexpected)
