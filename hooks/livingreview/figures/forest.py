"""Forest plots: one figure per outcome family and comparison type, estimates as reported.

Comparisons with a control group and changes from baseline are never drawn on one axis, nor
are two outcome families (treatment of chronic PTSD and prevention after trauma are two). A
figure has one section, with its own axis, per effect measure and benefit side; each axis says
which side favours ketamine (or is an improvement), as :mod:`livingreview.findings` derives it
from the measure's direction or the source's sign convention. Every row links to its study's
page; a review's pooled estimate is a diamond labelled with the review. Estimates without an
interval and results without any estimate are listed under the figure, so nothing drops out.

Each figure has a wide and a narrow layout (the responsive-figure contract: two sibling
variant wrappers, the narrow one with the estimate under the label), and a data table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..findings import (
    BETWEEN,
    COMPARISON_LABELS,
    WITHIN,
    Placed,
    axis_labels,
    families,
    favoured_side,
    no_effect,
    place,
    short_measure,
)
from ..model import Catalog, Effect, Term
from ..pages import study_url
from ..render import escape_attr, relative_url
from .style import study_link, term_label
from .svg import (
    Svg,
    data_table,
    empty_figure,
    esc,
    html_block,
    plural,
    show_number,
    slug,
    table_cell,
)
from .text import text_width, wrap_text

#: Font size of every text in the plots, in SVG units. The wide layout is at most
#: ``WIDE_WIDTH`` units wide and the narrow one ``NARROW_WIDTH``: shown at the content width of
#: a 1,280 px and a 390 px screen, text stays at least 12 and 11 CSS px.
FONT = 12
WIDE_WIDTH = 680.0
NARROW_WIDTH = 340.0
OTHER = ""
_IMG, _GROUP = 'role="img"', 'role="group"'


@dataclass(frozen=True)
class _Row:
    placed: Placed
    effect: Effect
    label: str


@dataclass(frozen=True)
class _Section:
    measure: Term
    side: str | None
    rows: tuple[_Row, ...]


def _num(e: Effect, x: float | None) -> str:
    """Return a number of ``e`` with the source's decimal places and a true minus sign."""
    return "—" if x is None else e.number(x).replace("-", "−")


def _ci_text(e: Effect) -> str:
    if e.ci_lower is None or e.ci_upper is None:
        return _num(e, e.estimate)
    return f"{_num(e, e.estimate)} ({_num(e, e.ci_lower)} to {_num(e, e.ci_upper)})"


def _n(row: _Row) -> int | None:
    return row.effect.n if row.effect.pooled else row.placed.study.n


def _n_text(row: _Row) -> str:
    n = _n(row)
    return f"n = {n}" if n else "n not recorded"


def _label(catalog: Catalog, p: Placed) -> str:
    parts = [short_measure(catalog, p.outcome.measure)]
    parts += [p.outcome.timepoint] if p.outcome.timepoint else []
    parts += [p.effect.label] if p.effect and p.effect.label else []
    who = (
        f"Pooled, as reported by {p.study.label}" if p.effect and p.effect.pooled else p.study.label
    )
    return " · ".join([who, *parts])


def _numbered(rows: list[_Row]) -> list[_Row]:
    """Number repeated labels (two estimates of one outcome) so rows stay distinguishable."""
    totals: dict[str, int] = {}
    for r in rows:
        totals[r.label] = totals.get(r.label, 0) + 1
    seen: dict[str, int] = {}
    out = []
    for r in rows:
        if totals[r.label] > 1:
            seen[r.label] = seen.get(r.label, 0) + 1
            r = _Row(r.placed, r.effect, f"{r.label} ({seen[r.label]})")
        out.append(r)
    return out


def _sections(catalog: Catalog, placed: Sequence[Placed]) -> list[_Section]:
    """Split plotted estimates by effect measure and benefit side, each its own axis."""
    measures = catalog.vocab("effect_measures")
    order = measures.ids()
    groups: dict[tuple[str, str | None], list[_Row]] = {}
    for p in placed:
        e = p.effect
        assert e is not None
        side = favoured_side(catalog, p.outcome, e)
        groups.setdefault((e.measure, side), []).append(_Row(p, e, _label(catalog, p)))
    keys = sorted(
        groups,
        key=lambda k: (order.index(k[0]) if k[0] in order else 99, k[0], str(k[1])),
    )
    out = []
    for measure, side in keys:
        term = measures[measure] if measure in measures else Term(measure, measure)
        out.append(_Section(term, side, tuple(_numbered(groups[(measure, side)]))))
    return out


def _linear_axis(lo: float, hi: float) -> tuple[float, float, list[float]]:
    """Return a padded range and round ticks (steps of 1, 2, 2.5 or 5 × 10^k)."""
    raw = (hi - lo) / 4 if hi > lo else 1.0
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


class _Scale:
    """Map values of one section to x positions."""

    def __init__(self, catalog: Catalog, section: _Section, x0: float, width: float) -> None:
        self.log = section.measure.get("scale", "linear") == "log"
        self.null = no_effect(catalog, section.measure.id)
        values = [self.null]
        for r in section.rows:
            values += [
                v
                for v in (r.effect.ci_lower, r.effect.ci_upper, r.effect.estimate)
                if v is not None
            ]
        if self.log:
            values = [v for v in values if v > 0]
        self.lo, self.hi, self.ticks = (_log_axis if self.log else _linear_axis)(
            min(values), max(values)
        )
        self.x0, self.width = x0, width

    def x(self, v: float) -> float:
        if self.log:
            v = max(v, self.lo)
            return self.x0 + self.width * math.log(v / self.lo) / math.log(self.hi / self.lo)
        return self.x0 + self.width * (v - self.lo) / (self.hi - self.lo)


def _section_title(section: _Section, comparison: str) -> str:
    """Return a section's heading: the effect measure, and what it measures within groups."""
    label = section.measure.label
    return f"{label}, change from baseline" if comparison == WITHIN else label


def _axis_title(section: _Section, scale: _Scale, comparison: str) -> str:
    log = " (log scale)" if scale.log else ""
    null = "no change" if comparison == WITHIN else "no effect"
    return f"{_section_title(section, comparison)}{log}; {null} = {show_number(scale.null)}"


def _glyph(svg: Svg, scale: _Scale, e: Effect, cy: float) -> None:
    """Draw one estimate: its interval, and a square (one study) or a diamond (pooled)."""
    assert e.ci_lower is not None and e.ci_upper is not None
    lo, hi, x = scale.x(e.ci_lower), scale.x(e.ci_upper), scale.x(e.estimate)
    svg.line(lo, cy, hi, cy, stroke_width=1.5)
    if e.pooled:
        svg.polygon(
            lo, cy, x, cy - 7, hi, cy, x, cy + 7, fill="currentColor", class_="rf-forest-pooled"
        )
    else:
        svg.rect(x - 4.5, cy - 4.5, 9, 9, fill="currentColor", class_="rf-forest-estimate")


def _axis(svg: Svg, scale: _Scale, y: float, section: _Section, comparison: str) -> float:
    """Draw the axis, ticks, direction labels and axis title from ``y``; return the new y."""
    svg.line(scale.x0, y, scale.x0 + scale.width, y)
    last = -math.inf
    for t in scale.ticks:
        tx, label = scale.x(t), show_number(t)
        svg.line(tx, y, tx, y + 5)
        half = text_width(label, FONT) / 2
        if tx - half > last + 4:  # skip a label that would touch the last one
            svg.text(tx, y + 19, label, text_anchor="middle", font_size=FONT)
            last = tx + half
    y += 38
    left, right = axis_labels(section.side, comparison)
    svg.text(scale.x0, y, left, font_size=FONT, font_weight="600", class_="rf-forest-direction")
    widths = text_width(left, FONT, bold=True) + text_width(right, FONT, bold=True)
    if widths + 16 > scale.width:
        y += 18  # no room for both on one line: the right-hand label goes under the left
    svg.text(
        scale.x0 + scale.width,
        y,
        right,
        text_anchor="end",
        font_size=FONT,
        font_weight="600",
        class_="rf-forest-direction",
    )
    y += 20
    svg.text(
        scale.x0 + scale.width / 2,
        y,
        _axis_title(section, scale, comparison),
        text_anchor="middle",
        font_size=FONT,
    )
    return y + 14


def _open_row(svg: Svg, row: _Row, page_url: str) -> None:
    href = relative_url(study_url(row.placed.study.id), page_url)
    svg.open("a", href=href, class_="rf-forest-link")
    svg.open("g", class_="rf-forest-row")
    pooled = ", pooled estimate as reported by the review" if row.effect.pooled else ""
    svg.tooltip(f"{row.label}: {_ci_text(row.effect)}, {_n_text(row)}{pooled}")


def _close_row(svg: Svg) -> None:
    svg.close("g")
    svg.close("a")


def _legend(svg: Svg, y: float, width: float) -> float:
    """Draw the legend (square: one study; diamond: a review's pooled estimate); return y."""
    svg.rect(8, y - 9, 9, 9, fill="currentColor")
    svg.text(24, y, "One study", font_size=FONT)
    pooled = "Pooled estimate as reported by a review (not computed here)"
    lx = 24 + text_width("One study", FONT) + 20
    if lx + 20 + text_width(pooled, FONT) > width - 8:
        lx, y = 8.0, y + 20
    svg.polygon(lx, y - 4, lx + 7, y - 11, lx + 14, y - 4, lx + 7, y + 3, fill="currentColor")
    for i, line in enumerate(wrap_text(pooled, width - 8 - lx - 20, FONT)):
        svg.text(lx + 20, y + 16 * i, line, font_size=FONT)
        last = y + 16 * i
    return last + 12


def _wide(
    catalog: Catalog, sections: Sequence[_Section], comparison: str, fig_id: str, page_url: str
) -> tuple[Svg, float, float]:
    label_w, n_w, width = 246.0, 58.0, WIDE_WIDTH
    x_n = 8 + label_w + 8
    x0 = x_n + n_w
    est_w = max(text_width(_ci_text(r.effect), FONT) for s in sections for r in s.rows)
    est_w = max(est_w, text_width("Estimate (CI)", FONT, bold=True))
    # The plot takes what the labels and estimates leave, within bounds (the figure then
    # grows rather than squeezing the axis below 140 units).
    plot_w = max(140.0, min(220.0, width - 8 - est_w - 12 - x0))
    x_est = x0 + plot_w + 12
    width = max(width, x_est + est_w + 8)
    svg = Svg(fig_id)
    y = 20.0
    svg.text(8, y, "Study · outcome · timepoint", font_size=FONT, font_weight="600")
    svg.text(x_n, y, "n", font_size=FONT, font_weight="600")
    svg.text(x_est, y, "Estimate (CI)", font_size=FONT, font_weight="600")
    y += 10
    for section in sections:
        scale = _Scale(catalog, section, x0, plot_w)
        y += 18
        svg.text(
            x0 + plot_w / 2,
            y,
            _section_title(section, comparison),
            text_anchor="middle",
            font_size=FONT,
            font_weight="600",
        )
        y += 6
        top = y
        for row in section.rows:
            lines = wrap_text(row.label, label_w, FONT, max_lines=3)
            h = 8 + 16 * len(lines)
            cy = y + h / 2
            _open_row(svg, row, page_url)
            for i, line in enumerate(lines):
                svg.text(8, y + 16 + 16 * i, line, font_size=FONT, text_decoration="underline")
            n = _n(row)
            svg.text(x_n, cy + 4, f"n = {n}" if n else "—", font_size=FONT)
            _glyph(svg, scale, row.effect, cy)
            svg.text(x_est, cy + 4, _ci_text(row.effect), font_size=FONT)
            _close_row(svg)
            y += h
        svg.line(
            scale.x(scale.null),
            top,
            scale.x(scale.null),
            y,
            stroke_dasharray="4 3",
            class_="rf-forest-null",
        )
        y = _axis(svg, scale, y, section, comparison)
    y = _legend(svg, y + 16, width)
    return svg, width, y + 10


def _narrow(
    catalog: Catalog, sections: Sequence[_Section], comparison: str, fig_id: str, page_url: str
) -> tuple[Svg, float, float]:
    width = NARROW_WIDTH
    x0, plot_w = 24.0, width - 48.0
    svg = Svg(fig_id)
    y = 6.0
    for section in sections:
        scale = _Scale(catalog, section, x0, plot_w)
        y += 18
        svg.text(8, y, _section_title(section, comparison), font_size=FONT, font_weight="600")
        y += 6
        for row in section.rows:
            lines = wrap_text(row.label, width - 16, FONT, max_lines=2)
            _open_row(svg, row, page_url)
            for i, line in enumerate(lines):
                svg.text(8, y + 16 + 16 * i, line, font_size=FONT, text_decoration="underline")
            y += 16 * len(lines)
            # The estimate goes under the label, the interval under both.
            svg.text(8, y + 16, f"{_ci_text(row.effect)}, {_n_text(row)}", font_size=FONT)
            cy = y + 32
            svg.line(
                scale.x(scale.null),
                cy - 9,
                scale.x(scale.null),
                cy + 9,
                stroke_dasharray="3 2",
                class_="rf-forest-null",
            )
            _glyph(svg, scale, row.effect, cy)
            _close_row(svg)
            y += 46
        y = _axis(svg, scale, y, section, comparison)
    y = _legend(svg, y + 16, width)
    return svg, width, y + 10


def _description(catalog: Catalog, sections: Sequence[_Section], comparison: str) -> str:
    parts = []
    for s in sections:
        left, right = axis_labels(s.side, comparison)
        rows = "; ".join(
            f"{r.label}: {_ci_text(r.effect)}, {_n_text(r)}"
            + (", pooled" if r.effect.pooled else "")
            for r in s.rows
        )
        null = show_number(no_effect(catalog, s.measure.id))
        parts.append(
            f"{s.measure.label} (no effect at {null}; left {left[2:]}, right {right[:-2]}): {rows}."
        )
    return (
        " ".join(parts)
        + " Nothing is pooled by this review; a diamond is a pooled estimate as its review "
        "reports it."
    )


def _warnings(catalog: Catalog, sections: Sequence[_Section], comparison: str) -> str:
    """Return caption sentences a reader needs before comparing panels or rows (``""``: none).

    The benefit side of a standardized effect follows its source's sign convention, so it can
    sit on the other side from a raw difference's; and a raw-difference axis may hold scales of
    different ranges, whose sizes are not comparable.
    """
    out = []
    good = "improvement" if comparison == WITHIN else "favouring ketamine"
    sides = {s.side for s in sections if s.side is not None}
    if len(sides) > 1:
        where = "; ".join(
            f"{s.measure.label}: {'left' if s.side == 'low' else 'right'}"
            for s in sections
            if s.side is not None
        )
        out.append(
            f"Caution: the side {good} differs between panels ({where}), because raw "
            "differences follow each scale's direction and standardized effects keep their "
            "source's sign; read each axis's labels."
        )
    for s in sections:
        if s.measure.get("standardized") or s.measure.get("scale") == "log":
            continue
        scales: list[str] = []
        for r in s.rows:
            name = short_measure(catalog, r.placed.outcome.measure)
            if name not in scales:
                scales.append(name)
        if len(scales) > 1:
            out.append(
                f"The {s.measure.label.lower()} axis holds different scales "
                f"({', '.join(scales)}): their points are not comparable in size, only in "
                "direction."
            )
    return " ".join(out)


def _why(sections: Sequence[_Section], comparison: str) -> str:
    if any(s.side is None for s in sections):
        return (
            "Where an axis reads lower | higher, the records do not say which side is better "
            "(a scale without a recorded direction, or a standardized effect whose source does "
            "not state its sign convention)."
        )
    if comparison == WITHIN:
        return (
            "These are changes from baseline without a control group; the axis shows which "
            "side is an improvement on each scale."
        )
    return (
        "Which side favours ketamine follows from each scale's direction (or the source's sign "
        "convention for standardized effects)."
    )


def _figure(
    catalog: Catalog,
    family_label: str,
    comparison: str,
    rows: Sequence[Placed],
    fig_id: str,
    page_url: str,
) -> str:
    sections = _sections(catalog, rows)
    count = sum(len(s.rows) for s in sections)
    kind = COMPARISON_LABELS[comparison]
    title = f"Forest plot: {family_label}, {kind}"
    desc = _description(catalog, sections, comparison)
    wide, w_width, w_height = _wide(catalog, sections, comparison, fig_id, page_url)
    narrow, n_width, n_height = _narrow(catalog, sections, comparison, f"{fig_id}-n", page_url)
    warnings = _warnings(catalog, sections, comparison)
    caption = (
        f"{family_label}, {kind}: {plural(count, 'estimate')} as reported; each row links to its "
        f"study. {_why(sections, comparison)}" + (f" {warnings}" if warnings else "")
    )
    # Rows are links, and an image's children are presentational (axe: nested-interactive):
    # the plot is a labelled group of links instead, still named by its title and description.
    wide_svg = wide.render(w_width, w_height, title, desc).replace(_IMG, _GROUP, 1)
    narrow_svg = narrow.render(n_width, n_height, title, desc).replace(_IMG, _GROUP, 1)
    return (
        f'<figure class="review-figure review-figure--forest" id="{escape_attr(fig_id)}">\n'
        '<div class="review-figure__variant review-figure__variant--wide">\n'
        f"{wide_svg}\n</div>\n"
        '<div class="review-figure__variant review-figure__variant--narrow">\n'
        f"{narrow_svg}\n</div>\n"
        f"<figcaption>{esc(caption)}</figcaption>\n</figure>"
    )


def _table(
    catalog: Catalog, rows: Sequence[Placed], comparison: str, family: str, page_src: str
) -> str:
    body = []
    for p in rows:
        e = p.effect
        assert e is not None
        pooled = "No"
        if e.pooled:
            pooled = "Yes" + (f", {plural(e.studies, 'study', 'studies')}" if e.studies else "")
        n = e.n if e.pooled else p.study.n
        body.append(
            (
                study_link(p.study, page_src),
                table_cell(term_label(catalog, "outcome_measures", p.outcome.measure)),
                table_cell(", ".join(x for x in (p.outcome.timepoint, e.label) if x)),
                esc(str(n)) if n else "—",
                esc(f"{term_label(catalog, 'effect_measures', e.measure)} {_ci_text(e)}"),
                esc(pooled),
                table_cell(" ".join(x for x in (e.note, p.outcome.family_note) if x)),
            )
        )
    headers = ("Study", "Outcome", "Timepoint", "n", "Estimate (CI)", "Pooled", "Note")
    return data_table(f"Data table: {family}, {COMPARISON_LABELS[comparison]}", headers, body)


def _page_url(page_src: str) -> str:
    """Return the URL of a page from its source path (directory URLs: ``ptsd.md`` -> ``ptsd/``)."""
    if page_src == "index.md":
        return ""
    if page_src.endswith("/index.md"):
        return page_src[: -len("index.md")]
    return page_src[: -len(".md")] + "/"


def _listing(catalog: Catalog, rows: Sequence[Placed], page_src: str) -> str:
    """Return ``Study (measure), ...`` with links, one entry per study."""
    by_study: dict[str, tuple[str, list[str]]] = {}
    for p in rows:
        _, names = by_study.setdefault(p.study.id, (study_link(p.study, page_src), []))
        name = esc(short_measure(catalog, p.outcome.measure))
        if name not in names:
            names.append(name)
    return "; ".join(f"{link} ({', '.join(names)})" for link, names in by_study.values())


def render_forest(catalog: Catalog, filters: Mapping[str, str], fig_id: str, page_src: str) -> str:
    """Return the forest plots, one per outcome family and comparison type, with data tables."""
    placed = place(catalog, catalog.select(**filters))
    if not placed:
        msg = "No effect estimate is recorded for this selection: no study reports an outcome."
        return empty_figure(msg)
    shown = [(t.id, t.label) for t in families(catalog, filters.get("condition"))]
    known = {f for f, _ in shown}
    shown.append((OTHER, "Other outcomes (no outcome family on this page)"))
    page_url = _page_url(page_src)
    blocks: list[str] = []
    plotted_any = False
    for family, family_label in shown:
        members = [p for p in placed if (p.family if p.family in known else OTHER) == family]
        if not members:
            continue
        parts = [f"**{esc(family_label)}**"]
        for comparison in (BETWEEN, WITHIN):
            rows = [
                p
                for p in members
                if p.comparison == comparison
                and p.effect is not None
                and p.effect.ci_lower is not None
                and p.effect.ci_upper is not None
            ]
            if not rows:
                continue
            plotted_any = True
            sub = f"{fig_id}-{slug(family or 'other')}-{comparison}"
            parts.append(_figure(catalog, family_label, comparison, rows, sub, page_url))
            parts.append(_table(catalog, rows, comparison, family_label, page_src))
        no_ci = [
            p
            for p in members
            if p.effect is not None and (p.effect.ci_lower is None or p.effect.ci_upper is None)
        ]
        if no_ci:
            parts.append(
                f"Estimate without an interval, not plotted: {_listing(catalog, no_ci, page_src)}."
            )
        no_estimate = [p for p in members if p.effect is None]
        if no_estimate:
            parts.append(
                f"With a result but no estimate (see the studies' pages): "
                f"{_listing(catalog, no_estimate, page_src)}."
            )
        blocks.extend(parts)
    if not plotted_any:
        blocks.insert(
            0, esc("No effect estimate with a confidence interval is recorded for this selection.")
        )
    return html_block(*blocks)


__all__ = ["render_forest"]
