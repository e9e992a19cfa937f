"""Study data downloads: the records as CSV (per study, per outcome) and JSON, with a dictionary.

Everything is written from the validated :class:`~.model.Catalog`, never from the YAML files,
so the downloads show exactly what the pages show. Column descriptions come from the study
schema (``data/schema/study.schema.json``), so the data dictionary cannot drift from the
records' definition.

Spreadsheets run a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and, in some, a tab or
carriage return) as a formula. Text cells that begin so are written with a leading apostrophe,
which spreadsheets show as text (OWASP's advice for CSV injection); numbers are written as
numbers, so ``-5`` stays a number.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .model import Catalog, Outcome, Quantity, format_number
from .validate.placeholders import field_schema

#: Characters that make a spreadsheet read a cell as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Row = Mapping[str, Any]
Column = tuple[str, str, Callable[[Any], Any]]


def neutralise(value: Any) -> str:
    """Return a CSV cell: numbers as written, text starting like a formula made inert."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format_number(value)
    text = "; ".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _quantity(q: Quantity | None) -> str:
    if q is None:
        return ""
    parts = [
        f"{name} {format_number(getattr(q, name))}"
        for name in ("value", "mean", "sd", "median", "min", "max")
        if getattr(q, name) is not None
    ]
    return ", ".join(parts + ([q.note] if q.note else []))


#: Columns of ``studies.csv``: (column, schema field it comes from, value).
STUDY_COLUMNS: tuple[Column, ...] = (
    ("id", "id", lambda s: s.id),
    ("condition", "condition", lambda s: s.condition),
    ("design", "design", lambda s: s.design),
    ("summary", "summary", lambda s: s.summary),
    ("population", "population.description", lambda s: s.population),
    ("population_group", "population.group", lambda s: s.population_group),
    ("setting", "setting", lambda s: s.setting),
    ("country", "country", lambda s: s.country),
    ("n", "participants.n", lambda s: s.n),
    ("n_female", "participants.n_female", lambda s: s.n_female),
    ("age_years", "participants.age_years", lambda s: _quantity(s.age_years)),
    ("diagnoses", "diagnoses", lambda s: s.diagnoses),
    ("comorbidities", "comorbidities", lambda s: s.comorbidities),
    ("drug", "intervention.drug", lambda s: s.drug),
    ("routes", "intervention.routes", lambda s: s.routes),
    ("sessions", "intervention.sessions", lambda s: _quantity(s.sessions)),
    ("comparator", "comparator", lambda s: s.comparator),
    ("follow_up", "follow_up", lambda s: s.follow_up),
    ("result_category", "result.category", lambda s: s.result_category),
    ("result_summary", "result.summary", lambda s: s.result_summary),
    ("registration", "registration", lambda s: s.registration),
    ("references", "references", lambda s: s.references),
    ("verification", "bibliographic.status", lambda s: s.status),
    ("added", "added", lambda s: s.added),
    ("updated", "updated", lambda s: s.updated),
)

#: Columns of ``outcomes.csv``, one row per outcome: (column, schema field, value of
#: (study, outcome)).
OUTCOME_COLUMNS: tuple[Column, ...] = (
    ("study_id", "id", lambda so: so[0].id),
    ("measure", "outcomes[].measure", lambda so: so[1].measure),
    ("primary", "outcomes[].primary", lambda so: so[1].primary),
    ("timepoint", "outcomes[].timepoint", lambda so: so[1].timepoint),
    ("finding", "outcomes[].finding", lambda so: so[1].finding),
    ("effect_measure", "outcomes[].effect.measure", lambda so: _effect(so[1], "measure")),
    ("estimate", "outcomes[].effect.estimate", lambda so: _effect(so[1], "estimate")),
    ("ci_lower", "outcomes[].effect.ci_lower", lambda so: _effect(so[1], "ci_lower")),
    ("ci_upper", "outcomes[].effect.ci_upper", lambda so: _effect(so[1], "ci_upper")),
    ("ci_level", "outcomes[].effect.ci_level", lambda so: _effect(so[1], "ci_level")),
    ("p_value", "outcomes[].effect.p_value", lambda so: _effect(so[1], "p_value")),
    ("source", "outcomes[].source.ref", lambda so: so[1].source.ref),
    ("locator", "outcomes[].source.locator", lambda so: so[1].source.locator),
)


def _effect(outcome: Outcome, name: str) -> Any:
    return getattr(outcome.effect, name) if outcome.effect is not None else None


def _csv(columns: Sequence[Column], rows: Iterable[Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([name for name, _, _ in columns])
    for row in rows:
        writer.writerow([neutralise(value(row)) for _, _, value in columns])
    return out.getvalue()


def studies_csv(catalog: Catalog) -> str:
    """Return ``studies.csv``: one row per study record, in the catalog's order."""
    return _csv(STUDY_COLUMNS, catalog.studies)


def outcomes_csv(catalog: Catalog) -> str:
    """Return ``outcomes.csv``: one row per reported outcome of each study."""
    return _csv(OUTCOME_COLUMNS, ((s, o) for s in catalog.studies for o in s.outcomes))


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def studies_json(catalog: Catalog) -> str:
    """Return ``studies.json``: every study record with every field the model holds."""
    records: list[dict[str, Any]] = []
    for study in catalog.studies:
        record = _plain(study)
        assert isinstance(record, dict)
        record["verification"] = study.status
        records.append(record)
    return json.dumps(records, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _description(schema: Mapping[str, Any], field: str) -> tuple[str, str]:
    path: list[str | int] = []
    for part in field.split("."):
        name, brackets, _ = part.partition("[]")
        path.append(name)
        if brackets:
            path.append(0)
    info = field_schema(schema, tuple(path))
    if info is None:
        return "", ""
    node = info.node
    kind = node.get("type", "")
    kind = "/".join(kind) if isinstance(kind, list) else str(kind or info.ref or "")
    return kind, " ".join(str(node.get("description", "")).split())


def data_dictionary(schema: Mapping[str, Any]) -> str:
    """Return ``data-dictionary.csv``: every column of the CSV files, described by the schema."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["file", "column", "schema_field", "type", "description"])
    for file, columns in (("studies.csv", STUDY_COLUMNS), ("outcomes.csv", OUTCOME_COLUMNS)):
        for name, field, _ in columns:
            kind, description = _description(schema, field)
            row = [file, name, field, kind, description]
            writer.writerow([neutralise(cell) for cell in row])
    return out.getvalue()


__all__ = [
    "OUTCOME_COLUMNS",
    "STUDY_COLUMNS",
    "data_dictionary",
    "neutralise",
    "outcomes_csv",
    "studies_csv",
    "studies_json",
]
