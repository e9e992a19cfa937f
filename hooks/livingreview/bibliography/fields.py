"""BibTeX field vocabularies.

Which fields stay verbatim, name fields, months, CSL types, identifier patterns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

# --------------------------------------------------------------------------------------------
# Field vocabularies
# --------------------------------------------------------------------------------------------

#: Fields kept as written: LaTeX decoding would turn ``--`` in a DOI into an en dash and
#: ``\_`` in a URL into ``_`` only by luck. They get :func:`clean_verbatim` instead.
VERBATIM_FIELDS = frozenset(
    [
        "doi",
        "url",
        "eprint",
        "pmid",
        "pmcid",
        "isbn",
        "issn",
        "file",
        "pdf",
        "archiveprefix",
        "eprinttype",
        "eprintclass",
        "primaryclass",
    ]
)

#: Verbatim fields in which whitespace is a line-wrapping accident, never content.
NO_SPACE_FIELDS = frozenset({"doi", "url", "eprint", "pmid", "pmcid", "isbn", "issn"})

#: Fields holding ``and``-separated person lists, mapped to their CSL variable.
NAME_FIELDS: Mapping[str, str] = MappingProxyType(
    {"author": "author", "editor": "editor", "translator": "translator"}
)

#: Block types that are not references.
NON_ENTRY_TYPES = frozenset({"comment", "string", "preamble"})

#: Largest ``.bib`` file read, in bytes. The real file is about 40 KB; the benchmark's review of
#: 4,000 studies has 40,000 entries in about 18 MB (a 2 MB cap refused its 500-study one), and
#: parsing 32 MB takes well under a minute, so the cap still stops a runaway file.
MAX_BIB_BYTES = 32 * 1024 * 1024
#: Longest field value after ``@string`` expansion. Nine levels of ten-fold macros would
#: otherwise expand to a gigabyte, and a long title is repeated in every citation tooltip.
MAX_FIELD_CHARS = 10_000
#: Longest ``crossref`` chain (a book in a series in a collection is three).
MAX_CROSSREF_DEPTH = 8

#: English month names: BibTeX's built-in month macros (``month = jan``), as plain.bst
#: defines them, and dates printed without depending on the machine's locale (the PDF cover).
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
BUILTIN_MACROS: Mapping[str, str] = MappingProxyType(
    {name[:3].lower(): name for name in MONTH_NAMES}
)
MONTH_NUMBERS = {name[:3].lower(): i for i, name in enumerate(MONTH_NAMES, start=1)}

#: BibTeX/biblatex entry type -> CSL type. Unknown types become ``document``.
CSL_TYPES: Mapping[str, str] = MappingProxyType(
    {
        "article": "article-journal",
        "book": "book",
        "mvbook": "book",
        "booklet": "pamphlet",
        "inbook": "chapter",
        "bookinbook": "chapter",
        "suppbook": "chapter",
        "incollection": "chapter",
        "suppcollection": "chapter",
        "inreference": "entry",
        "inproceedings": "paper-conference",
        "conference": "paper-conference",
        "proceedings": "book",
        "mvproceedings": "book",
        "collection": "book",
        "mvcollection": "book",
        "reference": "book",
        "mvreference": "book",
        "manual": "report",
        "mastersthesis": "thesis",
        "phdthesis": "thesis",
        "thesis": "thesis",
        "techreport": "report",
        "report": "report",
        "misc": "document",
        "unpublished": "manuscript",
        "online": "webpage",
        "electronic": "webpage",
        "www": "webpage",
        "patent": "patent",
        "periodical": "periodical",
        "dataset": "dataset",
        "software": "software",
        "standard": "standard",
    }
)

#: Genre that a thesis type implies when the entry has no ``type`` field.
#: The typographic apostrophe is Pandoc's (its localized "mathesis" term); this is our text,
#: not the entry's, so it does not change what was written.
THESIS_GENRES = {
    "phdthesis": "PhD thesis",
    "mastersthesis": "Master\N{RIGHT SINGLE QUOTATION MARK}s thesis",
}

#: Parent types whose ``title`` becomes a child's ``booktitle`` (biblatex crossref rules).
BOOKLIKE_PARENTS = frozenset(
    [
        "book",
        "mvbook",
        "proceedings",
        "mvproceedings",
        "collection",
        "mvcollection",
        "reference",
        "mvreference",
    ]
)

#: Fields a crossref child never inherits: they identify the parent, not the child.
NOT_INHERITED = frozenset(
    [
        "title",
        "subtitle",
        "titleaddon",
        "shorttitle",
        "crossref",
        "xref",
        "ids",
        "key",
        "label",
        "sortkey",
        "entryset",
        "options",
        "related",
        "shorthand",
    ]
)

#: biblatex/BibTeX language names -> BCP 47 codes (citeproc-py reads the first two letters of
#: ``language`` and applies English title case only when they are ``en``).
LANGUAGE_CODES = {
    "english": "en",
    "american": "en-US",
    "british": "en-GB",
    "german": "de",
    "ngerman": "de",
    "french": "fr",
    "spanish": "es",
    "italian": "it",
    "portuguese": "pt",
    "brazilian": "pt-BR",
    "dutch": "nl",
    "swedish": "sv",
    "norwegian": "nb",
    "danish": "da",
    "finnish": "fi",
    "polish": "pl",
    "russian": "ru",
    "japanese": "ja",
    "chinese": "zh",
    "korean": "ko",
    "czech": "cs",
    "greek": "el",
    "turkish": "tr",
    "hebrew": "he",
    "hungarian": "hu",
}

DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
DOI_PREFIX_RE = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
PMCID_RE = re.compile(r"^(?:PMC)?(\d+)$", re.IGNORECASE)
ARXIV_PREFIX_RE = re.compile(r"^arxiv:", re.IGNORECASE)
