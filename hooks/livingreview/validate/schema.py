"""JSON Schema checks: validators for data/schema/, and schema errors explained in one line each."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

from ..errors import Problem
from ..load import Document, FieldPath, format_field

# --- loading -------------------------------------------------------------------------------


#: Draft 2020-12 with one change: ``integer`` means a whole number written without a
#: fraction. The standard type accepts ``41.0`` (and ``1e3``), which the loader reads as a
#: float; such a value would then slip past every cross-check that compares counts as ints.
_StrictValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool)
    ),
)


@cache
def _schema_validator(path: str, mtime_ns: int) -> jsonschema.Draft202012Validator:
    schema = json.loads(Path(path).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return _StrictValidator(schema)


def schema_validator(root: Path, name: str) -> jsonschema.Draft202012Validator:
    """Return the validator for ``data/schema/<name>.schema.json`` (cached while unchanged)."""
    path = root / "data" / "schema" / f"{name}.schema.json"
    return _schema_validator(str(path), path.stat().st_mtime_ns)


def shown_name(name: str) -> str:
    r"""Return a name quoted, with every non-ASCII character escaped (``'feder\u200b-2014'``).

    Look-alike names differ only in characters a terminal shows identically or not at all.
    """
    return "'" + name.encode("ascii", "backslashreplace").decode("ascii") + "'"


def schema_problems(
    doc: Document,
    validator: jsonschema.Draft202012Validator,
    problems: list[Problem],
    already: Iterable[Problem] = (),
) -> bool:
    """Append schema problems for ``doc``; return True if there were any.

    Problems the loader already reported for a field (an ambiguous YAML 1.1 value) are not
    reported again as a type error.
    """
    reported = {p.field for p in already}
    found = False
    for error in sorted(
        validator.iter_errors(doc.data), key=lambda e: list(map(str, e.absolute_path))
    ):
        for problem in _explain(doc, error, validator.schema):
            if problem.field in reported:
                continue
            problems.append(problem)
            found = True
    return found


def _explain(doc: Document, error: ValidationError, schema: dict[str, Any]) -> list[Problem]:
    path: FieldPath = tuple(error.absolute_path)
    if error.validator in ("oneOf", "anyOf") and error.context:
        return _explain(doc, best_match(error.context), schema)
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        line, col = doc.position(path)
        return [
            Problem(doc.path, line, col, format_field((*path, name)), "required field is missing")
            for name in missing
        ]
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        out = []
        for name in error.instance:
            if name in allowed:
                continue
            line, col = doc.position((*path, name), key=True)
            hint = did_you_mean(name, allowed)
            msg = f"unknown field '{name}'{hint}; allowed: {', '.join(allowed)}"
            out.append(Problem(doc.path, line, col, format_field((*path, name)), msg))
        return out
    line, col = doc.position(path)
    field = format_field(path)
    value = error.instance
    if error.validator == "type":
        wanted = error.validator_value
        wanted = " or ".join(wanted) if isinstance(wanted, list) else wanted
        msg = f"expected {_article(wanted)}, got {_describe(value)}"
    elif error.validator == "enum":
        allowed = ", ".join(str(v) for v in error.validator_value)
        msg = f"{_describe(value)} is not allowed; allowed: {allowed}"
    elif error.validator == "pattern":
        # Without a description, name the form itself rather than leave the reader guessing.
        desc = error.schema.get("description") or f"expected a match for {error.validator_value}"
        msg = f"{_describe(value)} has the wrong form: {desc}"
    elif error.validator in ("minimum", "exclusiveMinimum"):
        op = "at least" if error.validator == "minimum" else "more than"
        msg = f"{_describe(value)} is too small; must be {op} {error.validator_value}"
    elif error.validator in ("maximum", "exclusiveMaximum"):
        op = "at most" if error.validator == "maximum" else "less than"
        msg = f"{_describe(value)} is too large; must be {op} {error.validator_value}"
    elif error.validator in ("minItems", "minLength", "minProperties"):
        msg = "must not be empty"
    elif error.validator in ("maxLength",):
        msg = f"text is too long; at most {error.validator_value} characters"
    else:
        msg = error.message
    return [Problem(doc.path, line, col, field, msg)]


def _article(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f"text '{shown}'"
    if value is None:
        return "an empty value"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return a ``(did you mean 'x'?)`` hint for the closest choice, or nothing."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.7)
    return f" (did you mean '{close[0]}'?)" if close else ""
