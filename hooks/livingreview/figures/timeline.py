"""The timeline: studies by publication year, coloured and shaped by design."""

from __future__ import annotations

from collections.abc import Mapping

from ..model import Catalog, Study
from .style import design_marker, study_link, term_label
from .svg import Svg, data_table, empty_figure, esc, figure_html, html_block, plural
from .text import text_width

# --- timeline ----------------------------------------------------------------------------------


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
    tallest = max(len(v) for v in by_year.values())
    present = sorted({s.design for s in studies}, key=lambda d: (design_rank(d), d))

    col_w, step, left = 26.0, 17.0, 40.0
    plot_w = col_w * len(years)
    axis_y = 34 + tallest * step
    width = max(left + plot_w + 24, 420.0)
    # Legend: the designs present, wrapped to the width of the figure.
    legend: list[tuple[float, float, str]] = []
    lx, ly = left, axis_y + 56
    for d in present:
        w = 20 + text_width(term_label(catalog, "designs", d), 11) + 18
        if lx + w > width - 8 and lx > left:
            lx, ly = left, ly + 20
        legend.append((lx, ly, d))
        lx += w

    svg = Svg(fig_id)
    svg.text(8, 14, "Studies per year", font_size="11", font_style="italic")
    svg.line(left - 4, axis_y, left + plot_w + 4, axis_y)
    # Label every year, or every 2nd, 5th, ... year when columns are too narrow for the label.
    tick_step = next(k for k in (1, 2, 5, 10, 20, 50, 100) if k * col_w >= 34)
    for i, year in enumerate(years):
        cx = left + i * col_w + col_w / 2
        if year % tick_step == 0:
            svg.line(cx, axis_y, cx, axis_y + 5)
            svg.text(cx, axis_y + 18, str(year), text_anchor="middle", font_size="11")
        items = by_year[year]
        if items:
            svg.text(
                cx,
                axis_y - 8 - len(items) * step,
                str(len(items)),
                text_anchor="middle",
                font_size="10",
            )
        for j, s in enumerate(items):
            svg.open("g", class_="rf-timeline-study")
            svg.tooltip(f"{s.label}: {term_label(catalog, 'designs', s.design)}")
            design_marker(svg, catalog, s.design, cx, axis_y - 4 - j * step - step / 2)
            svg.close("g")
    svg.text(
        left + plot_w / 2, axis_y + 36, "Publication year", text_anchor="middle", font_size="11"
    )
    for x, y, d in legend:
        design_marker(svg, catalog, d, x + 7, y - 4)
        svg.text(x + 20, y, term_label(catalog, "designs", d), font_size="11")

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
        "by design. Each marker is one study; the number above a stack counts its studies."
    )
    rows = [
        (str(s.year), esc(term_label(catalog, "designs", s.design)), study_link(s, page_src))
        for s in sorted(studies, key=lambda s: (s.year, s.id))
    ]
    title = "Timeline of included studies by publication year"
    return html_block(
        figure_html("timeline", fig_id, svg.render(width, ly + 16, title, desc), caption),
        data_table("Data table: timeline", ("Year", "Design", "Study"), rows),
    )
