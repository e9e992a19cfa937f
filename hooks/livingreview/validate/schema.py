"""JSON Schema checks: validators for data/schema/, and schema errors explained in one line each."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

from ..cache import content_hash, disk_table
from ..errors import Problem, ProblemsFound, problem_from_json, problem_to_json, relative_path
from ..load import Document, FieldPath, check_input_path, format_field

# --- loading -------------------------------------------------------------------------------


def _full_pattern(
    _validator: Any, pattern: str, instance: Any, _schema: dict[str, Any]
) -> Iterable[ValidationError]:
    r"""``pattern``, matched against the whole text.

    JSON Schema matches with a search, and Python's ``$`` also matches before a final
    newline, so ``feder-2014\n`` would pass ``^...$`` as an id, a file name and a URL part.
    """
    if isinstance(instance, str) and not re.fullmatch(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


#: Draft 2020-12 with two changes. ``integer`` means a whole number written without a
#: fraction: the standard type accepts ``41.0`` (and ``1e3``), which the loader reads as a
#: float; such a value would then slip past every cross-check that compares counts as ints.
#: ``pattern`` must match the whole text (:func:`_full_pattern`).
_StrictValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    validators={"pattern": _full_pattern},
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool)
    ),
)


#: The digest of each validator's schema file, by ``id`` (the validator is kept alive with it).
_SCHEMA_DIGESTS: dict[int, tuple[Any, str]] = {}


@cache
def _schema_validator(path: str, mtime_ns: int) -> jsonschema.Draft202012Validator:
    raw = Path(path).read_bytes()
    schema = json.loads(raw.decode("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = _StrictValidator(schema)
    _SCHEMA_DIGESTS[id(validator)] = (validator, content_hash(raw))
    return validator


def schema_validator(root: Path, name: str) -> jsonschema.Draft202012Validator:
    """Return the validator for ``data/schema/<name>.schema.json`` (cached while unchanged).

    Raises:
        ProblemsFound: When the schema is missing, unsafe to read, or not a valid schema;
            nothing can be checked against it.
    """
    path = root / "data" / "schema" / f"{name}.schema.json"
    rel = relative_path(path, root)
    refused = check_input_path(path, root)
    if refused is not None:
        if refused.message.startswith("cannot read file"):
            msg = "schema file is missing or unreadable; restore it from the repository"
            refused = Problem(rel, None, None, "", msg)
        raise ProblemsFound([refused])
    try:
        return _schema_validator(str(path), path.stat().st_mtime_ns)
    except (ValueError, jsonschema.SchemaError) as exc:
        msg = f"not a usable JSON Schema: {str(exc).splitlines()[0]}"
        raise ProblemsFound([Problem(rel, None, None, "", msg)]) from None


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
    for problem in _document_problems(doc, validator):
        if problem.field not in reported:
            problems.append(problem)
            found = True
    return found


def _document_problems(doc: Document, validator: jsonschema.Draft202012Validator) -> list[Problem]:
    """Every schema and value problem of ``doc``, cached across builds by content and schema.

    The result depends on the document's text and path (:attr:`Document.digest`), the schema
    and the library; the first two are in the key, the library in the table file.
    """
    # Only validators made from a schema file have a known digest to key the result by.
    known = _SCHEMA_DIGESTS.get(id(validator))
    table = disk_table("schema") if doc.digest and known is not None else None
    key = ""
    if table is not None and known is not None:
        key = content_hash(f"{known[1]}\0{doc.digest}")
        stored = table.get(key)
        if isinstance(stored, list):
            try:
                found = [problem_from_json(p) for p in stored]
            except (TypeError, ValueError):
                pass
            else:
                table.put(key, stored)
                return found
    out: list[Problem] = []
    for error in sorted(
        validator.iter_errors(doc.data), key=lambda e: list(map(str, e.absolute_path))
    ):
        out.extend(_explain(doc, error, validator.schema))
    out.extend(_value_problems(doc))
    if table is not None:
        table.put(key, [problem_to_json(p) for p in out])
    return out


#: Largest magnitude of any number in any input file. Counts, ages, doses and effects are all
#: far smaller; 1e308 is finite, but an interval of +-1e308 overflows every axis it is drawn on.
MAX_MAGNITUDE = 1_000_000


def _value_problems(doc: Document) -> list[Problem]:
    """Return problems no schema keyword expresses for every value: blank text, huge numbers.

    Text that is only whitespace passes ``minLength`` and would be published as nothing.
    """
    out: list[Problem] = []
    stack: list[tuple[FieldPath, Any]] = [((), doc.data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            stack.extend(((*path, k), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend(((*path, i), v) for i, v in enumerate(value))
        elif isinstance(value, str) and value and not value.strip():
            out.append(problem_at(doc, path, "text is blank; write the text or remove the field"))
        elif (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and abs(value) > MAX_MAGNITUDE
        ):
            msg = f"number {value} is implausibly large; at most {MAX_MAGNITUDE:,} in size"
            out.append(problem_at(doc, path, msg))
    return out


def problem_at(doc: Document, path: FieldPath, message: str) -> Problem:
    """Return a problem located at a field of a loaded document."""
    line, col = doc.position(path)
    return Problem(doc.path, line, col, format_field(path), message)


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
    elif error.validator == "maxItems":
        # jsonschema's own message repeats the whole list.
        msg = f"list has {len(value)} items; at most {error.validator_value} are allowed"
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
