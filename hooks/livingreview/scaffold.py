"""Scaffold a new study record from a BibTeX entry, and find the placeholders it leaves.

:func:`scaffold_record` writes the text of ``data/studies/<id>.yaml`` with every field that the
record schema requires (found by walking the schema's ``required`` lists, so the scaffold
follows the schema when it changes), prefilled where the bibliography or the command line says
what to write (id, reference keys, dates, verification statuses) and ``TODO`` everywhere else.
The YAML is written by hand, not dumped, so fields come in schema order with comments naming
the allowed vocabulary terms.

:func:`todo_problems` reports every ``TODO`` left in a loaded record as a :class:`Problem`, so
that the validator rejects a scaffold until every placeholder is filled in.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .load import load_yaml
from .validate.placeholders import HINTS, TODO, FieldSchema, field_schema, field_spec

if TYPE_CHECKING:
    from .bibliography import Entry


#: First line of every record: lets YAML-aware editors autocomplete and check fields.
SCHEMA_COMMENT = "# yaml-language-server: $schema=../schema/study.schema.json"

#: Optional fields the scaffold writes although the schema does not require them: the
#: validator requires ``participants.n`` for primary studies, and every provenance entry and
#: the bibliographic status need a note saying what is not verified unless it is verified.
EXTRA_FIELDS = (
    "participants.n",
    "provenance[].locator",
    "provenance[].note",
    "bibliographic.note",
)


_PLAIN_SCALAR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./+-]*$")
_YAML_WORDS = re.compile(
    r"^(?:~|null|true|false|yes|no|on|off|y|n)$|^[-+]?[0-9._]+(?:[eE][-+]?[0-9]+)?$",
    re.IGNORECASE,
)
# Letters that NFKD does not decompose into a base letter and combining marks.
_LETTERS = str.maketrans(
    {
        "ß": "ss",
        "ø": "o",
        "Ø": "o",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "Ð": "d",
        "þ": "th",
        "Þ": "th",
        "ı": "i",
    }
)
_APOSTROPHES = re.compile("['\u2019\u02bc`]")
_NOT_LETTERS = re.compile(r"[^a-z]+")
_WIDTH = 100
_COMMENT_COLUMN = 37


# --- ids -----------------------------------------------------------------------------------


def ascii_slug(text: str) -> str:
    """Return ``text`` as lowercase ASCII words joined by hyphens (``Ødegård`` -> ``odegard``).

    Accents are dropped (NFKD, then combining marks removed), a few letters without a
    decomposition are spelled out (``ß`` -> ``ss``), apostrophes vanish (``O'Brien`` ->
    ``obrien``) and every other run of non-letters becomes one hyphen.
    """
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    bare = _APOSTROPHES.sub("", bare.translate(_LETTERS)).lower()
    return _NOT_LETTERS.sub("-", bare).strip("-")


def entry_year(entry: Entry) -> int | None:
    """Return the entry's publication year, or ``None`` when it has none."""
    issued = entry.csl.get("issued") or {}
    parts = issued.get("date-parts")
    if parts and parts[0] and isinstance(parts[0][0], int):
        return parts[0][0]
    return None


def entry_surname(entry: Entry) -> str | None:
    """Return the first author's (or editor's) surname with any particle, or ``None``."""
    csl = entry.csl
    for variable in ("author", "editor"):
        for person in csl.get(variable) or []:
            if "literal" in person:
                return str(person["literal"])
            family = person.get("family", "")
            particle = person.get("non-dropping-particle")
            name = f"{particle} {family}" if particle else family
            if name.strip():
                return name
    return None


def base_id(entry: Entry) -> str | None:
    """Return ``<first-author-surname>-<year>`` for an entry, or ``None`` if it lacks either."""
    surname, year = entry_surname(entry), entry_year(entry)
    slug = ascii_slug(surname or "")
    if not slug or year is None:
        return None
    return f"{slug}-{year:04d}"


def free_id(base: str, taken: Iterable[str]) -> str:
    """Return ``base``, or ``base`` plus ``b``, ``c``, ... when it is taken (case-insensitive)."""
    used = {t.casefold() for t in taken}
    if base.casefold() not in used:
        return base
    for letter in "bcdefghijklmnopqrstuvwxyz":
        candidate = base + letter
        if candidate.casefold() not in used:
            return candidate
    raise ValueError(f"every id from {base}b to {base}z is taken")


# --- the schema ----------------------------------------------------------------------------


# --- placeholders --------------------------------------------------------------------------


# --- writing the scaffold ------------------------------------------------------------------


@dataclass
class _Node:
    """One value of the scaffold: a scalar (``text``), a mapping or a list."""

    text: str | None = None
    fields: list[tuple[str, _Node]] | None = None
    items: list[_Node] | None = None
    comment: str = ""

    def flow(self) -> str | None:
        """Return the value in flow style when it needs no comments inside, else ``None``."""
        if self.text is not None:
            return self.text
        if self.items is not None:
            if any(i.text is None or i.comment for i in self.items):
                return None
            return "[" + ", ".join(str(i.text) for i in self.items) + "]"
        assert self.fields is not None
        if any(n.comment or n.text is None for _, n in self.fields):
            return None
        return "{" + ", ".join(f"{k}: {n.text}" for k, n in self.fields) + "}"


@dataclass
class ScaffoldInput:
    """What the scaffold knows before the author opens the file.

    Attributes:
        study_id: The record id (also the file name).
        key: BibTeX key of the primary report.
        today: Date for ``added`` and ``updated`` (YYYY-MM-DD).
        vocabularies: Vocabulary file stem -> term ids, for the comments.
        values: Field spec -> prefilled value (``condition``, ``design``).
    """

    study_id: str
    key: str
    today: str
    vocabularies: Mapping[str, Sequence[str]] = field(default_factory=dict)
    values: Mapping[str, str] = field(default_factory=dict)


def yaml_scalar(text: str) -> str:
    """Return ``text`` as a YAML scalar: plain when that is unambiguous, else double-quoted."""
    if _PLAIN_SCALAR.match(text) and not _YAML_WORDS.match(text) and ":" not in text:
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _vocab_comment(name: str, ids: Sequence[str], many: bool) -> str:
    lead = "one or more of" if many else "one of"
    where = f"data/vocabularies/{name}.yaml"
    return f"{lead} {where}: {', '.join(ids)}" if ids else where


def _build(
    schema: Mapping[str, Any], info: FieldSchema, path: tuple[str | int, ...], given: ScaffoldInput
) -> _Node:
    spec = field_spec(path)
    node = info.node
    if spec in given.values:
        comment = ""
        if info.vocabulary:
            ids = given.vocabularies.get(info.vocabulary, ())
            comment = _vocab_comment(info.vocabulary, ids, many=False)
        return _Node(text=yaml_scalar(given.values[spec]), comment=comment)
    if spec == "id":
        return _Node(text=yaml_scalar(given.study_id))
    if info.ref == "date":
        return _Node(text=f'"{given.today}"')
    if info.ref == "key":
        return _Node(text=yaml_scalar(given.key))
    if info.ref == "status":
        return _Node(text="unverified", comment=" | ".join(node["enum"]))
    kind = info.kind
    if kind == "object":
        props: Mapping[str, Any] = node.get("properties", {})
        wanted = set(node.get("required", []))
        wanted |= {s.rsplit(".", 1)[1] for s in EXTRA_FIELDS if s.rsplit(".", 1)[0] == spec}
        fields = []
        for name in props:
            if name in wanted:
                child = field_schema(schema, (*path, name))
                assert child is not None
                fields.append((name, _build(schema, child, (*path, name), given)))
        return _Node(fields=fields, comment=_comment(info, spec))
    if kind == "array":
        item = field_schema(schema, (*path, 0))
        assert item is not None
        if item.kind == "enum":
            # A list of fixed words (provenance covers): start with the required top-level
            # fields the list may name, and list every allowed word in the comment.
            allowed = [str(v) for v in item.node["enum"]]
            required = schema.get("required", [])
            chosen = [v for v in allowed if v in required] or [TODO]
            return _Node(
                text="[" + ", ".join(chosen) + "]", comment="allowed: " + ", ".join(allowed)
            )
        child = _build(schema, item, (*path, 0), given)
        comment = _comment(info, spec)
        if item.vocabulary and child.text == TODO:
            ids = given.vocabularies.get(item.vocabulary, ())
            comment = _vocab_comment(item.vocabulary, ids, many=True)
            child = _Node(text=TODO)
        return _Node(items=[child], comment=comment)
    if info.vocabulary:
        ids = given.vocabularies.get(info.vocabulary, ())
        return _Node(text=TODO, comment=_vocab_comment(info.vocabulary, ids, many=False))
    if kind == "enum":
        return _Node(text=TODO, comment="one of: " + " | ".join(str(v) for v in node["enum"]))
    return _Node(text=TODO, comment=_comment(info, spec))


def _comment(info: FieldSchema, spec: str) -> str:
    if info.vocabulary:
        return ""
    if spec in HINTS:
        return HINTS[spec][:1].upper() + HINTS[spec][1:] + "."
    return info.description


def _with_comment(line: str, comment: str, indent: str, out: list[str]) -> None:
    """Append ``line`` with a trailing comment, or with the comment above it when too long.

    ``indent`` is where a comment above the line starts (the column of the line's key, or of
    the dash for the first field of a list item).
    """
    if not comment:
        out.append(line)
        return
    trailing = f"{line.ljust(_COMMENT_COLUMN - 1)} # {comment}"
    if len(trailing) <= _WIDTH:
        out.append(trailing)
        return
    width = _WIDTH - len(indent) - 2
    parts = textwrap.wrap(comment, width, break_on_hyphens=False, break_long_words=False)
    out.extend(f"{indent}# {part}" for part in parts)
    out.append(line)


def _emit_fields(fields: list[tuple[str, _Node]], indent: str, out: list[str], dash: str) -> None:
    """Write mapping fields; ``dash`` is ``"- "`` for the first field of a list item."""
    for i, (name, node) in enumerate(fields):
        lead = indent + (dash if i == 0 else " " * len(dash))
        inner = indent + " " * len(dash)
        above = indent if i == 0 else inner
        flow = node.flow()
        if flow is not None:
            _with_comment(f"{lead}{name}: {flow}", node.comment, above, out)
        elif node.fields is not None:
            _with_comment(f"{lead}{name}:", node.comment, above, out)
            _emit_fields(node.fields, inner + "  ", out, "")
        else:
            assert node.items is not None
            _with_comment(f"{lead}{name}:", node.comment, above, out)
            for item in node.items:
                if item.fields is not None:
                    _emit_fields(item.fields, inner + "  ", out, "- ")
                else:
                    _with_comment(f"{inner}  - {item.flow()}", item.comment, inner + "    ", out)


def scaffold_record(schema: Mapping[str, Any], given: ScaffoldInput) -> str:
    """Return the text of a new study record with every required field.

    Args:
        schema: The study record schema (``data/schema/study.schema.json``), already parsed.
        given: The id, primary reference key, date and any prefilled values.

    Returns:
        YAML text whose first line is :data:`SCHEMA_COMMENT`. Every value the author must
        supply is ``TODO``; :func:`todo_problems` finds each one after loading.
    """
    info = field_schema(schema, ())
    assert info is not None
    root = _build(schema, info, (), given)
    assert root.fields is not None
    out = [SCHEMA_COMMENT]
    _emit_fields(root.fields, "", out, "")
    return "\n".join(line.rstrip() for line in out) + "\n"


def vocabulary_ids(root: Path) -> dict[str, list[str]]:
    """Return term ids by vocabulary file stem, skipping files that do not load cleanly."""
    out: dict[str, list[str]] = {}
    folder = root / "data" / "vocabularies"
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        doc, problems = load_yaml(path, root)
        if doc is None or problems or not isinstance(doc.data.get("terms"), list):
            continue
        out[path.stem] = [
            str(t["id"]) for t in doc.data["terms"] if isinstance(t, dict) and "id" in t
        ]
    return out
