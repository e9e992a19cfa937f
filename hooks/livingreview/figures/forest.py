"""Forest plots: effect estimates with confidence intervals, one panel per effect measure."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..model import Catalog, Effect, Outcome, Study, Term, format_number
from .style import study_link, term_label
from .svg import (
    Svg,
    data_table,
    empty_figure,
    esc,
    figure_html,
    html_block,
    plural,
    show_number,
    slug,
    table_cell,
)
from .text import fit_text, text_width

# --- forest plot -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ForestRow:
    study: Study
    outcome: Outcome
    effect: Effect
    label: str


def _linear_axis(lo: float, hi: float) -> tuple[float, float, list[float]]:
    """Return a padded range and round ticks (steps of 1, 2, 2.5 or 5 × 10^k)."""
    raw = (hi - lo) / 5 if hi > lo else 1.0
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    start, end = math.floor(lo / step) * step, math.ceil(hi / step) * step
    if start == end:
        start, end = start - step, end + step
    count = round((end - start) / step)
    return start, end, [round(start + k * step, 10) for k in range(count + 1)]


def _log_axis(lo: float, hi: float) -> tuple[float, float, list[float]]:
    """Return a range and ticks at 1, 2 and 5 × 10^k for a logarithmic axis."""
    ticks = sorted(
        round(m * 10.0**e, 10)
        for e in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 2)
        for m in (1, 2, 5)
    )
    start = max(t for t in ticks if t <= lo * 0.999)
    end = min(t for t in ticks if t >= hi * 1.001)
    return start, end, [t for t in ticks if start <= t <= end]


def _direction(
    catalog: Catalog, measure: str, within: bool, rows: Sequence[_ForestRow]
) -> tuple[str, str, str]:
    """Return the axis labels (left, right) for one panel and the reason for them.

    A side is named as favouring ketamine only when that follows from the records: a
    between-group mean difference or risk ratio (ketamine versus comparator) on outcomes that
    all share one known direction. For a higher-is-worse scale a negative MD (an RR below 1)
    favours ketamine. Within-group changes, standardized effect sizes (whose sign convention
    differs between sources) and mixed or unknown directions get the neutral lower | higher.
    """
    neutral = ("← lower", "higher →")
    if within:
        why = (
            "These are within-group changes from baseline, not comparisons with a control "
            "group, so the axis is labelled neutrally (lower | higher)."
        )
        return (*neutral, why)
    if measure not in ("MD", "RR"):
        why = (
            "Standardized effect sizes are reported with differing sign conventions, so the "
            "axis is labelled neutrally (lower | higher); each estimate's note in the data "
            "table says which direction favours ketamine where the source states it."
        )
        return (*neutral, why)
    scales = catalog.vocab("outcome_measures")
    directions = {
        scales[r.outcome.measure].get("direction") if r.outcome.measure in scales else None
        for r in rows
    }
    if directions == {"higher-is-worse"}:
        why = (
            "Lower values favour ketamine: these outcomes are scored so that higher is worse, "
            "and each estimate compares ketamine with its comparator."
        )
        return ("← favours ketamine", "favours comparator →", why)
    if directions == {"higher-is-better"}:
        why = (
            "Higher values favour ketamine: these outcomes are scored so that higher is better, "
            "and each estimate compares ketamine with its comparator."
        )
        return ("← favours comparator", "favours ketamine →", why)
    why = (
        "Which direction favours ketamine is not known for every outcome here, so the axis "
        "is labelled neutrally (lower | higher)."
    )
    return (*neutral, why)


def _forest_groups(
    catalog: Catalog, studies: Sequence[Study]
) -> tuple[dict[tuple[str, bool], list[_ForestRow]], int]:
    """Group estimates with a CI by (measure, within-group); count those without a CI."""
    groups: dict[tuple[str, bool], list[_ForestRow]] = {}
    skipped = 0
    for s in studies:
        for o in s.outcomes:
            e = o.effect
            if e is None:
                continue
            if e.ci_lower is None or e.ci_upper is None:
                skipped += 1
                continue
            parts = [s.label, _short_measure(catalog, o.measure)]
            parts += [o.timepoint] if o.timepoint else []
            # A single-arm study has no comparator: its estimate is a change from baseline.
            within = s.comparator == "none"
            groups.setdefault((e.measure, within), []).append(
                _ForestRow(s, o, e, " · ".join(parts))
            )
    for key, rows in groups.items():
        # Number repeated labels (two estimates of one outcome) so rows stay distinguishable.
        totals: dict[str, int] = {}
        for r in rows:
            totals[r.label] = totals.get(r.label, 0) + 1
        seen: dict[str, int] = {}
        numbered = []
        for r in rows:
            if totals[r.label] > 1:
                seen[r.label] = seen.get(r.label, 0) + 1
                r = _ForestRow(r.study, r.outcome, r.effect, f"{r.label} ({seen[r.label]})")
            numbered.append(r)
        groups[key] = numbered
    return groups, skipped


def _short_measure(catalog: Catalog, measure: str) -> str:
    """Return a scale's abbreviation, or its label without a trailing parenthesis."""
    label = term_label(catalog, "outcome_measures", measure, short=True)
    return re.sub(r"\s*\([^()]*\)$", "", label) or label


def _ci_text(e: Effect) -> str:
    level = "" if e.ci_level in (95, None) else f"{format_number(e.ci_level)}% CI "
    return (
        f"{show_number(e.estimate)} ({level}{show_number(e.ci_lower)} to {show_number(e.ci_upper)})"
    )


def _forest_panel(
    catalog: Catalog, measure: str, within: bool, rows: Sequence[_ForestRow], fig_id: str
) -> str:
    measures = catalog.vocab("effect_measures")
    term = measures[measure] if measure in measures else Term(measure, measure)
    log = term.get("scale", "linear") == "log"
    null = float(term.get("no_effect", 1 if log else 0))
    values = [null]
    for r in rows:
        values += [
            v for v in (r.effect.ci_lower, r.effect.ci_upper, r.effect.estimate) if v is not None
        ]
    lo, hi, ticks = (_log_axis if log else _linear_axis)(min(values), max(values))

    row_h, plot_w = 24.0, 320.0
    label_w = max(
        min(max(text_width(r.label, 12) for r in rows) + 4, 420.0),
        text_width("Study · outcome · timepoint", 11),
    )
    right_w = max([text_width(_ci_text(r.effect), 12) for r in rows] + [110.0]) + 16
    x0 = 8 + label_w + 14
    width = x0 + plot_w + 14 + right_w + 8

    def sx(v: float) -> float:
        if log:
            return x0 + plot_w * math.log(v / lo) / math.log(hi / lo)
        return x0 + plot_w * (v - lo) / (hi - lo)

    left_text, right_text, why = _direction(catalog, measure, within, rows)
    svg = Svg(fig_id)
    svg.text(8, 20, "Study · outcome · timepoint", font_size="11", font_weight="600")
    svg.text(
        x0 + plot_w / 2, 20, term.label, font_size="11", font_weight="600", text_anchor="middle"
    )
    svg.text(x0 + plot_w + 14, 20, "Estimate (95% CI)", font_size="11", font_weight="600")
    top = y = 30.0
    for r in rows:
        e = r.effect
        assert e.ci_lower is not None and e.ci_upper is not None
        cy = y + row_h / 2
        svg.open("g", class_="rf-forest-row")
        svg.tooltip(f"{r.label}: {_ci_text(e)}" + (", pooled estimate" if e.pooled else ""))
        svg.text(8, cy + 4, fit_text(r.label, label_w, 12))
        svg.line(sx(e.ci_lower), cy, sx(e.ci_upper), cy, stroke_width=1.5)
        x = sx(e.estimate)
        if e.pooled:
            # A diamond spanning the interval, only where the source reports a pooled estimate.
            svg.polygon(
                sx(e.ci_lower),
                cy,
                x,
                cy - 7,
                sx(e.ci_upper),
                cy,
                x,
                cy + 7,
                fill="currentColor",
                class_="rf-forest-pooled",
            )
        else:
            svg.rect(x - 4.5, cy - 4.5, 9, 9, fill="currentColor", class_="rf-forest-estimate")
        svg.text(x0 + plot_w + 14, cy + 4, _ci_text(e))
        svg.close("g")
        y += row_h
    svg.line(sx(null), top - 4, sx(null), y, stroke_dasharray="4 3", class_="rf-forest-null")
    svg.line(x0, y, x0 + plot_w, y)
    last = -math.inf
    for t in ticks:
        tx, label = sx(t), show_number(t)
        svg.line(tx, y, tx, y + 5)
        if tx - text_width(label, 11) / 2 > last + 4:  # skip a label that would touch the last
            svg.text(tx, y + 18, label, text_anchor="middle", font_size="11")
            last = tx + text_width(label, 11) / 2
    y += 36
    svg.text(x0, y, left_text, font_size="11", class_="rf-forest-direction")
    svg.text(
        x0 + plot_w, y, right_text, font_size="11", text_anchor="end", class_="rf-forest-direction"
    )
    y += 18
    axis_title = f"{term.label}{' (log scale)' if log else ''}; no effect = {show_number(null)}"
    svg.text(x0 + plot_w / 2, y, axis_title, font_size="11", text_anchor="middle")
    y += 22
    svg.rect(8, y - 9, 9, 9, fill="currentColor")
    svg.text(22, y, "Single estimate", font_size="11")
    lx = 22 + text_width("Single estimate", 11) + 20
    svg.polygon(lx, y - 4, lx + 7, y - 11, lx + 14, y - 4, lx + 7, y + 3, fill="currentColor")
    svg.text(
        lx + 20, y, "Pooled estimate as reported by a review (not computed here)", font_size="11"
    )

    kind = "within-group change from baseline" if within else "comparison with comparator"
    desc = (
        f"{plural(len(rows), 'estimate')} of the {term.label}"
        + (" on a logarithmic axis" if log else "")
        + f", no effect at {show_number(null)}: "
        + "; ".join(
            f"{r.label}: {_ci_text(r.effect)}{', pooled' if r.effect.pooled else ''}" for r in rows
        )
        + f". {why} Estimates of different measures are never combined and nothing is pooled "
        "here; a diamond is a pooled estimate as its source reports it."
    )
    caption = f"{term.label}, {kind}: {plural(len(rows), 'estimate')} as reported. {why}"
    title = f"Forest plot: {term.label} ({kind})"
    return figure_html("forest", fig_id, svg.render(width, y + 10, title, desc), caption)


def render_forest(catalog: Catalog, filters: Mapping[str, str], fig_id: str, page_src: str) -> str:
    """Return the forest plots (one panel per effect measure) and their data tables."""
    groups, skipped = _forest_groups(catalog, catalog.select(**filters))
    if not groups:
        msg = "No effect estimate with a confidence interval is recorded for this selection."
        return empty_figure(msg)
    order = catalog.vocab("effect_measures").ids()
    keys = sorted(groups, key=lambda k: (order.index(k[0]) if k[0] in order else 99, k))
    figures, table = [], []
    for measure, within in keys:
        rows = groups[(measure, within)]
        sub = f"{fig_id}-{slug(measure)}-{'within' if within else 'between'}"
        figures.append(_forest_panel(catalog, measure, within, rows, sub))
        for r in rows:
            e = r.effect
            pooled = "No"
            if e.pooled:
                pooled = "Yes" + (f", {plural(e.studies, 'study', 'studies')}" if e.studies else "")
                pooled += f", n = {e.n}" if e.n else ""
            table.append(
                (
                    esc(term_label(catalog, "effect_measures", measure)),
                    study_link(r.study, page_src),
                    table_cell(term_label(catalog, "outcome_measures", r.outcome.measure)),
                    table_cell(r.outcome.timepoint),
                    esc(_ci_text(e)),
                    esc(pooled),
                    esc("Within-group change" if within else "Between groups"),
                    table_cell(e.note),
                )
            )
    note = ""
    if skipped:
        verb = "is" if skipped == 1 else "are"
        note = f"{plural(skipped, 'estimate')} without a confidence interval {verb} not plotted."
        note = f"*{esc(note)}*"
    headers = (
        "Measure",
        "Study",
        "Outcome",
        "Timepoint",
        "Estimate (CI)",
        "Pooled",
        "Comparison",
        "Note",
    )
    return html_block(*figures, note, data_table("Data table: effect estimates", headers, table))
