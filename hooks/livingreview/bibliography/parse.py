"""Reading references.bib: bytes to blocks, macros, concatenation and crossref, to entries."""

from __future__ import annotations

import bisect
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import bibtexparser
from bibtexparser import model as bpmodel

from ..cache import ContentCache, content_hash, disk_table, open_disk_cache
from ..errors import Problem, problem_from_json, problem_to_json, relative_path, sort_problems
from ..load import read_input
from .csl import (
    SENTENCE_CASE_FIELDS,
    build_csl,
    date_problems,
    identifier_problems,
    is_english,
    sentence_case_latex,
)
from .entries import Bibliography, Entry
from .fields import (
    BOOKLIKE_PARENTS,
    BUILTIN_MACROS,
    MAX_BIB_BYTES,
    MAX_CROSSREF_DEPTH,
    MAX_FIELD_CHARS,
    NAME_FIELDS,
    NO_SPACE_FIELDS,
    NON_ENTRY_TYPES,
    NOT_INHERITED,
    VERBATIM_FIELDS,
)
from .formatting import FORMATTED
from .latex import clean_verbatim, decode_latex, decode_problem, matching_brace, parse_names

# --------------------------------------------------------------------------------------------
# Loading, with a cache for `mkdocs serve`
# --------------------------------------------------------------------------------------------

#: Parsed files by (resolved path, root) and content (see :mod:`..cache`).
_CACHE: ContentCache[tuple[Bibliography, tuple[Problem, ...]]] = ContentCache()


def clear_cache() -> None:
    """Forget every parsed file and formatted reference (for tests, or to force a re-parse).

    The on-disk cache of the build in progress, if any, is closed too.
    """
    _CACHE.clear()
    FORMATTED.clear()
    open_disk_cache(None)


def load_bibliography(path: Path, root: Path) -> tuple[Bibliography, list[Problem]]:
    """Load a ``.bib`` file into a :class:`Bibliography`, collecting every problem.

    The parsed result is cached by resolved path and SHA-256 of the bytes (and by ``root``,
    which problem paths depend on), so rebuilds under ``mkdocs serve`` return
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
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return Bibliography(rel, {}), [Problem(rel, None, None, "", f"cannot read file: {reason}")]

    def parse() -> tuple[Bibliography, tuple[Problem, ...]]:
        # Across builds: the parse is keyed by the bytes and the printed path (and, through
        # the table file, by the library version).
        table = disk_table("bibtex")
        key = content_hash(rel.encode("utf-8", "surrogatepass") + b"\0" + data)
        stored = table.get(key) if table is not None else None
        if stored is not None:
            restored = bibliography_from_json(stored, rel)
            if restored is not None:
                return restored
        bibliography, problems = parse_bibtex_bytes(data, rel)
        if table is not None:
            table.put(key, bibliography_to_json(bibliography, problems))
        return bibliography, tuple(problems)

    bibliography, problems = _CACHE.get((str(resolved), str(Path(root).resolve())), data, parse)
    table = disk_table("bibtex")
    if table is not None:
        key = content_hash(rel.encode("utf-8", "surrogatepass") + b"\0" + data)
        table.keep(key, lambda: bibliography_to_json(bibliography, list(problems)))
    return bibliography, list(problems)


def bibliography_to_json(bibliography: Bibliography, problems: list[Problem]) -> dict[str, Any]:
    """Return a parsed file as plain JSON data (for the cache across builds)."""
    entries = [
        [
            e.key,
            e.entry_type,
            dict(e.fields),
            e.line,
            e.csl_json,
            sorted(e.others),
            dict(e.cased),
        ]
        for e in bibliography.entries.values()
    ]
    return {"entries": entries, "problems": [problem_to_json(p) for p in problems]}


def bibliography_from_json(data: Any, rel: str) -> tuple[Bibliography, tuple[Problem, ...]] | None:
    """Rebuild what :func:`bibliography_to_json` stored, or ``None`` if it is malformed."""
    try:
        entries = {}
        for key, entry_type, fields, line, csl_json, others, cased in data["entries"]:
            if not (
                isinstance(key, str)
                and isinstance(entry_type, str)
                and isinstance(line, int)
                and isinstance(csl_json, str)
                and _str_map(fields)
                and _str_map(cased)
                and all(isinstance(o, str) for o in others)
            ):
                return None
            entries[key] = Entry(
                key=key,
                entry_type=entry_type,
                fields=MappingProxyType(fields),
                line=line,
                csl_json=csl_json,
                others=frozenset(others),
                cased=MappingProxyType(cased),
            )
        problems = tuple(problem_from_json(p) for p in data["problems"])
    except (KeyError, TypeError, ValueError):
        return None
    return Bibliography(rel, entries), problems


def _str_map(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


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
        self._macros: dict[str, str] = dict(BUILTIN_MACROS)

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
        key = match.group(2) if match and block_type not in NON_ENTRY_TYPES else ""
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
                decoded[name] = clean_verbatim(value, keep_spaces=name not in NO_SPACE_FIELDS)
                continue
            if name in NAME_FIELDS:
                parsed = parse_names(value)
                text, errors = parsed.text, parsed.errors
                if parsed.persons:
                    names[name] = parsed.persons
                if parsed.others:
                    others.add(name)
            else:
                text, error = decode_latex(value)
                errors = [decode_problem(error)] if error else []
            for message in errors:
                self._problem(raw.line, f"{where}.{name}", message)
            decoded[name] = text

        self._check_required(raw, decoded, names)
        # CSL gets titles in sentence case, as Pandoc converts English entries; the entry's own
        # fields (and the BibTeX and RIS downloads) keep them as written.
        csl_fields = dict(decoded)
        if is_english(decoded):
            for name in SENTENCE_CASE_FIELDS & set(latex_fields):
                if name in decoded and name not in VERBATIM_FIELDS:
                    csl_fields[name], _ = decode_latex(sentence_case_latex(latex_fields[name]))
        csl = build_csl(raw.key, raw.entry_type, csl_fields, names)
        for message, fld in date_problems(decoded):
            self._problem(raw.line, f"{where}.{fld}", message)
        for message, fld in identifier_problems(decoded):
            self._problem(raw.line, f"{where}.{fld}", message)
        return Entry(
            key=raw.key,
            entry_type=raw.entry_type,
            fields=MappingProxyType(decoded),
            line=raw.line,
            csl_json=json.dumps(csl, ensure_ascii=False, sort_keys=True),
            others=frozenset(others),
            cased=MappingProxyType(
                {k: v for k, v in csl_fields.items() if k in SENTENCE_CASE_FIELDS}
            ),
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
        if match.group(1).lower() in NON_ENTRY_TYPES or position in starts:
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
        if parent_type in BOOKLIKE_PARENTS and "booktitle" not in merged:
            merged["booktitle"] = title
        elif parent_type == "periodical" and not ({"journaltitle", "journal"} & merged.keys()):
            merged["journaltitle"] = title
    for name, value in parent.items():
        if name not in merged and name not in NOT_INHERITED:
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
            end = matching_brace(text, i)
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


#: What can end or nest a quoted value: a backslash escape, a brace, a quote.
_QUOTE_MARKS = re.compile(r'[\\{}"]')


def _closing_quote(text: str, start: int) -> int:
    """Index of the ``"`` closing the one at ``start``; quotes inside braces do not count."""
    # Jumps from mark to mark (one regex search each) instead of looking at every character:
    # quoted values are common, and a per-character loop was a tenth of the parse.
    depth = 0
    i = start + 1
    while True:
        match = _QUOTE_MARKS.search(text, i)
        if match is None:
            return len(text)
        j = match.start()
        char = text[j]
        if char == "\\":
            i = j + 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(depth - 1, 0)
        elif depth == 0:
            return j
        i = j + 1
