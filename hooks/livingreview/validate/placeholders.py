"""TODO placeholders left by the scaffold, and what the schema says each field should hold.

Shared by the validator (one problem per placeholder) and by :mod:`..scaffold`, which writes them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import Problem
from ..load import Document, FieldPath, format_field

#: The placeholder written for every value the author must fill in.
TODO = "TODO"


#: What to write for a placeholder, by field spec, where the schema alone says too little.
HINTS: Mapping[str, str] = {
    "summary": "one or two sentences on the study, in your own words",
    "population.description": "who was studied, as the source describes them",
    "participants.n": (
        "the number of participants included (required for primary studies; for a review, "
        "delete it unless the review reports it)"
    ),
    "outcomes[].finding": (
        "what the source reports on this measure, with its numbers, in your own words"
    ),
    "outcomes[].source.locator": (
        "where in the source the finding is (for example 'Abstract', 'Table 2', 'p. 4')"
    ),
    "provenance[].locator": (
        "where in the source these parts are (for example 'Abstract', 'Table 1 and text')"
    ),
    "provenance[].note": (
        "what is not verified and why (delete the note when the status is verified)"
    ),
    "result.summary": "the study's main result in one sentence, in your own words",
    "adverse_events.summary": (
        "the adverse events as the source reports them, in your own words; with reporting "
        "'none-reported', say what was checked and found silent (for example 'The abstract "
        "has no statement on adverse events')"
    ),
    "adverse_events.source.locator": (
        "where in the source the adverse-event statement (or its absence) is, for example "
        "'Abstract'"
    ),
    "bibliographic.note": (
        "which bibliographic details could not be confirmed (delete the note when the status "
        "is verified)"
    ),
}


_TODO_RE = re.compile(r"^\s*TODO\b")


_VOCAB_RE = re.compile(r"vocabularies/([a-z_]+)\.yaml")


@dataclass(frozen=True)
class FieldSchema:
    """What the schema says about one field, with ``$ref`` resolved.

    Attributes:
        node: The field's schema with local ``$ref`` targets merged in.
        ref: Name of the ``$defs`` entry the field refers to (``key``, ``date``), or ``""``.
        vocabulary: Vocabulary file stem named in the field's description (or, for a list
            item, the list's), or ``""``.
        required: Whether the parent object requires the field.
    """

    node: Mapping[str, Any]
    ref: str = ""
    vocabulary: str = ""
    required: bool = True

    @property
    def description(self) -> str:
        """The field's description, or ``""``."""
        return str(self.node.get("description", ""))

    @property
    def kind(self) -> str:
        """``object``, ``array``, ``integer``, ``number``, ``enum`` or ``string``."""
        if "enum" in self.node:
            return "enum"
        kind = self.node.get("type", "string")
        return kind if isinstance(kind, str) else "string"


def _resolve(root: Mapping[str, Any], node: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """Merge a local ``$ref`` (``#/$defs/name``) into ``node``; return it and the ref name."""
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return dict(node), ""
    target: Any = root
    for part in ref[2:].split("/"):
        target = target.get(part, {}) if isinstance(target, Mapping) else {}
    resolved, _ = _resolve(root, target)
    resolved.update({k: v for k, v in node.items() if k != "$ref"})
    return resolved, ref.rsplit("/", 1)[-1]


def _vocabulary(description: str) -> str:
    match = _VOCAB_RE.search(description)
    return match.group(1) if match else ""


def field_schema(schema: Mapping[str, Any], path: FieldPath) -> FieldSchema | None:
    """Return what ``schema`` says about the field at ``path``, or ``None`` if it is unknown.

    Args:
        schema: A record schema (``data/schema/study.schema.json``).
        path: Field path; integers stand for any list item.
    """
    node, ref = _resolve(schema, schema)
    vocabulary, required = "", True
    for part in path:
        if isinstance(part, int):
            items = node.get("items")
            if not isinstance(items, Mapping):
                return None
            parent_vocab = _vocabulary(str(node.get("description", "")))
            node, ref = _resolve(schema, items)
            vocabulary = _vocabulary(str(node.get("description", ""))) or parent_vocab
            required = True
        else:
            props = node.get("properties", {})
            child = props.get(part)
            if child is None:
                extra = node.get("additionalProperties")
                if not isinstance(extra, Mapping):
                    return None
                child = extra
            required = part in node.get("required", [])
            node, ref = _resolve(schema, child)
            vocabulary = _vocabulary(str(node.get("description", "")))
    return FieldSchema(node, ref, vocabulary, required)


def field_spec(path: Sequence[str | int]) -> str:
    """Return a field spec with list indices generalized: ``outcomes[].source.ref``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += "[]"
        else:
            out += f".{part}" if out else part
    return out


def is_todo(value: Any) -> bool:
    """Return whether a value is a ``TODO`` placeholder (text starting with the word TODO)."""
    return isinstance(value, str) and bool(_TODO_RE.match(value))


def describe_placeholder(path: FieldPath, schema: Mapping[str, Any] | None = None) -> str:
    """Return what the author should write in place of a ``TODO`` at ``path``.

    Args:
        path: Field path of the placeholder.
        schema: The record schema, for the field's type, vocabulary or allowed values.
    """
    spec = field_spec(path)
    if spec in HINTS:
        return HINTS[spec]
    info = field_schema(schema, path) if schema is not None else None
    if info is None:
        return "the value the source reports"
    if info.vocabulary:
        what = f"a term from data/vocabularies/{info.vocabulary}.yaml"
    elif info.kind == "enum":
        what = "one of: " + ", ".join(str(v) for v in info.node["enum"])
    elif info.kind == "integer":
        what = "a whole number as the source reports it"
    elif info.kind == "number":
        what = "a number as the source reports it"
    elif info.ref == "key":
        what = "a BibTeX key from references.bib"
    elif info.ref == "date":
        what = "a date as YYYY-MM-DD"
    elif info.description:
        what = f"text ({info.description.rstrip('.')})"
    else:
        what = "text from the source, in your own words"
    if not info.required:
        what += ", or delete the field if the source does not report it"
    return what


def todo_problems(doc: Document, schema: Mapping[str, Any] | None = None) -> list[Problem]:
    """Return one problem per ``TODO`` placeholder left in a loaded record.

    Each reads ``path:line:col: error: <field>: TODO placeholder: fill in <what>``.

    Args:
        doc: A loaded record (study or trial).
        schema: Its JSON schema, to say what each placeholder should become; without it the
            message is generic for fields that :data:`HINTS` does not cover.
    """
    problems: list[Problem] = []

    def walk(value: Any, path: FieldPath) -> None:
        if isinstance(value, dict):
            for key, child in value.items():
                walk(child, (*path, key))
        elif isinstance(value, list):
            for i, child in enumerate(value):
                walk(child, (*path, i))
        elif is_todo(value):
            line, col = doc.position(path)
            what = describe_placeholder(path, schema)
            problems.append(
                Problem(
                    doc.path, line, col, format_field(path), f"TODO placeholder: fill in {what}"
                )
            )

    walk(doc.data, ())
    return problems
