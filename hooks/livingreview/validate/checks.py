"""Field checks shared by every record type.

Vocabulary terms, reference keys, dates, numbers and ranges.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable
from typing import Any, Protocol

from ..errors import Problem, ProblemsFound
from ..history import env_epoch
from ..load import Document, FieldPath
from ..model import (
    Vocabulary,
)
from .schema import did_you_mean, problem_at

ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
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
    try:
        epoch = env_epoch()
        if epoch is None:
            return dt.date.today()
        return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).date()
    except (ValueError, OverflowError, OSError):
        value = os.environ.get("SOURCE_DATE_EPOCH", "")
        shown = value if len(value) <= 40 else value[:37] + "..."
        msg = (
            f"SOURCE_DATE_EPOCH '{shown}' is not a usable time stamp; set it to whole seconds "
            "since 1970 (git log -1 --format=%ct) or unset it"
        )
        raise ProblemsFound([Problem("SOURCE_DATE_EPOCH", None, None, "", msg)]) from None


# --- cross-checks --------------------------------------------------------------------------


def walk_fields(data: Any, spec: str) -> list[tuple[FieldPath, Any]]:
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


def check_terms(
    doc: Document,
    specs: Iterable[tuple[str, str]],
    vocabularies: dict[str, Vocabulary],
    problems: list[Problem],
) -> None:
    """Report every field whose value is not a term of the vocabulary it names."""
    for spec, vocab_name in specs:
        vocab = vocabularies.get(vocab_name)
        if vocab is None:
            continue
        for path, value in walk_fields(doc.data, spec):
            if value not in vocab:
                hint = did_you_mean(str(value), vocab.ids())
                msg = (
                    f"'{value}' is not in vocabularies/{vocab_name}.yaml{hint}; "
                    f"allowed: {', '.join(vocab.ids())}"
                )
                problems.append(problem_at(doc, path, msg))


def check_keys(doc: Document, specs: Iterable[str], keys: KeySet, problems: list[Problem]) -> None:
    """Report every reference key that is not in ``references.bib``."""
    for spec in specs:
        for path, value in walk_fields(doc.data, spec):
            if value in keys:
                continue
            suggestions = keys.suggest(str(value))
            hint = f"; did you mean '{suggestions[0]}'?" if suggestions else ""
            problems.append(
                problem_at(
                    doc, path, f"unknown reference key '{value}' (not in references.bib){hint}"
                )
            )


def check_dates(doc: Document, problems: list[Problem]) -> None:
    """Report dates that are not real, are in the future, or run backwards."""
    parsed: dict[str, dt.date] = {}
    for name in ("added", "updated"):
        value = doc.data.get(name)
        if not isinstance(value, str) or not _DATE.match(value):
            continue
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            problems.append(problem_at(doc, (name,), f"'{value}' is not a real date (YYYY-MM-DD)"))
            continue
        # The clock, not only SOURCE_DATE_EPOCH (often the last commit's time): a record added
        # today but not yet committed is not "in the future".
        if day > max(today(), dt.date.today()):
            problems.append(problem_at(doc, (name,), f"date {value} is in the future"))
            continue
        parsed[name] = day
    if "added" in parsed and "updated" in parsed and parsed["updated"] < parsed["added"]:
        problems.append(problem_at(doc, ("updated",), "updated date is before the added date"))


def _check_range(doc: Document, path: FieldPath, obj: Any, problems: list[Problem]) -> None:
    if (
        isinstance(obj, dict)
        and isinstance(obj.get("min"), (int, float))
        and isinstance(obj.get("max"), (int, float))
        and obj["min"] > obj["max"]
    ):
        problems.append(
            problem_at(
                doc, (*path, "min"), f"range is reversed: min {obj['min']} > max {obj['max']}"
            )
        )


def check_numbers(doc: Document, problems: list[Problem]) -> None:
    """Report ranges whose ends are out of order and counts that exceed n."""
    data = doc.data
    for spec in (
        "participants.age_years",
        "participants.illness_duration_years",
        "intervention.dose",
        "intervention.sessions",
        "intervention.session_minutes",
    ):
        for path, obj in walk_fields(data, spec):
            _check_range(doc, path, obj, problems)
    participants = data.get("participants", {})
    n = participants.get("n")
    if (
        isinstance(n, int)
        and isinstance(participants.get("n_female"), int)
        and participants["n_female"] > n
    ):
        problems.append(
            problem_at(
                doc,
                ("participants", "n_female"),
                f"n_female {participants['n_female']} exceeds n {n}",
            )
        )
    for path, group in walk_fields(data, "participants.groups[]"):
        if isinstance(n, int) and isinstance(group.get("n"), int) and group["n"] > n:
            problems.append(
                problem_at(doc, (*path, "n"), f"group size {group['n']} exceeds participants.n {n}")
            )
    for path, arm in walk_fields(data, "outcomes[].arms[]"):
        events, arm_n = arm.get("events"), arm.get("n")
        if isinstance(events, int) and isinstance(arm_n, int) and events > arm_n:
            problems.append(
                problem_at(doc, (*path, "events"), f"events {events} exceed the arm's n {arm_n}")
            )
    for path, effect in walk_fields(data, "outcomes[].effect"):
        lo, hi, est = effect.get("ci_lower"), effect.get("ci_upper"), effect.get("estimate")
        if (lo is None) != (hi is None):
            problems.append(problem_at(doc, path, "give both ci_lower and ci_upper, or neither"))
        elif lo is not None and hi is not None:
            if lo > hi:
                problems.append(
                    problem_at(
                        doc,
                        (*path, "ci_lower"),
                        f"confidence interval is reversed: lower {lo} > upper {hi}",
                    )
                )
            elif isinstance(est, (int, float)) and not lo <= est <= hi:
                problems.append(
                    problem_at(
                        doc,
                        (*path, "estimate"),
                        f"estimate {est} lies outside its interval {lo} to {hi}",
                    )
                )
        if effect.get("measure") == "RR" and any(
            isinstance(v, (int, float)) and v <= 0 for v in (lo, hi, est)
        ):
            problems.append(problem_at(doc, path, "a risk ratio and its interval must be positive"))
    for spec, (low, high) in _PLAUSIBLE.items():
        for path, obj in walk_fields(data, spec):
            values = obj.items() if isinstance(obj, dict) else [("", obj)]
            for key, value in values:
                number = isinstance(value, (int, float)) and not isinstance(value, bool)
                if number and not low <= value <= high:
                    where = (*path, key) if key else path
                    msg = f"number {value} is implausible here; expected {low} to {high}"
                    problems.append(problem_at(doc, where, msg))


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


def check_effect_ranges(
    doc: Document, measures: Vocabulary | None, problems: list[Problem]
) -> None:
    """Report an effect or interval bound that no forest plot axis can draw.

    A measure on a log scale (its term in ``effect_measures.yaml`` says ``scale: log``) must
    be positive, which the risk-ratio check reports; here its bounds are kept to eight orders
    of magnitude, and a difference to +-10,000.
    """
    for path, effect in walk_fields(doc.data, "outcomes[].effect"):
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
                problems.append(problem_at(doc, (*path, key), msg))
