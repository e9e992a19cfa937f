"""The findings layer: outcome families, which way is better, and the summary of findings.

Every outcome of every study is placed in an outcome family (``outcome_families.yaml``): the
family its record names, else its measure's. A family is one row of the summary of findings
(``[[table findings condition=...]]``) and one group of forest plots. Which side of an axis
favours ketamine follows from the data alone: the measure's direction
(``outcome_measures.yaml``) for raw differences and ratios, the source's sign convention
(``positive_means``) for standardized effects. Nothing is pooled or rated here: estimates and
certainty ratings are shown as their sources report them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from .model import Catalog, Effect, Outcome, Study, Term, format_number
from .pages import cite, study_src
from .render import escape_data, relative_src, render, trusted

FAMILIES = "outcome_families"
#: Comparison types: a study with no comparator reports changes from baseline.
BETWEEN, WITHIN = "between", "within"
COMPARISON_LABELS = {
    BETWEEN: "comparison with a control group",
    WITHIN: "change from baseline, no control group",
}
#: GRADE levels as readers see them.
RATING_LABELS = {"high": "high", "moderate": "moderate", "low": "low", "very-low": "very low"}


@dataclass(frozen=True)
class Placed:
    """One outcome of one study, placed in its family and comparison type."""

    study: Study
    outcome: Outcome
    family: str
    comparison: str

    @property
    def effect(self) -> Effect | None:
        """The outcome's effect estimate, if the record has one."""
        return self.outcome.effect


def outcome_family(catalog: Catalog, outcome: Outcome) -> str:
    """Return the outcome's family: the record's, else its measure's; ``""`` when none."""
    if outcome.family:
        return outcome.family
    measures = catalog.vocab("outcome_measures")
    return str(measures[outcome.measure].get("family") or "") if outcome.measure in measures else ""


def comparison_of(study: Study) -> str:
    """Return ``within`` for a study without a comparator (changes from baseline), else between."""
    return WITHIN if study.comparator == "none" else BETWEEN


def families(catalog: Catalog, condition: str | None = None) -> list[Term]:
    """Return the outcome families shown for a condition (all of them without one), in order."""
    vocab = catalog.vocabularies.get(FAMILIES)
    if vocab is None:
        return []
    return [t for t in vocab.terms if condition is None or condition in (t.get("conditions") or [])]


def place(catalog: Catalog, studies: Iterable[Study]) -> list[Placed]:
    """Return every outcome of the studies with its family (``""``: none) and comparison."""
    return [
        Placed(s, o, outcome_family(catalog, o), comparison_of(s))
        for s in studies
        for o in s.outcomes
    ]


def is_review(catalog: Catalog, study: Study) -> bool:
    """Whether a study record is a review (designs.yaml ``kind: review``)."""
    designs = catalog.vocab("designs")
    return study.design in designs and designs[study.design].get("kind") == "review"


# --- which way is better -------------------------------------------------------------------


def favoured_side(catalog: Catalog, outcome: Outcome, effect: Effect) -> str | None:
    """Return the side of the no-effect line that means benefit: ``low``, ``high`` or ``None``.

    For a within-group change it is the side of improvement; for a comparison, the side that
    favours ketamine. Raw differences and ratios follow the measure's direction (a lower score
    on a higher-is-worse scale is better); a standardized effect follows the sign convention
    its source states (``positive_means``). ``None`` when the records do not say.
    """
    measures = catalog.vocab("effect_measures")
    if effect.measure in measures and measures[effect.measure].get("standardized"):
        return {"favours-ketamine": "high", "favours-comparator": "low"}.get(effect.positive_means)
    scales = catalog.vocab("outcome_measures")
    direction = scales[outcome.measure].get("direction") if outcome.measure in scales else None
    return {"higher-is-worse": "low", "higher-is-better": "high"}.get(str(direction))


def no_effect(catalog: Catalog, measure: str) -> float:
    """Return the value of no effect of an effect measure (1 on a log scale, else 0)."""
    measures = catalog.vocab("effect_measures")
    term = measures[measure] if measure in measures else Term(measure, measure)
    log = term.get("scale", "linear") == "log"
    return float(term.get("no_effect", 1 if log else 0))


def axis_labels(side: str | None, comparison: str) -> tuple[str, str]:
    """Return the (left, right) direction labels of an axis whose benefit side is ``side``."""
    if side is None:
        return "← lower", "higher →"
    if comparison == WITHIN:
        good, bad = "improvement", "worsening"
    else:
        good, bad = "favours ketamine", "favours comparator"
    return (f"← {good}", f"{bad} →") if side == "low" else (f"← {bad}", f"{good} →")


def plain_direction(catalog: Catalog, placed: Placed) -> str:
    """Say in plain words which way an estimate points and whether its interval excludes no effect.

    The words follow from the numbers and the measure's direction only.
    """
    e = placed.effect
    if e is None:
        return "No estimate recorded."
    side = favoured_side(catalog, placed.outcome, e)
    null = no_effect(catalog, e.measure)
    within = placed.comparison == WITHIN
    if side is None:
        return "Which direction is better is not recorded for this measure."
    good = "improvement from baseline" if within else "favours ketamine"
    bad = "worsening from baseline" if within else "favours the comparator"
    pointing = good if (e.estimate < null) == (side == "low") else bad
    if e.estimate == null:
        pointing = "no change" if within else "no difference"
    if e.ci_lower is None or e.ci_upper is None:
        return f"Estimate: {pointing}; no interval reported."
    if e.ci_lower <= null <= e.ci_upper:
        what = "change" if within else "difference"
        return f"No clear {what}: the interval includes no effect ({format_number(null)})."
    text = pointing[0].upper() + pointing[1:]
    return f"{text}; the interval excludes no effect." + (" No control group." if within else "")


# --- the summary of findings -----------------------------------------------------------------


def best_estimate(catalog: Catalog, rows: Sequence[Placed]) -> Placed | None:
    """Return the estimate the summary shows for a family, by a fixed, stated rule.

    A pooled estimate as a review reports it (the one covering most studies, then most
    participants); otherwise the comparison with a control group from the largest study;
    otherwise the largest study's change from baseline. Estimates without an interval come
    after those with one. The rule picks, it does not weigh: every estimate is in the forest
    plots.
    """
    with_effect = [p for p in rows if p.effect is not None]
    if not with_effect:
        return None

    def rank(p: Placed) -> tuple[int, int, int, int, int, str]:
        e = p.effect
        assert e is not None
        has_ci = e.ci_lower is not None and e.ci_upper is not None
        tier = 0 if e.pooled else (1 if p.comparison == BETWEEN else 2)
        n = (e.n if e.pooled else p.study.n) or 0
        return (tier, 0 if has_ci else 1, -(e.studies or 0), -n, -p.study.year, p.study.id)

    return min(with_effect, key=rank)


def study_link(study: Study, page_src: str) -> Markup:
    """Return a Markdown link from ``page_src`` to a study's page."""
    return trusted(f"[{escape_data(study.label)}]({relative_src(study_src(study.id), page_src)})")


def _effect_words(catalog: Catalog, e: Effect) -> str:
    measures = catalog.vocab("effect_measures")
    label = measures[e.measure].label if e.measure in measures else e.measure
    text = f"{label} {e.number(e.estimate)}"
    if e.ci_lower is not None and e.ci_upper is not None:
        level = f"{format_number(e.ci_level)}% CI " if e.ci_level is not None else "CI "
        text += f" ({level}{e.number(e.ci_lower)} to {e.number(e.ci_upper)})"
    return text.replace("-", "−")


def short_measure(catalog: Catalog, measure: str) -> str:
    """Return a scale's abbreviation, or its label without a trailing parenthesis."""
    scales = catalog.vocab("outcome_measures")
    if measure not in scales:
        return measure
    term = scales[measure]
    return term.abbreviation or re.sub(r"\s*\([^()]*\)$", "", term.label) or term.label


#: Findings quoted in a summary row without any estimate (the largest studies first).
FINDINGS_QUOTED = 3


def _findings_cell(catalog: Catalog, rows: Sequence[Placed], page_src: str) -> Markup:
    """Return the reported findings of the largest studies when no estimate is recorded.

    One finding per study: its primary outcome when that is in the family, else the first.
    """
    chosen: dict[str, Placed] = {}
    for p in rows:
        if p.study.id not in chosen or (
            p.outcome.primary and not chosen[p.study.id].outcome.primary
        ):
            chosen[p.study.id] = p
    primary = sorted(chosen.values(), key=lambda p: (-(p.study.n or 0), p.study.year, p.study.id))
    quoted = []
    for p in primary[:FINDINGS_QUOTED]:
        quoted.append(
            f"{study_link(p.study, page_src)} "
            f"({escape_data(short_measure(catalog, p.outcome.measure))}): "
            f"{escape_data(p.outcome.finding)} "
            f"{cite(p.outcome.source.ref)}"
            + (f" {escape_data(p.outcome.family_note)}" if p.outcome.family_note else "")
        )
    more = len(primary) - len(quoted)
    studies = "study" if more == 1 else "studies"
    tail = [f"{more} more {studies}: see the studies' pages."] if more > 0 else []
    return trusted("<br>".join(["No numerical estimate is recorded. As reported:", *quoted, *tail]))


def _what(catalog: Catalog, p: Placed, measure: bool = True) -> str:
    """Return ``(measure, timepoint, label)`` for an estimate, leaving out empty parts."""
    e = p.effect
    what = [short_measure(catalog, p.outcome.measure)] if measure else []
    what += [p.outcome.timepoint] if p.outcome.timepoint else []
    what += [e.label] if e is not None and e.label else []
    return f"({escape_data(', '.join(what))})" if what else ""


def _same_review(catalog: Catalog, best: Placed, rows: Sequence[Placed]) -> list[str]:
    """Return the other pooled estimates the best estimate's review reports for this family.

    One pooled number alone can read stronger than its source: a review that also reports a
    bias-adjusted or subgroup estimate has those shown beside it.
    """
    out = []
    for p in rows:
        e = p.effect
        if p is best or e is None or not e.pooled or p.study.id != best.study.id:
            continue
        text = f"{escape_data(_effect_words(catalog, e))} {_what(catalog, p)}"
        if e.ci_lower is None or e.ci_upper is None:
            text += ": " + escape_data(p.outcome.finding)
        else:
            text += ": " + escape_data(plain_direction(catalog, p))
        if p.outcome.family_note:
            text += " " + escape_data(p.outcome.family_note)
        out.append(text)
    return out


def _controlled_without_number(
    catalog: Catalog, rows: Sequence[Placed], page_src: str
) -> list[str]:
    """Return controlled findings that have no recorded estimate, largest study first.

    Shown when the estimate picked is a change from baseline without a control group, so a
    controlled result is never hidden behind an uncontrolled number because it lacks one.
    """
    controlled = [
        p
        for p in rows
        if p.comparison == BETWEEN and p.effect is None and not is_review(catalog, p.study)
    ]
    controlled.sort(key=lambda p: (-(p.study.n or 0), p.study.year, p.study.id))
    return [
        f"{study_link(p.study, page_src)} "
        f"({escape_data(short_measure(catalog, p.outcome.measure))}"
        + (f", n = {p.study.n}" if p.study.n else "")
        + f"): {escape_data(p.outcome.finding)} {cite(p.outcome.source.ref)}"
        for p in controlled
    ]


def _estimate_cell(catalog: Catalog, best: Placed, page_src: str) -> Markup:
    e = best.effect
    assert e is not None
    parts = [escape_data(_effect_words(catalog, e))]
    what = [short_measure(catalog, best.outcome.measure)]
    what += [best.outcome.timepoint] if best.outcome.timepoint else []
    what += [e.label] if e.label else []
    parts.append(f"({escape_data(', '.join(what))})")
    link = study_link(best.study, page_src)
    if e.pooled:
        pooled = ", ".join(
            x
            for x in (f"{e.studies} studies" if e.studies else "", f"n = {e.n}" if e.n else "")
            if x
        )
        source = f"pooled, as reported by {link}" + (f" ({escape_data(pooled)})" if pooled else "")
    elif best.comparison == WITHIN:
        source = f"change from baseline in {link}" + (
            f", n = {best.study.n}" if best.study.n else ""
        )
    else:
        source = f"{link}" + (f", n = {best.study.n}" if best.study.n else "")
    note = f" {escape_data(best.outcome.family_note)}" if best.outcome.family_note else ""
    return trusted(" ".join(parts) + f": {source} {cite(best.outcome.source.ref)}{note}")


def _beside_cell(catalog: Catalog, best: Placed, rows: Sequence[Placed], page_src: str) -> str:
    """Return what the summary shows beside the picked estimate (``""``: nothing).

    The same review's other pooled estimates, and, beside a change from baseline, the
    controlled findings that have no number.
    """
    lines = []
    others = _same_review(catalog, best, rows)
    if others:
        lines.append("Also reported by the same review:<br>" + "<br>".join(others))
    if best.comparison == WITHIN:
        controlled = _controlled_without_number(catalog, rows, page_src)
        if controlled:
            lines.append(
                "Controlled findings without a recorded number, as reported:<br>"
                + "<br>".join(controlled)
            )
    return "<br>".join(lines)


def _studies_cell(catalog: Catalog, rows: Sequence[Placed]) -> Markup:
    designs = catalog.vocab("designs")
    by_design: dict[str, list[Study]] = {}
    for p in rows:
        group = by_design.setdefault(p.study.design, [])
        if p.study not in group:
            group.append(p.study)
    if not by_design:
        return trusted("None recorded.")
    lines = []
    for design in sorted(by_design, key=lambda d: designs.ids().index(d) if d in designs else 99):
        studies = by_design[design]
        label = designs[design].label if design in designs else design
        count = f"{len(studies)} {'study' if len(studies) == 1 else 'studies'}"
        if is_review(catalog, studies[0]):
            lines.append(f"{escape_data(label)}: {count}")
            continue
        # A study whose n counts people without the condition is named, not summed: its
        # participants would inflate the count of people with the condition.
        mixed = [s for s in studies if s.n is not None and s.n_includes_without_condition]
        known = [s.n for s in studies if s.n is not None and s not in mixed]
        total = sum(known)
        n = f"{total} participant{'' if total == 1 else 's'}" if known else "n not reported"
        missing = len([s for s in studies if s.n is None])
        if (known or mixed) and missing:
            n += f"; n not reported for {missing}"
        line = f"{escape_data(label)}: {count}, {escape_data(n)}"
        for s in mixed:
            line += (
                f"; not summed: {s.n} in {escape_data(s.label)}, which includes participants "
                f"without the condition ({escape_data(s.n_includes_without_condition)})"
            )
        lines.append(line)
    return trusted("<br>".join(lines))


def _adverse_cell(rows: Sequence[Placed], page_src: str) -> Markup:
    studies: list[Study] = []
    for p in rows:
        if p.study not in studies:
            studies.append(p.study)
    reported = [s for s in studies if s.adverse_events is not None and s.adverse_events.reported]
    lines = []
    for s in reported:
        ae = s.adverse_events
        assert ae is not None
        serious = f" Serious adverse events: {ae.serious}" if ae.serious else ""
        lines.append(
            f"{study_link(s, page_src)}: {escape_data(ae.summary + serious)} {cite(ae.source.ref)}"
        )
    silent = len(studies) - len(reported)
    if silent:
        many = "study" if silent == 1 else "studies"
        lines.append(f"Not reported by the checked sources for {silent} {many}.")
    return trusted("<br>".join(lines) or "No study recorded.")


def _certainty_cell(term: Term) -> Markup:
    ratings = term.get("certainty") or ()
    if not ratings:
        return trusted("Not rated")
    lines = [
        "Not rated by this review. Published by another source for related evidence, "
        "not a rating of the estimate shown:"
    ]
    # Limits are said once per source: ratings from one review share them.
    limits: dict[tuple[str, str], None] = {}
    for r in ratings:
        source = r["source"]
        lines.append(
            f"**{escape_data(RATING_LABELS[r['rating']])}** ({escape_data(r['system'])}) for "
            f"{escape_data(r['scope'])}, as published by {escape_data(r['by'])} "
            f"{cite(source['ref'])} ({escape_data(source['locator'])})"
        )
        if r.get("limits"):
            limits[(r["by"], r["limits"])] = None
    for by, text in limits:
        lines.append(f"Limits of the ratings by {escape_data(by)}: {escape_data(text)}.")
    return trusted("<br>".join(lines))


def _others(
    catalog: Catalog, rows: Sequence[Placed], shown: set[str], page_src: str
) -> list[Markup]:
    """Outcomes not in any family shown on this page, one item per study."""
    by_study: dict[str, tuple[Study, list[str]]] = {}
    for p in rows:
        if p.family in shown:
            continue
        entry = by_study.setdefault(p.study.id, (p.study, []))
        name = short_measure(catalog, p.outcome.measure)
        if name not in entry[1]:
            entry[1].append(name)
    return [
        trusted(f"{study_link(s, page_src)} ({escape_data(', '.join(names))})")
        for s, names in by_study.values()
    ]


def findings_table(catalog: Catalog, filters: Mapping[str, str], page_src: str) -> str:
    """Return the summary of findings for the selected studies (``[[table findings]]``)."""
    studies = catalog.select(**filters)
    placed = place(catalog, studies)
    shown = families(catalog, filters.get("condition"))
    rows = []
    for term in shown:
        members = [p for p in placed if p.family == term.id]
        primary = [p for p in members if not is_review(catalog, p.study)]
        best = best_estimate(catalog, members)
        if best is not None:
            estimate, direction = (
                _estimate_cell(catalog, best, page_src),
                plain_direction(catalog, best),
            )
            beside = _beside_cell(catalog, best, members, page_src)
        elif members:
            estimate = _findings_cell(catalog, primary or members, page_src)
            direction = "Not estimable from the records; see the findings."
            beside = ""
        else:
            estimate, direction, beside = trusted("No study recorded."), "—", ""
        rows.append(
            {
                "family": term.label,
                "studies": _studies_cell(catalog, members),
                "estimate": estimate,
                "direction": direction,
                "beside": trusted(beside),
                "adverse": _adverse_cell(primary, page_src),
                "certainty": _certainty_cell(term),
            }
        )
    others = _others(catalog, placed, {t.id for t in shown}, page_src)
    return render("findings.md.jinja", rows=rows, others=trusted("; ".join(others)))
