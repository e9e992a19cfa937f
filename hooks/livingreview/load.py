"""Read input files safely, keeping the source position of every value.

YAML is composed with PyYAML's safe composer and then turned into plain Python values by our
own resolver, because PyYAML's constructors lose positions, keep the last of duplicate keys,
and apply YAML 1.1 typing (``no`` -> False, ``012`` -> 10, ``1:20`` -> 80, dates -> ``date``).
Here those forms are kept as the text they are and reported, so nothing is silently converted.
"""

from __future__ import annotations

import errno
import math
import os
import re
import stat
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .cache import ContentCache, content_hash, disk_table
from .errors import Problem, problem_from_json, problem_to_json, relative_path

#: Largest input file read, in bytes. A study record is a few kilobytes; anything far larger
#: is a mistake or an attack (an alias bomb needs no anchors here, but a huge file is slow).
MAX_FILE_BYTES = 512 * 1024

#: Deepest nesting of mappings and lists in a YAML file. Records nest six levels; a deeper
#: document is a mistake or an attack (1,200 nested ``[`` exhaust Python's recursion limit).
MAX_DEPTH = 24

#: Most items in one YAML list or mapping. The longest list in the data has 54 items; the
#: schemas set tighter ``maxItems`` where a field is shown on a page.
MAX_ITEMS = 1000

#: Longest text value, in characters. The longest in the data is under 300.
MAX_TEXT = 5000

#: Most digits in a whole number. Counts are far shorter; Python refuses to convert more
#: than 4,300 digits, and no field needs a number beyond 64 bits.
MAX_DIGITS = 18

#: Characters YAML does not allow in a file (C0 controls other than tab and newlines, DEL,
#: C1 controls other than NEL, surrogates, U+FFFE and U+FFFF). PyYAML raises on them without
#: a line number, so they are found here first.
_NOT_PRINTABLE = re.compile(
    "[^\\x09\\x0a\\x0d\\x20-\\x7e\\x85\\xa0-\\ud7ff\\ue000-\\ufffd\\U00010000-\\U0010ffff]"
)

#: A path into a loaded document: mapping keys and sequence indices.
FieldPath = tuple[str | int, ...]

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$")
_INT_OTHER = re.compile(r"^(?:0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_FLOAT_SPECIAL = re.compile(r"^(?:[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")
_YAML11_BOOL = re.compile(r"^(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)$")
_YAML11_OCTAL = re.compile(r"^[-+]?0[0-9_]+$")
_YAML11_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_YAML11_UNDERSCORE = re.compile(r"^[-+]?(?:0b[01_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)$")


#: Parsed files by (resolved path, printed path) and content (see :mod:`.cache`).
_YAML_CACHE: ContentCache[tuple[Document | None, tuple[Problem, ...]]] = ContentCache()


@dataclass
class Document:
    """A loaded YAML document.

    Attributes:
        path: Path relative to the project root, as printed in problems.
        data: The top-level mapping, with plain Python values (str, int, float, bool, None,
            list, dict).
        values: Position (line, column), 1-based, of each value by field path.
        keys: Position of each mapping key by field path (the path of the value it names).
        digest: SHA-256 of the printed path and the text the document was parsed from (empty
            when unknown); results derived from the document alone are cached under it.
    """

    path: str
    data: dict[str, Any]
    values: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)
    keys: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)
    digest: str = ""

    def position(self, path: FieldPath, *, key: bool = False) -> tuple[int | None, int | None]:
        """Return the best known (line, column) for a field path.

        Args:
            path: Field path; when it is not in the document (a missing field), the nearest
                existing parent is used.
            key: Prefer the position of the key over that of the value.
        """
        probe = tuple(path)
        while True:
            if key and probe in self.keys:
                return self.keys[probe]
            if probe in self.values:
                return self.values[probe]
            if probe in self.keys:
                return self.keys[probe]
            if not probe:
                return (1, 1)
            probe = probe[:-1]


def format_field(path: FieldPath) -> str:
    """Return a field path as text: ``outcomes[0].measure``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def check_input_path(path: Path, root: Path) -> Problem | None:
    """Return why ``path`` must not be read as an input, or ``None`` when it may be.

    Every reader of an input file asks this first. An input must resolve (following every
    symlink) to a regular file inside the project root: a symlink to a file elsewhere would
    publish that file, one to ``/dev/zero`` would be read forever, a FIFO would block the
    build, and a symlink loop would raise.

    Args:
        path: The input file, as found under ``root``.
        root: Project root.
    """
    rel = relative_path(path, root)
    try:
        resolved = Path(path).resolve(strict=True)
        base = Path(root).resolve(strict=True)
        mode = resolved.stat().st_mode
    except RuntimeError:  # Python 3.11 reports a symlink loop this way
        return Problem(rel, None, None, "", "symlink loop; cannot read this file")
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return Problem(rel, None, None, "", "symlink loop; cannot read this file")
        return Problem(rel, None, None, "", f"cannot read file: {exc.strerror or exc}")
    if not resolved.is_relative_to(base):
        return Problem(
            rel,
            None,
            None,
            "",
            "a symlink leads outside the project; refusing to read it (copy the file in instead)",
        )
    if not stat.S_ISREG(mode):
        kind = (
            "a directory"
            if stat.S_ISDIR(mode)
            else "a FIFO"
            if stat.S_ISFIFO(mode)
            else "a device"
            if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket"
            if stat.S_ISSOCK(mode)
            else "not a regular file"
        )
        return Problem(rel, None, None, "", f"not a regular file ({kind}); refusing to read it")
    return None


def read_input(
    path: Path, root: Path, limit: int = MAX_FILE_BYTES
) -> tuple[bytes | None, list[Problem]]:
    """Read the bytes of an input file after :func:`check_input_path`, at most ``limit``.

    Args:
        path: File to read.
        root: Project root; problems name the file relative to it.
        limit: Largest size accepted, in bytes.

    Returns:
        The bytes (``None`` if the file must not or cannot be read) and the problems found.
    """
    refused = check_input_path(path, root)
    if refused is not None:
        return None, [refused]
    rel = relative_path(path, root)
    try:
        # Read one byte past the limit rather than trust the size from stat: the file may
        # grow between the two calls.
        with open(Path(path).resolve(), "rb") as handle:
            raw = handle.read(limit + 1)
            size = max(len(raw), os.fstat(handle.fileno()).st_size)
    except OSError as exc:
        return None, [Problem(rel, None, None, "", f"cannot read file: {exc.strerror or exc}")]
    if len(raw) > limit:
        msg = f"file is {size} bytes; the limit is {limit} bytes"
        return None, [Problem(rel, 1, None, "", msg)]
    return raw, []


def read_text(path: Path, root: Path) -> tuple[str | None, list[Problem]]:
    """Read a UTF-8 text file, rejecting what no input file should hold.

    Args:
        path: File to read.
        root: Project root; problems name the file relative to it.

    Returns:
        The text (``None`` if it cannot be used) and the problems found.
    """
    rel = relative_path(path, root)
    raw, problems = read_input(path, root)
    if raw is None:
        return None, problems
    if b"\x00" in raw:
        line, col = _byte_position(raw, raw.index(b"\x00"))
        return None, [Problem(rel, line, col, "", "file contains a NUL byte")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _byte_position(raw, exc.start)
        byte = raw[exc.start]
        msg = f"file is not valid UTF-8 (byte 0x{byte:02x}); save it as UTF-8"
        return None, [Problem(rel, line, col, "", msg)]
    if text.startswith("\ufeff"):
        text = text[1:]
    # Universal newlines, as MkDocs reads pages: a CRLF file must not keep its front matter.
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, []


def load_yaml(path: Path, root: Path) -> tuple[Document | None, list[Problem]]:
    """Load one YAML file holding one mapping, keeping positions and reporting every problem.

    Args:
        path: YAML file.
        root: Project root; problems name the file relative to it.

    Returns:
        The document (``None`` if it could not be read at all) and the problems found. A
        document may be returned together with problems (for example an ambiguous YAML 1.1
        value, which is kept as text).
    """
    rel = relative_path(path, root)
    text, problems = read_text(path, root)
    if text is None:
        return None, problems

    def parse() -> tuple[Document | None, tuple[Problem, ...]]:
        digest = content_hash(rel + "\0" + text)
        # Across builds: the parse (data, positions, problems) by path and text.
        table = disk_table("yaml")
        stored = table.get(digest) if table is not None else None
        restored = document_from_json(stored, rel, digest) if stored is not None else None
        if restored is not None:
            return restored
        doc, found = parse_yaml(text, rel)
        if doc is not None:
            doc.digest = digest
        if table is not None and (doc is None or _plain_json(doc.data)):
            table.put(digest, document_to_json(doc, found))
        return doc, tuple(found)

    # `mkdocs serve` rebuilds after every save; unchanged files are not parsed again.
    # Callers treat documents as read-only.
    doc, found = _YAML_CACHE.get((str(path.resolve()), rel), text, parse)
    table = disk_table("yaml")
    if table is not None and (doc is None or _plain_json(doc.data)):
        table.keep(content_hash(rel + "\0" + text), lambda: document_to_json(doc, found))
    return doc, list(found)


def loaded_yaml(path: Path, root: Path) -> Document | None:
    """Return the document :func:`load_yaml` last loaded from ``path``, loading it if none.

    For a second look at a file in the same build (the record hashes): the version the model
    was built from, without reading and checking the file again.
    """
    rel = relative_path(path, root)
    found = _YAML_CACHE.latest((str(path.resolve()), rel))
    if found is not None:
        return found[0]
    return load_yaml(path, root)[0]


def document_to_json(doc: Document | None, problems: Iterable[Problem]) -> dict[str, Any]:
    """Return a parse result as plain JSON data (for the cache across builds)."""
    out: dict[str, Any] = {"problems": [problem_to_json(p) for p in problems], "doc": None}
    if doc is not None:
        out["doc"] = {
            "data": doc.data,
            "values": [[list(path), *pos] for path, pos in doc.values.items()],
            "keys": [[list(path), *pos] for path, pos in doc.keys.items()],
        }
    return out


def document_from_json(
    data: Any, rel: str, digest: str
) -> tuple[Document | None, tuple[Problem, ...]] | None:
    """Rebuild what :func:`document_to_json` stored, or ``None`` if it is malformed."""
    try:
        problems = tuple(problem_from_json(p) for p in data["problems"])
        stored = data["doc"]
        if stored is None:
            return None, problems
        if not isinstance(stored["data"], dict):
            return None
        positions = []
        for name in ("values", "keys"):
            table: dict[FieldPath, tuple[int, int]] = {}
            for path, line, column in stored[name]:
                if not all(type(v) is int for v in (line, column)) or not all(
                    type(p) in (str, int) for p in path
                ):
                    return None
                table[tuple(path)] = (line, column)
            positions.append(table)
    except (KeyError, TypeError, ValueError):
        return None
    return Document(rel, stored["data"], positions[0], positions[1], digest), problems


def _plain_json(value: Any) -> bool:
    """Whether ``value`` survives a JSON round trip unchanged (mapping keys are text)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if not all(isinstance(k, str) for k in item):
                return False
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif item is not None and type(item) not in (str, int, float, bool):
            return False
    return True


def clear_cache() -> None:
    """Forget every parsed file (tests use this to measure cold loads)."""
    _YAML_CACHE.clear()


def parse_yaml(text: str, rel: str) -> tuple[Document | None, list[Problem]]:
    """Parse YAML text (see :func:`load_yaml`); ``rel`` is the path printed in problems."""
    if not text.strip() or all(
        not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()
    ):
        return None, [Problem(rel, 1, None, "", "file is empty; expected a mapping of fields")]
    bad = _NOT_PRINTABLE.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        col = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
        code = ord(bad.group())
        kind = (
            "a control character" if unicodedata.category(bad.group()) == "Cc" else "a noncharacter"
        )
        msg = f"file contains U+{code:04X}, {kind} YAML does not allow; remove it"
        return None, [Problem(rel, line, col, "", msg)]
    composer = _Composer(text, rel)
    try:
        node = composer.get_single_node()
    except _Refused as exc:
        return None, [exc.problem]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        message = exc.problem or exc.context or "invalid YAML"
        if "expected a single document" in str(exc):
            message = "file holds several YAML documents; keep one record per file"
        if "found character '\\t'" in message or _char_at(text, line, col) == "\t":
            message = "tab character used for indentation; indent with spaces"
        return None, [Problem(rel, line, col, "", f"YAML syntax: {message}")]
    except yaml.YAMLError as exc:  # a reader error has no mark; the check above finds most
        return None, [Problem(rel, None, None, "", f"YAML syntax: {exc}")]
    finally:
        composer.dispose()
    if node is None:
        return None, [Problem(rel, 1, None, "", "file is empty; expected a mapping of fields")]
    if not isinstance(node, yaml.MappingNode):
        line, col = node.start_mark.line + 1, node.start_mark.column + 1
        kind = "a list" if isinstance(node, yaml.SequenceNode) else "a single value"
        msg = f"top level is {kind}; expected a mapping of fields (key: value)"
        return None, [Problem(rel, line, col, "", msg)]
    doc = Document(rel, {})
    builder = _Builder(doc)
    doc.data = builder.build(node, ())
    return doc, builder.problems


class _Refused(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.format())
        self.problem = problem


#: libyaml's event parser when PyYAML was built with it (several times faster than the pure
#: Python scanner); composition below stays in Python so that every event can be checked.
_EventParser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PyComposer = yaml.composer.Composer


class _Composer(_EventParser):
    """Safe composer that refuses anchors, aliases and explicit tags before building nodes.

    Refusing anchors outright (rather than bounding expansion) stops alias bombs at the first
    ``&`` and keeps records simple to read. The field path of the node being composed is
    tracked, so that a refusal names the field as every other problem does.
    """

    # PyYAML's own composition, run on the events of whichever parser is in use (the C
    # parser would otherwise compose in C, out of reach of the checks in compose_node).
    get_single_node = _PyComposer.get_single_node
    compose_document = _PyComposer.compose_document
    compose_scalar_node = _PyComposer.compose_scalar_node
    compose_sequence_node = _PyComposer.compose_sequence_node
    compose_mapping_node = _PyComposer.compose_mapping_node

    def __init__(self, text: str, rel: str) -> None:
        super().__init__(text)
        self.anchors: dict[str, yaml.Node] = {}
        self._rel = rel
        self._paths: list[FieldPath] = []

    def _refuse(self, event: yaml.Event, message: str) -> None:
        mark = event.start_mark
        field = format_field(self._paths[-1]) if self._paths else ""
        raise _Refused(Problem(self._rel, mark.line + 1, mark.column + 1, field, message))

    def compose_node(self, parent: Any, index: Any) -> Any:
        # PyYAML passes the key node as ``index`` for a mapping value, the position for a
        # sequence item, and None for a key (which keeps its mapping's path).
        path: FieldPath = self._paths[-1] if self._paths else ()
        if isinstance(index, yaml.ScalarNode):
            path = (*path, index.value)
        elif isinstance(index, int):
            path = (*path, index)
        if len(self._paths) >= MAX_DEPTH:
            self._refuse(self.peek_event(), f"nested more than {MAX_DEPTH} levels deep")
        self._paths.append(path)
        try:
            return self._compose_checked(parent, index)
        finally:
            self._paths.pop()

    def _compose_checked(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self._refuse(event, f"YAML alias '*{event.anchor}' is not allowed; write the value out")
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._refuse(event, f"YAML anchor '&{anchor}' is not allowed; write the value out")
        tag = getattr(event, "tag", None)
        if tag is not None and tag != "!":
            implicit = getattr(event, "implicit", None)
            explicit = not (implicit is True or (isinstance(implicit, tuple) and any(implicit)))
            if explicit or isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                shown = tag.replace("tag:yaml.org,2002:", "!!")
                self._refuse(event, f"YAML tag '{shown}' is not allowed; remove it")
        return _PyComposer.compose_node(self, parent, index)


class _Builder:
    """Turn composed nodes into plain values with YAML 1.2 core typing, noting positions."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.problems: list[Problem] = []

    def _problem(self, node: yaml.Node, path: FieldPath, message: str) -> None:
        mark = node.start_mark
        self.problems.append(
            Problem(self.doc.path, mark.line + 1, mark.column + 1, format_field(path), message)
        )

    def build(self, node: yaml.Node, path: FieldPath) -> Any:
        self.doc.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        items = node.value if isinstance(node.value, list) else []
        if len(items) > MAX_ITEMS:
            kind = "mapping" if isinstance(node, yaml.MappingNode) else "list"
            msg = f"{kind} has {len(items)} items; at most {MAX_ITEMS} are allowed"
            self._problem(node, path, msg)
            items = items[:MAX_ITEMS]
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            seen: dict[str, int] = {}
            for key_node, value_node in items:
                if not isinstance(key_node, yaml.ScalarNode):
                    self._problem(key_node, path, "mapping keys must be plain text")
                    continue
                key = key_node.value
                if key == "<<" and not key_node.style:
                    self._problem(key_node, path, "YAML merge keys ('<<') are not allowed")
                    continue
                child = (*path, key)
                if key in seen:
                    first = seen[key]
                    self._problem(
                        key_node, child, f"duplicate key '{key}' (first defined on line {first})"
                    )
                    continue
                seen[key] = key_node.start_mark.line + 1
                self.doc.keys[child] = (
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                )
                out[key] = self.build(value_node, child)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(items)]
        return self._scalar(node, path)

    def _scalar(self, node: yaml.ScalarNode, path: FieldPath) -> Any:
        text = node.value
        if len(text) > MAX_TEXT:
            msg = f"text is {len(text)} characters long; at most {MAX_TEXT} are allowed"
            self._problem(node, path, msg)
            return text[:MAX_TEXT]
        if node.style:  # quoted or block scalar: always text (plain is None or "")
            return text
        hint = _yaml11_hint(text)
        if hint:
            self._problem(node, path, f"ambiguous value '{text}': {hint}")
            return text
        if _NULL.match(text):
            return None
        if _BOOL.match(text):
            return text.lower() == "true"
        if _INT.match(text) or _INT_OTHER.match(text):
            digits = len(text.lstrip("+-"))
            if digits > MAX_DIGITS:
                msg = f"number has {digits} digits; at most {MAX_DIGITS} are allowed"
                self._problem(node, path, msg)
                return text
        if _INT.match(text):
            return int(text)
        if _INT_OTHER.match(text):
            return int(text, 0)
        if _FLOAT.match(text):
            number = float(text)
            if not math.isfinite(number):
                # 1e400 reads as infinity, which passes every "at least" check.
                msg = f"number {text} is too large to be used; write a finite number"
                self._problem(node, path, msg)
                return text
            return number
        if _FLOAT_SPECIAL.match(text):
            # No field holds infinity or not-a-number, and NaN passes every range check.
            self._problem(
                node, path, f"'{text}' is not a usable number; write the number, or quote it"
            )
            return text
        return text


def _yaml11_hint(text: str) -> str | None:
    if _YAML11_BOOL.match(text):
        return (
            "YAML 1.1 reads it as a boolean; write true or false, or quote it "
            f"('{text}') if you mean the text"
        )
    if _YAML11_OCTAL.match(text):
        return (
            "YAML 1.1 reads a leading zero as an octal number; write the number without the "
            f"leading zero, or quote it ('{text}') if you mean the text"
        )
    if _YAML11_SEXAGESIMAL.match(text):
        return (
            "YAML 1.1 reads it as a base-60 number; quote it "
            f"('{text}') if you mean a ratio or a time"
        )
    if "_" in text and _YAML11_UNDERSCORE.match(text):
        return "YAML 1.1 reads it as a number with separators; write it without '_' or quote it"
    return None


def _char_at(text: str, line: int | None, col: int | None) -> str:
    """Return the character at a 1-based (line, column), or ``""``."""
    if line is None or col is None:
        return ""
    lines = text.split("\n")
    if not 0 < line <= len(lines) or not 0 < col <= len(lines[line - 1]):
        return ""
    return lines[line - 1][col - 1]


def _byte_position(raw: bytes, offset: int) -> tuple[int, int]:
    line = raw.count(b"\n", 0, offset) + 1
    col = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
    return line, col
