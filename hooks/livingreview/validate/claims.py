"""Claims in hand-written pages, checked against the records.

A sentence about the dataset ("no report is in binge eating disorder", "the largest trial")
is wrapped in a claim marker (syntax: :mod:`livingreview.markers`)::

    [[claim none condition=eating-disorders diagnosis=BED]]no report is in BED[[/claim]]

The page shows the text as written; this module says whether the records still support it.
A claim is a kind, filters that select records, and the kind's own parameters:

========  ===============================================  ==============================
Kind      Holds when                                       Parameters
========  ===============================================  ==============================
none      no record matches the filters                    --
some      at least one record matches                      --
count     exactly ``n`` records match                      ``n=<number>``
only      the records that match are exactly these ids     ``are=<id>,<id>``
all       every record matching the filters before         ``have <filters>``
          ``have`` also matches those after it (and
          there is at least one)
most      more than half of them do (``by=participants``:  ``have <filters>``,
          more than half of their participants)            ``by=studies|participants``
largest   the id matches and has more participants         ``is=<id>``
          (``n``; a trial's target size) than every
          other record that matches
earliest  the id matches and is older (by year) than       ``is=<id>``
          every other study that matches
========  ===============================================  ==============================

``records=trials`` makes a claim about trial records instead of study records.
A filter is ``field=value``, ``field=a,b`` (any of them) or ``field=!a,b`` (a value other
than these). For fields holding several values (diagnoses, routes, measures,
co-interventions) ``a,b`` means "has one of them" and ``!a,b`` "has one that is not one of
them", so ``[[claim none kind=primary route=!iv,im]]`` says every primary study used only
those routes. ``diagnosis=AN`` also matches the subtypes of AN (``AN-R``...).

Every field and value is checked against the vocabularies, so a typo is a problem, not a
claim that silently holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ..markers import Marker
from ..model import Catalog, Study, Trial

#: Population groups, as ``data/schema/study.schema.json`` lists them (a test keeps them equal).
POPULATION_GROUPS = (
    "civilians",
    "military",
    "veterans",
    "veterans-and-military",
    "children-and-adolescents",
    "mixed",
    "not-applicable",
)
#: Registry-record states of a trial record (``Trial.registry_record``).
REGISTRY_RECORDS = ("checked", "aggregator-only", "not-found")
#: Claim kinds and the parameter each requires (``""``: none).
KINDS = {
    "none": "",
    "some": "",
    "count": "n",
    "only": "are",
    "all": "have",
    "most": "have",
    "largest": "is",
    "earliest": "is",
}
PARAMETERS = ("records", "n", "are", "is", "by")
#: Ids quoted in a message before it says "and N more".
QUOTED_IDS = 8


@dataclass(frozen=True)
class _Field:
    """A field a claim can filter on: its values for a record, and the allowed values."""

    values: Callable[[Catalog, object], tuple[str, ...]]
    allowed: Callable[[Catalog], Sequence[str]]
    #: Vocabulary whose ``parent`` links make a value match its subtypes too.
    hierarchy: str = ""


def _vocab_ids(name: str) -> Callable[[Catalog], Sequence[str]]:
    return lambda catalog: catalog.vocabularies[name].ids() if name in catalog.vocabularies else ()


def _fixed(values: Sequence[str]) -> Callable[[Catalog], Sequence[str]]:
    return lambda catalog: values


def _study(get: Callable[[Study], Iterable[str]]) -> Callable[[Catalog, object], tuple[str, ...]]:
    def values(catalog: Catalog, record: object) -> tuple[str, ...]:
        assert isinstance(record, Study)
        return tuple(get(record))

    return values


def _trial(get: Callable[[Trial], Iterable[str]]) -> Callable[[Catalog, object], tuple[str, ...]]:
    def values(catalog: Catalog, record: object) -> tuple[str, ...]:
        assert isinstance(record, Trial)
        return tuple(get(record))

    return values


def _kind(catalog: Catalog, record: object) -> tuple[str, ...]:
    assert isinstance(record, Study)
    designs = catalog.vocabularies["designs"]
    return (str(designs[record.design].get("kind")),) if record.design in designs else ()


STUDY_FIELDS: dict[str, _Field] = {
    "id": _Field(_study(lambda s: (s.id,)), lambda c: [s.id for s in c.studies]),
    "condition": _Field(_study(lambda s: (s.condition,)), _vocab_ids("conditions")),
    "design": _Field(_study(lambda s: (s.design,)), _vocab_ids("designs")),
    "kind": _Field(_kind, _fixed(("primary", "review"))),
    "group": _Field(_study(lambda s: (s.population_group,)), _fixed(POPULATION_GROUPS)),
    "diagnosis": _Field(_study(lambda s: s.diagnoses), _vocab_ids("diagnoses"), "diagnoses"),
    "comparator": _Field(_study(lambda s: (s.comparator,)), _vocab_ids("comparators")),
    "drug": _Field(_study(lambda s: (s.drug,)), _vocab_ids("drugs")),
    "route": _Field(_study(lambda s: s.routes), _vocab_ids("routes")),
    "measure": _Field(
        _study(lambda s: (o.measure for o in s.outcomes)), _vocab_ids("outcome_measures")
    ),
    "primary-measure": _Field(
        _study(lambda s: (o.measure for o in s.outcomes if o.primary)),
        _vocab_ids("outcome_measures"),
    ),
    "co-intervention": _Field(
        _study(lambda s: (kind for kind, _ in s.co_interventions)),
        _vocab_ids("co_intervention_kinds"),
    ),
    "result": _Field(_study(lambda s: (s.result_category,)), _vocab_ids("result_categories")),
    "adverse-events": _Field(
        _study(lambda s: (s.adverse_events.reporting,) if s.adverse_events else ()),
        _fixed(("reported", "none-reported")),
    ),
    "risk-of-bias": _Field(
        _study(lambda s: ("assessed",) if s.risk_of_bias else ("not-assessed",)),
        _fixed(("assessed", "not-assessed")),
    ),
}
TRIAL_FIELDS: dict[str, _Field] = {
    "id": _Field(_trial(lambda t: (t.id,)), lambda c: [t.id for t in c.trials]),
    "condition": _Field(_trial(lambda t: (t.condition,)), _vocab_ids("conditions")),
    "status": _Field(_trial(lambda t: (t.status,)), _vocab_ids("trial_statuses")),
    "registry-record": _Field(_trial(lambda t: (t.registry_record,)), _fixed(REGISTRY_RECORDS)),
}


@dataclass(frozen=True)
class _Filter:
    field: str
    values: frozenset[str]
    negated: bool
    written: str


@dataclass(frozen=True)
class Claim:
    """A claim marker's words, checked: what it selects and what it asserts."""

    kind: str
    trials: bool
    filters: tuple[_Filter, ...]
    have: tuple[_Filter, ...]
    params: dict[str, str]


def parse_claim(catalog: Catalog, marker: Marker) -> tuple[Claim | None, str | None]:
    """Return the claim a marker states, or a message naming what is wrong with its words."""
    if marker.what not in KINDS:
        return None, f"unknown claim '{marker.what}'; allowed: {', '.join(KINDS)}"
    words = list(marker.words)
    params: dict[str, str] = {}
    before: list[str] = []
    after: list[str] = []
    target = before
    for word in words:
        if word == "have":
            if target is after:
                return None, "'have' appears twice; write every asserted filter after the first"
            target = after
            continue
        key, eq, value = word.partition("=")
        if not eq or not value:
            return None, f"'{word}' is not field=value; see the claim kinds in CONTRIBUTING.md"
        if key in PARAMETERS:
            if key in params:
                return None, f"parameter '{key}' is given twice"
            params[key] = value
        else:
            target.append(word)
    records = params.get("records", "studies")
    if records not in ("studies", "trials"):
        return None, f"unknown records '{records}'; allowed: studies, trials"
    fields = TRIAL_FIELDS if records == "trials" else STUDY_FIELDS
    needed = KINDS[marker.what]
    if needed == "have" and not after:
        return None, f"'{marker.what}' needs 'have <field>=<value>' after its filters"
    if needed != "have" and target is after:
        return None, "'have' goes only with the claims all and most"
    if needed not in ("", "have") and needed not in params:
        return None, f"'{marker.what}' needs the parameter {needed}=<value>"
    extra = sorted(set(params) - {"records", needed} - ({"by"} if marker.what == "most" else set()))
    if extra:
        return None, f"'{marker.what}' does not take {', '.join(extra)}="
    if "n" in params and not re.fullmatch(r"[0-9]{1,6}", params["n"]):
        return None, f"n must be a whole number, not '{params['n']}'"
    if params.get("by", "studies") not in ("studies", "participants") or (
        records == "trials" and "by" in params
    ):
        return None, "by must be studies or participants (studies only)"
    if marker.what == "earliest" and records == "trials":
        return None, "earliest compares studies by year; trials have no year"
    parsed: list[list[_Filter]] = [[], []]
    for i, group in enumerate((before, after)):
        for word in group:
            flt, problem = _parse_filter(catalog, fields, word)
            if problem:
                return None, problem
            assert flt is not None
            parsed[i].append(flt)
    known = set(fields["id"].allowed(catalog))
    for key in ("are", "is"):
        if key in params:
            listed = params[key].split(",")
            if key == "is" and len(listed) != 1:
                return None, f"is= names one record, not {len(listed)}"
            unknown = [i for i in listed if i not in known]
            if unknown:
                return None, f"{key}= names unknown {records} '{unknown[0]}'"
            if len(set(listed)) != len(listed):
                return None, f"{key}= names a record twice"
    claim = Claim(marker.what, records == "trials", tuple(parsed[0]), tuple(parsed[1]), params)
    return claim, None


def _parse_filter(
    catalog: Catalog, fields: dict[str, _Field], word: str
) -> tuple[_Filter | None, str | None]:
    key, _, value = word.partition("=")
    field = fields.get(key)
    if field is None:
        allowed = ", ".join(f"{k}=" for k in (*fields, *PARAMETERS))
        return None, f"unknown field '{key}' in claim; allowed: {allowed}"
    negated = value.startswith("!")
    values = value.removeprefix("!").split(",")
    allowed = field.allowed(catalog)
    for v in values:
        if v not in allowed:
            shown = ", ".join(allowed) if len(allowed) <= 40 else f"{len(allowed)} ids"
            return None, f"unknown {key} '{v}' in claim; allowed: {shown}"
    return _Filter(key, frozenset(values), negated, word), None


def _lineage(catalog: Catalog, vocabulary: str, value: str) -> set[str]:
    """Return a term and its ancestors (``AN-R`` -> ``AN-R``, ``AN``)."""
    out = {value}
    vocab = catalog.vocabularies.get(vocabulary)
    while vocab is not None and value in vocab:
        parent = vocab[value].get("parent")
        if not parent or parent in out:
            break
        out.add(parent)
        value = parent
    return out


def _matches(catalog: Catalog, fields: dict[str, _Field], flt: _Filter, record: object) -> bool:
    field = fields[flt.field]
    values = field.values(catalog, record)
    inside = [
        bool((_lineage(catalog, field.hierarchy, v) if field.hierarchy else {v}) & flt.values)
        for v in values
    ]
    return any(not x for x in inside) if flt.negated else any(inside)


def _describe(filters: Sequence[_Filter]) -> str:
    return " ".join(f.written for f in filters) or "(no filters)"


def _ids(records: Sequence[object]) -> str:
    ids = [getattr(r, "id", "") for r in records]
    shown = ", ".join(ids[:QUOTED_IDS])
    return shown + (f" and {len(ids) - QUOTED_IDS} more" if len(ids) > QUOTED_IDS else "")


def _n_do(n: int) -> str:
    return f"{n} {'does' if n == 1 else 'do'}"


def _size(record: object) -> int | None:
    return record.n if isinstance(record, Study) else getattr(record, "target_n", None)


def evaluate(catalog: Catalog, claim: Claim) -> str | None:
    """Return why the records no longer support a claim, or ``None`` if they do."""
    fields = TRIAL_FIELDS if claim.trials else STUDY_FIELDS
    pool: Sequence[object] = catalog.trials if claim.trials else catalog.studies
    noun = "trial" if claim.trials else "study"
    scope = [r for r in pool if all(_matches(catalog, fields, f, r) for f in claim.filters)]
    chosen = [r for r in scope if all(_matches(catalog, fields, f, r) for f in claim.have)]
    where = _describe(claim.filters)
    kind, params = claim.kind, claim.params
    if kind == "none" and scope:
        return f"no {noun} should match {where}, but {_n_do(len(scope))}: {_ids(scope)}"
    if kind == "some" and not scope:
        return f"some {noun} should match {where}, but none does"
    if kind == "count" and len(scope) != int(params["n"]):
        found = f": {_ids(scope)}" if scope else ""
        return f"{params['n']} records should match {where}, but {_n_do(len(scope))}{found}"
    if kind == "only":
        want = params["are"].split(",")
        have = [getattr(r, "id", "") for r in scope]
        if sorted(want) != sorted(have):
            extra = sorted(set(have) - set(want))
            missing = sorted(set(want) - set(have))
            parts = [f"also {', '.join(extra)}"] if extra else []
            parts += [f"not {', '.join(missing)}"] if missing else []
            return f"the records matching {where} should be {params['are']}: " + "; ".join(parts)
    if kind in ("all", "most"):
        asserted = _describe(claim.have)
        if not scope:
            return f"no {noun} matches {where}, so '{kind}' of them cannot {asserted}"
        if params.get("by") == "participants":
            total = sum(_size(r) or 0 for r in scope)
            part = sum(_size(r) or 0 for r in chosen)
            unit = "participants"
        else:
            total, part, unit = len(scope), len(chosen), f"{noun} records"
        holds = part == total if kind == "all" else 2 * part > total
        if not holds:
            others = [r for r in scope if r not in chosen]
            return (
                f"{kind} {unit} matching {where} should have {asserted}, but {part} of "
                f"{total} {'does' if part == 1 else 'do'} (not: {_ids(others)})"
            )
    if kind in ("largest", "earliest"):
        named = params["is"]
        if named not in [getattr(r, "id", "") for r in scope]:
            return f"{named} does not match {where}"
        rivals = [r for r in scope if getattr(r, "id", "") != named]
        if kind == "largest":
            mine = next(_size(r) for r in scope if getattr(r, "id", "") == named)
            bigger = [r for r in rivals if mine is None or (_size(r) or 0) >= mine]
            if mine is None or bigger:
                return f"{named} (n = {mine}) is not larger than {_ids(bigger)} among {where}"
        else:
            mine_year = catalog.study(named).year
            older = [r for r in rivals if isinstance(r, Study) and r.year <= mine_year]
            if older:
                return f"{named} is not older than {_ids(older)} among {where}"
    return None


def claim_problem(catalog: Catalog, marker: Marker) -> str | None:
    """Return what is wrong with a claim marker, or ``None`` when the records support it.

    The message quotes the start of the claim's text, so the author sees which sentence to
    rewrite; :meth:`~livingreview.errors.Problem.format` keeps it on one line.
    """
    claim, problem = parse_claim(catalog, marker)
    if problem is None:
        assert claim is not None
        problem = evaluate(catalog, claim)
        if problem is not None:
            problem = f'{problem}; the text no longer holds: "{_quote(marker.text)}"'
    return problem


def _quote(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
