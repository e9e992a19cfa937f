"""Validate loaded documents into the immutable model, collecting every problem.

Checks run in three layers: the loader (syntax, duplicate keys, YAML 1.1 surprises), the JSON
Schemas in ``data/schema/`` (shape, types, ranges), then cross-checks that a schema cannot
express (ids equal to file names and unique, vocabulary terms, reference keys, ordered ranges,
events within n, real dates not in the future).
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

from .errors import Problem, ProblemsFound, relative_path
from .load import Document, FieldPath, check_input_path, format_field, load_yaml
from .model import (
    AdverseEvents,
    Arm,
    Catalog,
    Discrepancy,
    Dose,
    Effect,
    Outcome,
    Provenance,
    Quantity,
    RiskOfBias,
    Source,
    Study,
    Term,
    Trial,
    Vocabulary,
)
from .scaffold import todo_problems

#: Vocabularies every dataset needs, by file stem in ``data/vocabularies/``.
REQUIRED_VOCABULARIES = (
    "conditions",
    "diagnoses",
    "comorbidities",
    "designs",
    "drugs",
    "routes",
    "comparators",
    "outcome_measures",
    "result_categories",
    "co_intervention_kinds",
    "trial_statuses",
    "effect_measures",
)

#: Which vocabulary each term field of a study record draws from.
_STUDY_TERMS: tuple[tuple[str, str], ...] = (
    ("condition", "conditions"),
    ("design", "designs"),
    ("diagnoses[]", "diagnoses"),
    ("comorbidities[]", "comorbidities"),
    ("intervention.drug", "drugs"),
    ("intervention.routes[]", "routes"),
    ("co_interventions[].kind", "co_intervention_kinds"),
    ("comparator", "comparators"),
    ("outcomes[].measure", "outcome_measures"),
    ("outcomes[].effect.measure", "effect_measures"),
    ("result.category", "result_categories"),
)

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class KeySet(Protocol):
    """What the validator needs from the bibliography: membership and suggestions."""

    def __contains__(self, key: object) -> bool:
        """Return whether ``key`` is in the bibliography."""
        ...

    def suggest(self, key: str) -> list[str]:
        """Return close matches for an unknown key, best first."""
        ...


def today() -> dt.date:
    """Return today's date, or the date of ``SOURCE_DATE_EPOCH`` for reproducible builds.

    Raises:
        ProblemsFound: When ``SOURCE_DATE_EPOCH`` is set but is not a usable time stamp.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return dt.date.today()
    try:
        # isdigit() also accepts digits such as "²"; int() then fails, as do dates past 9999.
        if not (epoch.isascii() and epoch.isdigit()):
            raise ValueError(epoch)
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).date()
    except (ValueError, OverflowError, OSError):
        shown = epoch if len(epoch) <= 40 else epoch[:37] + "..."
        msg = (
            f"SOURCE_DATE_EPOCH '{shown}' is not a usable time stamp; set it to whole seconds "
            "since 1970 (git log -1 --format=%ct) or unset it"
        )
        raise ProblemsFound([Problem("SOURCE_DATE_EPOCH", None, None, "", msg)]) from None


def load_catalog(root: Path, keys: KeySet) -> tuple[Catalog | None, list[Problem]]:
    """Load and validate everything under ``root/data`` into a :class:`Catalog`.

    Args:
        root: Directory holding ``data/``.
        keys: The loaded bibliography (for reference keys).

    Returns:
        The catalog, or ``None`` when any problem was found, and every problem.
    """
    data = root / "data"
    problems: list[Problem] = []
    if not data.is_dir():
        return None, [Problem(relative_path(data, root), None, None, "", "directory not found")]
    vocabularies = _load_vocabularies(root, problems)
    glossary = _load_glossary(root, problems)
    studies = _load_records(root, "studies", "study", problems)
    trials = _load_records(root, "trials", "trial", problems)
    if problems and not vocabularies:
        return None, problems
    study_models = []
    for doc in studies:
        count = len(problems)
        _check_study(doc, vocabularies, keys, problems)
        if len(problems) == count:
            study_models.append(_build_study(doc, _author_name(keys, doc.data)))
    trial_models = []
    for doc in trials:
        count = len(problems)
        _check_trial(doc, vocabularies, keys, problems)
        if len(problems) == count:
            trial_models.append(_build_trial(doc))
    if problems:
        return None, problems
    catalog = Catalog(
        studies=tuple(sorted(study_models, key=lambda s: (s.year, s.id))),
        trials=tuple(sorted(trial_models, key=lambda t: t.id)),
        vocabularies=MappingProxyType(vocabularies),
        glossary=glossary,
    )
    return catalog, []


# --- loading -------------------------------------------------------------------------------


#: Draft 2020-12 with one change: ``integer`` means a whole number written without a
#: fraction. The standard type accepts ``41.0`` (and ``1e3``), which the loader reads as a
#: float; such a value would then slip past every cross-check that compares counts as ints.
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


@cache
def _schema_validator(path: str, mtime_ns: int) -> jsonschema.Draft202012Validator:
    schema = json.loads(Path(path).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return _StrictValidator(schema)


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


def _record_files(folder: Path, root: Path, problems: list[Problem]) -> list[Path]:
    """Return the ``*.yaml`` files of a record folder; report anything else in it.

    Hidden files (``.DS_Store``) and hidden folders are skipped, but a hidden name ending in
    ``.yaml`` (``...yaml``) is loaded like any record, so that its id is checked instead of the
    record silently vanishing; so is a sub-folder reported, as a record in it would never load.
    """
    if not folder.is_dir():
        return []
    files = []
    for path in sorted(folder.iterdir()):
        hidden = path.name.startswith(".")
        if path.is_dir():
            if not hidden:
                rel = relative_path(path, root)
                msg = (
                    f"unexpected folder; records are YAML files named <id>.yaml directly in "
                    f"{relative_path(folder, root)}/"
                )
                problems.append(Problem(rel, None, None, "", msg))
            continue
        if path.name.endswith(".yaml"):
            files.append(path)
        elif not hidden:
            rel = relative_path(path, root)
            msg = "unexpected file; records are YAML files named <id>.yaml"
            problems.append(Problem(rel, None, None, "", msg))
    return files


def _load_records(root: Path, folder: str, schema: str, problems: list[Problem]) -> list[Document]:
    docs = []
    files = _record_files(root / "data" / folder, root, problems)
    _check_id_collisions(files, root, problems)
    validator = schema_validator(root, schema)
    for path in files:
        doc, found = load_yaml(path, root)
        if doc is not None:
            # A TODO left by scripts/new_study.py: one clear line, instead of a type error.
            found = [*found, *todo_problems(doc, validator.schema)]
        problems.extend(found)
        if doc is None:
            continue
        if _schema_problems(doc, validator, problems, already=found):
            continue
        stem = path.name[: -len(".yaml")]
        if doc.data.get("id") != stem:
            line, col = doc.position(("id",))
            msg = f"id '{doc.data.get('id')}' must equal the file name {_shown(stem)}"
            problems.append(Problem(doc.path, line, col, "id", msg))
            continue
        if not found:
            docs.append(doc)
    return docs


def _load_vocabularies(root: Path, problems: list[Problem]) -> dict[str, Vocabulary]:
    folder = root / "data" / "vocabularies"
    validator = schema_validator(root, "vocabulary")
    vocabularies: dict[str, Vocabulary] = {}
    for path in _record_files(folder, root, problems):
        doc, found = load_yaml(path, root)
        problems.extend(found)
        if doc is None or found or _schema_problems(doc, validator, problems):
            continue
        stem = path.stem
        if doc.data["name"] != stem:
            line, col = doc.position(("name",))
            msg = f"vocabulary name '{doc.data['name']}' must equal the file name '{stem}'"
            problems.append(Problem(doc.path, line, col, "name", msg))
            continue
        terms = []
        seen: dict[str, int] = {}
        for i, raw in enumerate(doc.data["terms"]):
            key = raw["id"].casefold()
            if key in seen:
                line, col = doc.position(("terms", i, "id"))
                msg = f"duplicate term '{raw['id']}' (also terms[{seen[key]}])"
                problems.append(Problem(doc.path, line, col, f"terms[{i}].id", msg))
                continue
            seen[key] = i
            extra = {
                k: v
                for k, v in raw.items()
                if k not in ("id", "label", "abbreviation", "description")
            }
            terms.append(
                Term(
                    id=raw["id"],
                    label=raw["label"],
                    abbreviation=raw.get("abbreviation", ""),
                    description=raw.get("description", ""),
                    extra=MappingProxyType(extra),
                )
            )
        vocabularies[stem] = Vocabulary(stem, tuple(terms))
    for name in REQUIRED_VOCABULARIES:
        if name not in vocabularies and not any(p.path.endswith(f"/{name}.yaml") for p in problems):
            rel = f"data/vocabularies/{name}.yaml"
            problems.append(Problem(rel, None, None, "", "required vocabulary file is missing"))
    return vocabularies


def _load_glossary(root: Path, problems: list[Problem]) -> tuple[tuple[str, str], ...]:
    """Load ``data/glossary.yaml`` (optional): abbreviation -> definition, unique."""
    path = root / "data" / "glossary.yaml"
    if not os.path.lexists(path):  # a dangling symlink or FIFO is reported, not skipped
        return ()
    doc, found = load_yaml(path, root)
    problems.extend(found)
    if doc is None or found or _schema_problems(doc, schema_validator(root, "glossary"), problems):
        return ()
    terms: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, raw in enumerate(doc.data["terms"]):
        if raw["abbr"] in seen:
            line, col = doc.position(("terms", i, "abbr"))
            msg = f"abbreviation '{raw['abbr']}' is defined twice"
            problems.append(Problem(doc.path, line, col, f"terms[{i}].abbr", msg))
            continue
        # Each definition becomes one Markdown line (``*[abbr]: definition``) on every page: a
        # line break would end it, and the next line would be read as page content (raw HTML).
        definition = raw["definition"].rstrip("\n")  # a folded scalar's final newline is fine
        if len(definition.splitlines()) > 1 or any(
            unicodedata.category(c) == "Cc" for c in definition
        ):
            line, col = doc.position(("terms", i, "definition"))
            msg = (
                "a definition must be one line of text; remove the line break or control character"
            )
            problems.append(Problem(doc.path, line, col, f"terms[{i}].definition", msg))
            continue
        seen.add(raw["abbr"])
        terms.append((raw["abbr"], definition))
    return tuple(terms)


def _check_id_collisions(files: list[Path], root: Path, problems: list[Problem]) -> None:
    """Report file names that differ only by case, Unicode normalization or invisible marks.

    Such names would map to the same URL on case-insensitive hosts and look identical to a
    reviewer, so the second one is an error even where the file system keeps both.
    """

    def key(path: Path) -> str:
        stem = path.name[: -len(".yaml")]
        return _ZERO_WIDTH.sub("", unicodedata.normalize("NFKC", stem)).casefold()

    seen: dict[str, Path] = {}
    # A name already in canonical form keeps its place and the look-alike is reported, so
    # the message points at the file that was added, whatever the sort order of the names.
    for path in sorted(files, key=lambda p: (key(p) != p.name[: -len(".yaml")], p.name)):
        stem = path.name[: -len(".yaml")]
        if key(path) in seen:
            rel = relative_path(path, root)
            other = relative_path(seen[key(path)], root)
            msg = (
                f"record id {_shown(stem)} collides with {_shown(other)} (ids must differ by "
                "more than case, Unicode normalization or invisible characters)"
            )
            problems.append(Problem(rel, 1, None, "id", msg))
        else:
            seen[key(path)] = path


def _shown(name: str) -> str:
    r"""Return a name quoted, with every non-ASCII character escaped (``'feder\u200b-2014'``).

    Look-alike names differ only in characters a terminal shows identically or not at all.
    """
    return "'" + name.encode("ascii", "backslashreplace").decode("ascii") + "'"


def _schema_problems(
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
    for problem in _value_problems(doc):
        if problem.field not in reported:
            problems.append(problem)
            found = True
    return found


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
            out.append(_problem(doc, path, "text is blank; write the text or remove the field"))
        elif (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and abs(value) > MAX_MAGNITUDE
        ):
            msg = f"number {value} is implausibly large; at most {MAX_MAGNITUDE:,} in size"
            out.append(_problem(doc, path, msg))
    return out


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
            hint = _did_you_mean(name, allowed)
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


def _did_you_mean(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.7)
    return f" (did you mean '{close[0]}'?)" if close else ""


# --- cross-checks --------------------------------------------------------------------------


def _walk(data: Any, spec: str) -> list[tuple[FieldPath, Any]]:
    """Return (path, value) for a field spec such as ``outcomes[].measure``."""
    results: list[tuple[FieldPath, Any]] = [((), data)]
    for part in spec.split("."):
        many = part.endswith("[]")
        name = part[:-2] if many else part
        nxt: list[tuple[FieldPath, Any]] = []
        for path, value in results:
            if not isinstance(value, dict) or name not in value:
                continue
            child = value[name]
            if many:
                if isinstance(child, list):
                    nxt.extend(((*path, name, i), v) for i, v in enumerate(child))
            else:
                nxt.append(((*path, name), child))
        results = nxt
    return results


def _problem(doc: Document, path: FieldPath, message: str) -> Problem:
    line, col = doc.position(path)
    return Problem(doc.path, line, col, format_field(path), message)


def _check_terms(
    doc: Document,
    specs: Iterable[tuple[str, str]],
    vocabularies: dict[str, Vocabulary],
    problems: list[Problem],
) -> None:
    for spec, vocab_name in specs:
        vocab = vocabularies.get(vocab_name)
        if vocab is None:
            continue
        for path, value in _walk(doc.data, spec):
            if value not in vocab:
                hint = _did_you_mean(str(value), vocab.ids())
                msg = (
                    f"'{value}' is not in vocabularies/{vocab_name}.yaml{hint}; "
                    f"allowed: {', '.join(vocab.ids())}"
                )
                problems.append(_problem(doc, path, msg))


def _check_keys(doc: Document, specs: Iterable[str], keys: KeySet, problems: list[Problem]) -> None:
    for spec in specs:
        for path, value in _walk(doc.data, spec):
            if value in keys:
                continue
            suggestions = keys.suggest(str(value))
            hint = f"; did you mean '{suggestions[0]}'?" if suggestions else ""
            problems.append(
                _problem(
                    doc, path, f"unknown reference key '{value}' (not in references.bib){hint}"
                )
            )


def _check_dates(doc: Document, problems: list[Problem]) -> None:
    parsed: dict[str, dt.date] = {}
    for name in ("added", "updated"):
        value = doc.data.get(name)
        if not isinstance(value, str) or not _DATE.match(value):
            continue
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            problems.append(_problem(doc, (name,), f"'{value}' is not a real date (YYYY-MM-DD)"))
            continue
        # The clock, not only SOURCE_DATE_EPOCH (often the last commit's time): a record added
        # today but not yet committed is not "in the future".
        if day > max(today(), dt.date.today()):
            problems.append(_problem(doc, (name,), f"date {value} is in the future"))
            continue
        parsed[name] = day
    if "added" in parsed and "updated" in parsed and parsed["updated"] < parsed["added"]:
        problems.append(_problem(doc, ("updated",), "updated date is before the added date"))


def _check_range(doc: Document, path: FieldPath, obj: Any, problems: list[Problem]) -> None:
    if (
        isinstance(obj, dict)
        and isinstance(obj.get("min"), (int, float))
        and isinstance(obj.get("max"), (int, float))
        and obj["min"] > obj["max"]
    ):
        problems.append(
            _problem(doc, (*path, "min"), f"range is reversed: min {obj['min']} > max {obj['max']}")
        )


def _check_numbers(doc: Document, problems: list[Problem]) -> None:
    data = doc.data
    for spec in (
        "participants.age_years",
        "participants.illness_duration_years",
        "intervention.dose",
        "intervention.sessions",
        "intervention.session_minutes",
    ):
        for path, obj in _walk(data, spec):
            _check_range(doc, path, obj, problems)
    participants = data.get("participants", {})
    n = participants.get("n")
    if (
        isinstance(n, int)
        and isinstance(participants.get("n_female"), int)
        and participants["n_female"] > n
    ):
        problems.append(
            _problem(
                doc,
                ("participants", "n_female"),
                f"n_female {participants['n_female']} exceeds n {n}",
            )
        )
    for path, group in _walk(data, "participants.groups[]"):
        if isinstance(n, int) and isinstance(group.get("n"), int) and group["n"] > n:
            problems.append(
                _problem(doc, (*path, "n"), f"group size {group['n']} exceeds participants.n {n}")
            )
    for path, arm in _walk(data, "outcomes[].arms[]"):
        events, arm_n = arm.get("events"), arm.get("n")
        if isinstance(events, int) and isinstance(arm_n, int) and events > arm_n:
            problems.append(
                _problem(doc, (*path, "events"), f"events {events} exceed the arm's n {arm_n}")
            )
    for path, effect in _walk(data, "outcomes[].effect"):
        lo, hi, est = effect.get("ci_lower"), effect.get("ci_upper"), effect.get("estimate")
        if (lo is None) != (hi is None):
            problems.append(_problem(doc, path, "give both ci_lower and ci_upper, or neither"))
        elif lo is not None and hi is not None:
            if lo > hi:
                problems.append(
                    _problem(
                        doc,
                        (*path, "ci_lower"),
                        f"confidence interval is reversed: lower {lo} > upper {hi}",
                    )
                )
            elif isinstance(est, (int, float)) and not lo <= est <= hi:
                problems.append(
                    _problem(
                        doc,
                        (*path, "estimate"),
                        f"estimate {est} lies outside its interval {lo} to {hi}",
                    )
                )
        if effect.get("measure") == "RR" and any(
            isinstance(v, (int, float)) and v <= 0 for v in (lo, hi, est)
        ):
            problems.append(_problem(doc, path, "a risk ratio and its interval must be positive"))
    for spec, (low, high) in _PLAUSIBLE.items():
        for path, obj in _walk(data, spec):
            values = obj.items() if isinstance(obj, dict) else [("", obj)]
            for key, value in values:
                number = isinstance(value, (int, float)) and not isinstance(value, bool)
                if number and not low <= value <= high:
                    where = (*path, key) if key else path
                    msg = f"number {value} is implausible here; expected {low} to {high}"
                    problems.append(_problem(doc, where, msg))


#: Plausible range of numeric fields, by field spec (a mapping's numbers are each checked).
#: Values outside are typing slips (years for months, a missing decimal point).
_PLAUSIBLE: dict[str, tuple[float, float]] = {
    "participants.age_years": (0, 120),
    "participants.illness_duration_years": (0, 120),
    "intervention.sessions": (0, 1000),
    "intervention.session_minutes": (0, 1440),
    "intervention.dose": (0, 10_000),
}

#: Range of a ratio (log scale) effect and its interval: beyond it the interval spans more
#: than eight orders of magnitude, which no study reports and no axis can show.
_RATIO_RANGE = (1e-4, 1e4)
#: Range of a difference (linear scale) effect and its interval.
_DIFFERENCE_RANGE = (-1e4, 1e4)


def _check_effect_ranges(
    doc: Document, measures: Vocabulary | None, problems: list[Problem]
) -> None:
    """Report an effect or interval bound that no forest plot axis can draw.

    A measure on a log scale (its term in ``effect_measures.yaml`` says ``scale: log``) must
    be positive, which the risk-ratio check reports; here its bounds are kept to eight orders
    of magnitude, and a difference to +-10,000.
    """
    for path, effect in _walk(doc.data, "outcomes[].effect"):
        measure = effect.get("measure")
        log = (
            measures is not None
            and measure in measures
            and (measures[measure].get("scale") == "log")
        )
        low, high = _RATIO_RANGE if log else _DIFFERENCE_RANGE
        for key in ("estimate", "ci_lower", "ci_upper"):
            value = effect.get(key)
            if log and isinstance(value, (int, float)) and value <= 0:
                continue  # reported as not positive
            if isinstance(value, (int, float)) and not low <= value <= high:
                msg = (
                    f"number {value} is implausible for this measure; expected {low:g} to {high:g}"
                )
                problems.append(_problem(doc, (*path, key), msg))


def _check_study(
    doc: Document, vocabularies: dict[str, Vocabulary], keys: KeySet, problems: list[Problem]
) -> None:
    data = doc.data
    _check_terms(doc, _STUDY_TERMS, vocabularies, problems)
    _check_keys(
        doc,
        (
            "references[]",
            "provenance[].source",
            "outcomes[].source.ref",
            "discrepancies[].values[].source.ref",
            "risk_of_bias[].source.ref",
            "adverse_events.source.ref",
        ),
        keys,
        problems,
    )
    _check_dates(doc, problems)
    _check_numbers(doc, problems)
    _check_effect_ranges(doc, vocabularies.get("effect_measures"), problems)
    _check_evidence_claims(doc, vocabularies, problems)
    designs = vocabularies.get("designs")
    primary = (
        designs and data["design"] in designs and designs[data["design"]].get("kind") == "primary"
    )
    if primary and not {"n", "n_not_reported"} & set(data["participants"]):
        problems.append(
            _problem(
                doc,
                ("participants", "n"),
                "required field is missing (primary studies must give n)",
            )
        )
    diagnoses = vocabularies.get("diagnoses")
    if diagnoses:
        for path, code in _walk(data, "diagnoses[]"):
            if code in diagnoses and diagnoses[code].get("condition") not in (
                None,
                data["condition"],
            ):
                problems.append(
                    _problem(
                        doc,
                        path,
                        f"diagnosis '{code}' belongs to condition "
                        f"'{diagnoses[code].get('condition')}', not '{data['condition']}'",
                    )
                )
    refs = data["references"]
    seen: set[str] = set()
    for i, ref in enumerate(refs):
        if ref in seen:
            problems.append(_problem(doc, ("references", i), f"reference '{ref}' is listed twice"))
        seen.add(ref)
    for path, entry in _walk(data, "provenance[]"):
        if entry.get("status") != "verified" and not entry.get("note"):
            msg = "a note is required when the status is not 'verified': say what is unverified"
            problems.append(_problem(doc, (*path, "status"), msg))
    bibliographic = data["bibliographic"]
    if bibliographic.get("status") != "verified" and not bibliographic.get("note"):
        msg = "a note is required when the status is not 'verified': say what is unverified"
        problems.append(_problem(doc, ("bibliographic", "status"), msg))
    for path, source in _walk(data, "provenance[].source"):
        if source not in refs:
            problems.append(
                _problem(
                    doc, path, f"provenance source '{source}' must also be listed in references"
                )
            )


def _check_evidence_claims(
    doc: Document, vocabularies: dict[str, Vocabulary], problems: list[Problem]
) -> None:
    """Check that a record claims no more than it records (issue 13).

    A result category that names the primary outcome needs an outcome marked primary, and the
    adverse-event statement must cite one of the record's own references.
    """
    data = doc.data
    categories = vocabularies.get("result_categories")
    category = data["result"]["category"]
    if (
        categories
        and category in categories
        and categories[category].get("requires_primary")
        and not any(o.get("primary") for o in data.get("outcomes", []))
    ):
        plain = [t.id for t in categories.terms if not t.get("requires_primary")]
        msg = (
            f"'{category}' names the primary outcome, but no outcome is marked 'primary: true'; "
            f"mark the primary outcome or use a category that claims no hierarchy: "
            f"{', '.join(plain)}"
        )
        problems.append(_problem(doc, ("result", "category"), msg))
    ae = data.get("adverse_events")
    if isinstance(ae, dict):
        ref = ae.get("source", {}).get("ref")
        if ref is not None and ref not in data["references"]:
            problems.append(
                _problem(
                    doc,
                    ("adverse_events", "source", "ref"),
                    f"adverse-event source '{ref}' must also be listed in references",
                )
            )
        if ae.get("reporting") == "none-reported":
            for name in ("serious", "dropouts"):
                if name in ae:
                    problems.append(
                        _problem(
                            doc,
                            ("adverse_events", name),
                            f"'{name}' given although reporting is 'none-reported'; use "
                            "'reported' when the source reports anything on safety",
                        )
                    )


def _check_trial(
    doc: Document, vocabularies: dict[str, Vocabulary], keys: KeySet, problems: list[Problem]
) -> None:
    _check_terms(
        doc, (("condition", "conditions"), ("status", "trial_statuses")), vocabularies, problems
    )
    _check_keys(doc, ("source.ref",), keys, problems)
    _check_dates(doc, problems)
    if doc.data["registry_id"].lower() != doc.data["id"]:
        problems.append(
            _problem(
                doc,
                ("registry_id",),
                f"registry_id '{doc.data['registry_id']}' does not match id '{doc.data['id']}'",
            )
        )


# --- building the model --------------------------------------------------------------------


def _quantity(raw: dict[str, Any] | None) -> Quantity | None:
    return Quantity(**raw) if raw else None


def _source(raw: dict[str, Any]) -> Source:
    return Source(ref=raw["ref"], locator=raw["locator"])


def _author_name(keys: KeySet, data: dict[str, Any]) -> str:
    """Return the primary reference's first-author surname when it matches the record's id.

    The id is lowercase ASCII (``mcghee-2008``); the reference keeps the real spelling
    (``McGhee``). A surname that does not fold to the id is not used, so a label never
    disagrees with the file name.
    """
    get = getattr(keys, "get", None)
    entry = get(data["references"][0]) if callable(get) else None
    authors = entry.csl.get("author") if entry is not None else None
    family = authors[0].get("family", "") if authors and isinstance(authors[0], dict) else ""
    folded = unicodedata.normalize("NFKD", family).encode("ascii", "ignore").decode()
    folded = re.sub(r"[^a-z]+", "-", folded.lower()).strip("-")
    return family if folded and folded == data["id"].rsplit("-", 1)[0] else ""


def _adverse_events(raw: dict[str, Any] | None) -> AdverseEvents | None:
    if not raw:
        return None
    return AdverseEvents(
        reporting=raw["reporting"],
        summary=raw["summary"],
        source=_source(raw["source"]),
        serious=raw.get("serious", ""),
        dropouts=raw.get("dropouts", ""),
    )


def _build_study(doc: Document, author_name: str = "") -> Study:
    d = doc.data
    pop, part, inter, res = d["population"], d["participants"], d["intervention"], d["result"]
    outcomes = []
    for o in d.get("outcomes", []):
        effect = Effect(**o["effect"]) if "effect" in o else None
        arms = tuple(Arm(**a) for a in o.get("arms", []))
        outcomes.append(
            Outcome(
                measure=o["measure"],
                finding=o["finding"],
                source=_source(o["source"]),
                primary=o.get("primary", False),
                timepoint=o.get("timepoint", ""),
                arms=arms,
                effect=effect,
            )
        )
    return Study(
        id=d["id"],
        path=doc.path,
        condition=d["condition"],
        design=d["design"],
        summary=d["summary"],
        population=pop["description"],
        population_group=pop.get("group", "not-applicable"),
        setting=pop.get("setting", ""),
        country=pop.get("country", ""),
        n=part.get("n"),
        n_female=part.get("n_female"),
        female_percent=part.get("female_percent"),
        age_years=_quantity(part.get("age_years")),
        illness_duration_years=_quantity(part.get("illness_duration_years")),
        studies_included=part.get("studies_included"),
        groups=tuple((g["name"], g["n"]) for g in part.get("groups", [])),
        diagnoses=tuple(d["diagnoses"]),
        comorbidities=tuple(d.get("comorbidities", [])),
        drug=inter["drug"],
        routes=tuple(inter["routes"]),
        dose=Dose(**inter["dose"]) if "dose" in inter else None,
        sessions=_quantity(inter.get("sessions")),
        session_minutes=_quantity(inter.get("session_minutes")),
        schedule=inter.get("schedule", ""),
        intervention_description=inter.get("description", ""),
        co_interventions=tuple(
            (c["kind"], c["description"]) for c in d.get("co_interventions", [])
        ),
        comparator=d["comparator"],
        comparator_detail=d.get("comparator_detail", ""),
        follow_up=d.get("follow_up", ""),
        outcomes=tuple(outcomes),
        result_category=res["category"],
        result_summary=res["summary"],
        adverse_events=_adverse_events(d.get("adverse_events")),
        registration=d.get("registration", ""),
        url=d.get("url", ""),
        discrepancies=tuple(
            Discrepancy(x["field"], tuple((v["value"], _source(v["source"])) for v in x["values"]))
            for x in d.get("discrepancies", [])
        ),
        references=tuple(d["references"]),
        provenance=tuple(
            Provenance(
                source=p["source"],
                covers=tuple(p["covers"]),
                status=p["status"],
                locator=p.get("locator", ""),
                note=p.get("note", ""),
                basis=p.get("basis", ""),
            )
            for p in d["provenance"]
        ),
        bibliographic_status=d["bibliographic"]["status"],
        bibliographic_note=d["bibliographic"].get("note", ""),
        risk_of_bias=tuple(
            RiskOfBias(
                r["tool"], _source(r["source"]), MappingProxyType(dict(r["domains"])), r["overall"]
            )
            for r in d.get("risk_of_bias", [])
        ),
        notes=tuple(d.get("notes", [])),
        added=d["added"],
        updated=d["updated"],
        author_name=author_name,
        n_not_reported=part.get("n_not_reported", ""),
    )


def _build_trial(doc: Document) -> Trial:
    d = doc.data
    return Trial(
        id=d["id"],
        path=doc.path,
        registry_id=d["registry_id"],
        condition=d["condition"],
        design=d["design"],
        population=d["population"],
        intervention=d["intervention"],
        status=d["status"],
        source_description=d["source"]["description"],
        source_ref=d["source"].get("ref", ""),
        source_locator=d["source"].get("locator", ""),
        verification_status=d["verification"]["status"],
        verification_note=d["verification"].get("note", ""),
        acronym=d.get("acronym", ""),
        phase=d.get("phase", ""),
        sponsor=d.get("sponsor", ""),
        target_n=d.get("target_n"),
        primary_outcome=d.get("primary_outcome", ""),
        registry_record=d.get("registry_record", ""),
        added=d["added"],
        updated=d["updated"],
    )


Checker = Callable[[Document], None]
