r"""Bibliography downloads: the cited entries as BibTeX, RIS and CSL-JSON.

Each function takes the loaded :class:`~.bibliography.Bibliography` and the cited keys in
citation order, and returns the file's text. Keys that are not in the bibliography are
skipped (the citation check reports them) and a repeated key is written once. Output depends
on the input only: no dates, no versions, sorted JSON keys, so an unchanged review rebuilds
byte for byte.

* ``references.bib``: BibTeX with Unicode text, written by bibtexparser's writer. LaTeX's
  special characters are escaped (``&`` -> ``\&``), so the file works with LaTeX and
  re-imports through :func:`~.bibliography.load_bibliography` to the same text. Crossref
  inheritance is already applied and ``crossref`` itself dropped, since the parent may not be
  cited.
* ``references.ris``: one ``TY`` ... ``ER`` record per entry, in the tags rispy reads (and
  EndNote and Zotero import): ``AN`` holds the PMID and ``C2`` the PMCID, as EndNote does.
* ``references.json``: the CSL-JSON items, as citeproc-js and citeproc-py read them.

Every download is one entry of :data:`EXPORTS` (file, label, group, writer): the build writes
each entry's file into ``downloads/``, and the pages that offer a group (the References page
for ``references``; the study index and the explorer for ``data``) link every entry of it. A
new format is one entry here and one test in ``tests/test_exports.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import bibtexparser
from bibtexparser import model as bpmodel

from . import datasets
from .bibliography import NAME_FIELDS, VERBATIM_FIELDS, Bibliography, Entry
from .bibliography.csl import sentence_case_latex
from .model import Catalog
from .render import relative_src, relative_url

__all__ = [
    "DOWNLOADS_DIR",
    "EXPORTS",
    "FILE_GROUPS",
    "Export",
    "ExportInput",
    "build_downloads",
    "download_links",
    "download_markdown",
    "downloads",
    "to_bibtex",
    "to_csl_json",
    "to_ris",
]

#: Folder of the built site that holds the downloads.
DOWNLOADS_DIR = "downloads/"


@dataclass(frozen=True)
class ExportInput:
    """What a writer may use: the bibliography with the cited keys, the records, the schema."""

    bibliography: Bibliography
    keys: Sequence[str]
    catalog: Catalog | None = None
    study_schema: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Export:
    """One download: its file name in ``downloads/``, its link text, its group and writer."""

    file: str
    label: str
    group: str
    write: Callable[[ExportInput], str]


def _catalog(inputs: ExportInput) -> Catalog:
    if inputs.catalog is None:
        raise ValueError("the study data downloads need the catalog")
    return inputs.catalog


#: Every download, in the order pages list them.
EXPORTS: tuple[Export, ...] = (
    Export("references.bib", "BibTeX", "references", lambda i: to_bibtex(i.bibliography, i.keys)),
    Export("references.ris", "RIS", "references", lambda i: to_ris(i.bibliography, i.keys)),
    Export(
        "references.json", "CSL-JSON", "references", lambda i: to_csl_json(i.bibliography, i.keys)
    ),
    Export("studies.csv", "studies (CSV)", "data", lambda i: datasets.studies_csv(_catalog(i))),
    Export("outcomes.csv", "outcomes (CSV)", "data", lambda i: datasets.outcomes_csv(_catalog(i))),
    Export("studies.json", "studies (JSON)", "data", lambda i: datasets.studies_json(_catalog(i))),
    Export(
        "data-dictionary.csv",
        "data dictionary (CSV)",
        "data",
        lambda i: datasets.data_dictionary(i.study_schema),
    ),
)


def downloads(group: str) -> tuple[Export, ...]:
    """Return the downloads of one group (``references`` or ``data``), in link order."""
    return tuple(e for e in EXPORTS if e.group == group)


def download_links(group: str, page_url: str) -> str:
    """Return HTML links from the page at ``page_url`` to every download of ``group``.

    Raw HTML, because MkDocs would report a Markdown link to a file that is not in ``docs/``.
    """
    return ", ".join(
        f'<a href="{relative_url(DOWNLOADS_DIR + e.file, page_url)}" download>{e.label}</a>'
        for e in downloads(group)
    )


def download_markdown(group: str, page_src: str) -> str:
    """Return Markdown links from the page ``page_src`` to every download of ``group``.

    For downloads the build adds as files (the ``data`` group, see :data:`FILE_GROUPS`), so
    MkDocs checks and rewrites the links like any other.
    """
    return ", ".join(
        f"[{e.label}]({relative_src(DOWNLOADS_DIR + e.file, page_src)})" for e in downloads(group)
    )


#: Groups the build adds to the site as files while it collects pages (their content depends
#: on the records only); the ``references`` group is written after the build, since it
#: depends on the citations of every page.
FILE_GROUPS = frozenset({"data"})


def build_downloads(
    bibliography: Bibliography,
    keys: Sequence[str],
    catalog: Catalog | None = None,
    study_schema: Mapping[str, Any] | None = None,
    groups: frozenset[str] | None = None,
) -> dict[str, str]:
    """Return every download as file name -> text.

    Args:
        bibliography: The loaded bibliography.
        keys: Cited keys in citation order.
        catalog: The records; without them only the ``references`` group is built.
        study_schema: The study schema, for the data dictionary.
        groups: The groups to build (default: every group the inputs allow).
    """
    inputs = ExportInput(bibliography, keys, catalog, study_schema or {})
    if groups is None:
        groups = frozenset({"references"} | ({"data"} if catalog is not None else set()))
    return {e.file: e.write(inputs) for e in EXPORTS if e.group in groups}


def _cited(bibliography: Bibliography, keys: Iterable[str]) -> list[Entry]:
    seen: set[str] = set()
    entries = []
    for key in keys:
        entry = bibliography.get(key)
        if entry is not None and key not in seen:
            seen.add(key)
            entries.append(entry)
    return entries


# --------------------------------------------------------------------------------------------
# CSL-JSON
# --------------------------------------------------------------------------------------------


def to_csl_json(bibliography: Bibliography, keys: Sequence[str]) -> str:
    """Return the cited entries as a CSL-JSON array (UTF-8 text, sorted keys, final newline).

    Args:
        bibliography: The loaded bibliography.
        keys: Cited keys in citation order.
    """
    items = [entry.csl for entry in _cited(bibliography, keys)]
    return json.dumps(items, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


# --------------------------------------------------------------------------------------------
# BibTeX
# --------------------------------------------------------------------------------------------

#: Fields not written: the parent of a crossref may not be cited, and its fields are inherited.
_DROPPED_FIELDS = frozenset({"crossref", "xref"})

#: Characters LaTeX treats specially, and how to write them as text.
_LATEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "%": r"\%",
    "&": r"\&",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "\u00a0": "~",  # a no-break space is what the tie meant
}
_LATEX_SPECIAL_RE = re.compile("|".join(re.escape(c) for c in _LATEX_ESCAPES))
#: Character pairs TeX fonts turn into one glyph (dashes, quotes); an empty group keeps the
#: characters apart so that the text reads back as written.
_LIGATURE_RE = re.compile(r"-(?=-)|`(?=`)|'(?=')|!(?=`)|\?(?=`)")


def _latex_text(value: str) -> str:
    """Escape Unicode text for a braced BibTeX value."""
    text = _LATEX_SPECIAL_RE.sub(lambda m: _LATEX_ESCAPES[m.group()], value)
    return _LIGATURE_RE.sub(lambda m: m.group() + "{}", text)


def _verbatim(value: str) -> str:
    """DOIs, URLs and identifiers are written as they are (biblatex reads them verbatim).

    They never contain braces or backslashes after loading; removing them here only guards
    the braces of the written value.
    """
    return value.replace("{", "").replace("}", "").replace("\\", "")


def _bibtex_name(person: Mapping[str, str]) -> str:
    """One CSL name as BibTeX ``von Last, Jr, First``, braced where BibTeX would misread it."""
    if "literal" in person:
        return "{" + _latex_text(person["literal"]) + "}"

    def part(text: str, *, protect_spaces: bool = False) -> str:
        escaped = _latex_text(text)
        # A comma would start a new part on re-import; in the family name, spaces would let
        # lower-case words ("de la Fontaine") become a particle.
        needs_braces = "," in text or (protect_spaces and " " in text)
        return "{" + escaped + "}" if needs_braces else escaped

    last = part(person.get("family", ""), protect_spaces=True)
    particle = person.get("non-dropping-particle") or person.get("dropping-particle")
    if particle:
        last = f"{_latex_text(particle)} {last}"
    pieces = [last]
    if person.get("suffix"):
        pieces.append(part(person["suffix"]))
        pieces.append(part(person.get("given", "")))
    elif person.get("given"):
        pieces.append(part(person["given"]))
    return ", ".join(pieces)


_WORD_RE = re.compile(r"[^\W\d_]+")


def _case_protected(value: str, cased: str) -> str:
    """Write a title as given, bracing the capitalized words that sentence case must keep.

    The CSL title is the sentence case of the title as written, keeping braced words; the
    decoded text has lost the braces. Re-reading the download must give the same CSL title, so
    every word the CSL title kept as written is braced where a fresh sentence case would change
    it (and every capitalized word, ``Word``, ``K``); words it lowered or raised are left for
    the sentence case to do again.
    """
    again = sentence_case_latex(value)
    if not (len(value) == len(cased) == len(again)):
        return _latex_text(value)
    out: list[str] = []
    last = 0
    for match in _WORD_RE.finditer(value):
        start, end = match.span()
        word = value[start:end]
        capitalized = word[0].isupper() and word[1:] == word[1:].lower()
        kept = cased[start:end] == word
        # Braced: what a fresh sentence case would change, and capitalized words (escaping can
        # split a token, "p\\_T", so the single letters are guarded too).
        if kept and (again[start:end] != word or (capitalized and start > 0)):
            out.append(_latex_text(value[last:start]))
            out.append("{" + _latex_text(word) + "}")
            last = end
    out.append(_latex_text(value[last:]))
    return "".join(out)


def _bibtex_fields(entry: Entry) -> list[bpmodel.Field]:
    csl = entry.csl
    fields = []
    for name, value in entry.fields.items():
        if name in _DROPPED_FIELDS or not value:
            continue
        if name in VERBATIM_FIELDS:
            text = _verbatim(value)
        elif name in NAME_FIELDS and csl.get(NAME_FIELDS[name]):
            # Rebuilt from the parsed names: the decoded field text has lost the braces that
            # kept "{World Health Organization}" one name.
            names = [_bibtex_name(p) for p in csl[NAME_FIELDS[name]]]
            if name in entry.others:
                names.append("others")
            text = " and ".join(names)
        elif name in entry.cased:
            text = _case_protected(value, entry.cased[name])
        elif name == "pages":
            # BibTeX styles expect "--" between pages; it reads back as the en dash.
            text = _latex_text(value).replace("\N{EN DASH}", "--")
        else:
            text = _latex_text(value)
        fields.append(bpmodel.Field(name, text))
    return fields


def to_bibtex(bibliography: Bibliography, keys: Sequence[str]) -> str:
    """Return the cited entries as BibTeX with Unicode text.

    Args:
        bibliography: The loaded bibliography.
        keys: Cited keys in citation order.
    """
    library = bibtexparser.Library()
    for entry in _cited(bibliography, keys):
        library.add(bpmodel.Entry(entry.entry_type, entry.key, _bibtex_fields(entry)))
    bibtex_format = bibtexparser.BibtexFormat()
    bibtex_format.indent = "  "
    bibtex_format.block_separator = "\n"
    text = bibtexparser.write_string(library, bibtex_format=bibtex_format)
    return text if text.endswith("\n") or not text else text + "\n"


# --------------------------------------------------------------------------------------------
# RIS
# --------------------------------------------------------------------------------------------

#: CSL type -> RIS reference type.
_RIS_TYPES = {
    "article-journal": "JOUR",
    "article": "UNPB",  # preprints
    "manuscript": "UNPB",
    "book": "BOOK",
    "chapter": "CHAP",
    "entry": "CHAP",
    "paper-conference": "CPAPER",
    "thesis": "THES",
    "report": "RPRT",
    "webpage": "ELEC",
    "pamphlet": "PAMP",
    "patent": "PAT",
    "dataset": "DATA",
    "software": "COMP",
    "standard": "STAND",
    "periodical": "JFULL",
}


def _ris_name(person: Mapping[str, str]) -> str:
    """RIS wants ``Last, First, Suffix``."""
    if "literal" in person:
        return person["literal"]
    family = person.get("family", "")
    particle = person.get("non-dropping-particle") or person.get("dropping-particle")
    last = f"{particle} {family}" if particle else family
    return ", ".join(p for p in (last, person.get("given", ""), person.get("suffix", "")) if p)


def _ris_date(date: Mapping[str, Any] | None) -> tuple[str, str]:
    """Return (year, ``YYYY/MM/DD/``-style date) from a CSL date."""
    if not date:
        return "", ""
    parts = (date.get("date-parts") or [[]])[0]
    if not parts:
        return str(date.get("literal", "")), ""
    year = str(parts[0])
    month = f"{parts[1]:02d}" if len(parts) > 1 else ""
    day = f"{parts[2]:02d}" if len(parts) > 2 else ""
    return year, f"{year}/{month}/{day}/" if month else ""


def _ris_record(entry: Entry) -> list[str]:
    csl = entry.csl
    lines: list[tuple[str, str]] = [("TY", _RIS_TYPES.get(csl["type"], "GEN")), ("ID", entry.key)]
    lines += [("AU", _ris_name(p)) for p in csl.get("author", [])]
    lines += [("A2", _ris_name(p)) for p in csl.get("editor", [])]
    # The title as written: the CSL title is in sentence case for CSL styles, while reference
    # managers keep what the source wrote.
    title, subtitle = entry.fields.get("title", ""), entry.fields.get("subtitle", "")
    lines.append(("TI", f"{title}: {subtitle}" if title and subtitle else title))
    lines.append(("T2", csl.get("container-title", "")))
    lines.append(("T3", csl.get("collection-title", "")))
    year, date = _ris_date(csl.get("issued"))
    lines += [("PY", year), ("DA", date)]
    lines += [("VL", csl.get("volume", "")), ("IS", csl.get("issue", ""))]
    page = csl.get("page", "")
    first, sep, last = page.partition("-")
    if sep and first and last:
        lines += [("SP", first), ("EP", last)]
    else:
        lines.append(("SP", page))
    lines += [
        ("ET", csl.get("edition", "")),
        ("M3", csl.get("genre", "")),
        ("M1", csl.get("number", "")),
        ("PB", csl.get("publisher", "")),
        ("CY", csl.get("publisher-place", "")),
        ("SN", csl.get("ISBN") or csl.get("ISSN", "")),
        ("DO", csl.get("DOI", "")),
        # rispy splits UR on ";", which URLs may contain: percent-encode it.
        ("UR", csl.get("URL", "").replace(";", "%3B")),
        ("Y2", _ris_date(csl.get("accessed"))[1]),
        ("AN", csl.get("PMID", "")),
        ("C2", csl.get("PMCID", "")),
        ("LA", csl.get("language", "")),
        ("N1", csl.get("note", "")),
    ]
    out = []
    for tag, value in lines:
        text = " ".join(str(value).split())  # one line per tag: RIS has no continuation
        if text:
            out.append(f"{tag}  - {text}")
    out.append("ER  - ")
    return out


def to_ris(bibliography: Bibliography, keys: Sequence[str]) -> str:
    """Return the cited entries as RIS records separated by blank lines.

    Args:
        bibliography: The loaded bibliography.
        keys: Cited keys in citation order.
    """
    records = ["\n".join(_ris_record(entry)) for entry in _cited(bibliography, keys)]
    return "\n\n".join(records) + "\n" if records else ""
