"""The timeline: studies by publication year, coloured and shaped by design.

Two layouts of the same markers: on wider screens a column of markers per year along a
horizontal axis, at most :data:`_WIDE_WIDTH` units wide so that its 12-unit text is drawn at
12 px on a desktop; on a phone a row per year down the page, :data:`_NARROW_WIDTH` units wide.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..model import Catalog, Study
from .style import design_marker, study_link, term_label
from .svg import Svg, data_table, empty_figure, esc, figure_variants, html_block, plural
from .text import text_width

_WIDE_WIDTH, _NARROW_WIDTH = 680.0, 340.0
#: Text size in user units, and the distance between stacked markers.
_FONT, _STEP = 12.0, 17.0
TITLE = "Timeline of included studies by publication year"


def _legend(
    svg: Svg, catalog: Catalog, present: list[str], left: float, y: float, width: float
) -> float:
    """Draw the designs present, wrapped to ``width``; return the bottom."""
    x = left
    for d in present:
        label = term_label(catalog, "designs", d)
        w = 20 + text_width(label, _FONT) + 18
        if x + w > width - 8 and x > left:
            x, y = left, y + 22
        design_marker(svg, catalog, d, x + 7, y - 4)
        svg.text(x + 20, y, label)
        x += w
    return y + 16


def _study(svg: Svg, catalog: Catalog, study: Study, cx: float, cy: float) -> None:
    svg.open("g", class_="rf-timeline-study")
    svg.tooltip(f"{study.label}: {term_label(catalog, 'designs', study.design)}")
    design_marker(svg, catalog, study.design, cx, cy)
    svg.close("g")


def _columns(
    fig_id: str, catalog: Catalog, years: list[int], by_year: dict[int, list[Study]],
    present: list[str],
) -> tuple[Svg, float, float]:  # fmt: skip
    """A column of markers per year, years along a horizontal axis."""
    left = 40.0
    col_w = max(16.0, min(26.0, (_WIDE_WIDTH - left - 24) / len(years)))
    plot_w = col_w * len(years)
    tallest = max(len(v) for v in by_year.values())
    axis_y = 34 + tallest * _STEP
    width = max(left + plot_w + 24, 420.0)
    svg = Svg(fig_id)
    svg.text(8, 16, "Studies per year", font_style="italic")
    svg.line(left - 4, axis_y, left + plot_w + 4, axis_y)
    # Label every year, or every 2nd, 5th, ... year when columns are too narrow for the label.
    tick_step = next(k for k in (1, 2, 5, 10, 20, 50, 100) if k * col_w >= 38)
    for i, year in enumerate(years):
        cx = left + i * col_w + col_w / 2
        if year % tick_step == 0:
            svg.line(cx, axis_y, cx, axis_y + 5)
            svg.text(cx, axis_y + 19, str(year), text_anchor="middle")
        items = by_year[year]
        if items:
            top = axis_y - 8 - len(items) * _STEP
            svg.text(cx, top, str(len(items)), text_anchor="middle")
        for j, s in enumerate(items):
            _study(svg, catalog, s, cx, axis_y - 4 - j * _STEP - _STEP / 2)
    svg.text(left + plot_w / 2, axis_y + 38, "Publication year", text_anchor="middle")
    bottom = _legend(svg, catalog, present, left, axis_y + 60, width)
    return svg, width, bottom


def _rows(
    fig_id: str, catalog: Catalog, years: list[int], by_year: dict[int, list[Study]],
    present: list[str],
) -> tuple[Svg, float, float]:  # fmt: skip
    """A row per year down the page, markers side by side (for a phone)."""
    width, left = _NARROW_WIDTH, 84.0
    per_line = max(1, int((width - left - 40) // _STEP))
    svg = Svg(fig_id)
    svg.text(8, 16, "Studies per year", font_style="italic")
    y = 30.0
    top = y
    # Runs of two or more years without a study share one row, so the figure stays short.
    spans: list[tuple[int, int]] = []
    for year in years:
        if spans and not by_year[year] and not by_year[spans[-1][1]]:
            spans[-1] = (spans[-1][0], year)
        else:
            spans.append((year, year))
    for first, last in spans:
        items = by_year[first]
        lines = max(1, math.ceil(len(items) / per_line))
        cy = y + _STEP / 2 + 2
        label = str(first) if first == last else f"{first}–{last}"
        svg.text(left - 12, cy + 4, label, text_anchor="end")
        for j, s in enumerate(items):
            line, k = divmod(j, per_line)
            _study(svg, catalog, s, left + 4 + _STEP / 2 + k * _STEP, cy + line * _STEP)
        if items:
            last_k = min(len(items), per_line)
            svg.text(left + 4 + last_k * _STEP + 8, cy + 4, str(len(items)))
        elif first != last:
            svg.text(left + 4, cy + 4, "none", font_style="italic")
        y += lines * _STEP + 4
    svg.line(left - 6, top, left - 6, y)
    svg.text(8, y + 18, "One row per publication year.", font_style="italic")
    bottom = _legend(svg, catalog, present, 8, y + 42, width)
    return svg, width, bottom


def render_timeline(
    catalog: Catalog, filters: Mapping[str, str], fig_id: str, page_src: str
) -> str:
    """Return the timeline figure and its data table for the selected studies."""
    studies = catalog.select(**filters)
    if not studies:
        return empty_figure("No included study matches this selection.")
    design_ids = catalog.vocab("designs").ids()

    def design_rank(design: str) -> int:
        return design_ids.index(design) if design in design_ids else len(design_ids)

    years = list(range(min(s.year for s in studies), max(s.year for s in studies) + 1))
    by_year: dict[int, list[Study]] = {y: [] for y in years}
    for s in sorted(studies, key=lambda s: (design_rank(s.design), s.id)):
        by_year[s.year].append(s)
    present = sorted({s.design for s in studies}, key=lambda d: (design_rank(d), d))

    per_year = ", ".join(f"{y}: {len(by_year[y])}" for y in years if by_year[y])
    per_design = "; ".join(
        f"{term_label(catalog, 'designs', d)}: {sum(1 for s in studies if s.design == d)}"
        for d in present
    )
    desc = (
        f"{plural(len(studies), 'study', 'studies')} published from {years[0]} to {years[-1]}, "
        "one marker per study, stacked by year, coloured and shaped by design. Studies per "
        f"year: {per_year}. By design: {per_design}."
    )
    caption = (
        f"Publication years of {plural(len(studies), 'included study', 'included studies')}, "
        "by design. Each marker is one study; the number next to a year's markers counts them."
    )
    rows = [
        (str(s.year), esc(term_label(catalog, "designs", s.design)), study_link(s, page_src))
        for s in sorted(studies, key=lambda s: (s.year, s.id))
    ]
    wide, wide_w, wide_h = _columns(fig_id, catalog, years, by_year, present)
    narrow_svg = None
    if wide_w > _NARROW_WIDTH:
        narrow, narrow_w, narrow_h = _rows(f"{fig_id}-n", catalog, years, by_year, present)
        narrow_svg = narrow.render(narrow_w, narrow_h, TITLE, desc)
    return html_block(
        figure_variants(
            "timeline", fig_id, wide.render(wide_w, wide_h, TITLE, desc), narrow_svg, caption
        ),
        data_table("Data table: timeline", ("Year", "Design", "Study"), rows),
    )
