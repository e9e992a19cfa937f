"""The evidence map: condition x design grid with the number of studies and participants."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..model import Catalog, Study, Term
from .style import study_link
from .svg import Svg, coord, data_table, empty_figure, esc, figure_html, html_block, plural
from .text import wrap_text

# --- evidence map ------------------------------------------------------------------------------


def _map_lines(studies: Sequence[Study], review: bool) -> list[str]:
    """Return a cell's text: number of studies, summed n, and how many do not report n."""
    if not studies:
        return ["—"]
    missing = sum(1 for s in studies if s.n is None)
    lines = [plural(len(studies), "review") if review else plural(len(studies), "study", "studies")]
    if len(studies) > missing:
        total = sum(s.n or 0 for s in studies)
        lines.append(f"n = {total}" + (" (not added)" if review else ""))
    if missing:
        lines.append(f"n not reported: {missing}")
    return lines


def render_evidence_map(
    catalog: Catalog, filters: Mapping[str, str], fig_id: str, page_src: str
) -> str:
    """Return the evidence-map figure and its data table for the selected studies."""
    studies = catalog.select(**filters)
    if not studies:
        return empty_figure("No included study matches this selection.")
    conditions = [
        t for t in catalog.vocab("conditions").terms if filters.get("condition") in (None, t.id)
    ]
    groups: dict[str, list[Term]] = {"primary": [], "review": []}
    for t in catalog.vocab("designs").terms:
        kind = "review" if t.get("kind") == "review" else "primary"
        if filters.get("design") in (None, t.id) and filters.get("kind") in (None, kind):
            groups[kind].append(t)
    cells = {
        (d.id, c.id): [s for s in studies if s.design == d.id and s.condition == c.id]
        for kind in groups.values()
        for d in kind
        for c in conditions
    }
    most = max(len(v) for v in cells.values()) or 1

    label_w, cell_w, cell_h = 200.0, 150.0, 52.0
    x0 = 8 + label_w + 8
    width = x0 + cell_w * len(conditions) + 8
    svg = Svg(fig_id)
    for i, c in enumerate(conditions):
        for j, line in enumerate(wrap_text(c.label, cell_w - 12, 12, max_lines=2, bold=True)):
            svg.text(
                x0 + i * cell_w + cell_w / 2,
                24 + j * 15,
                line,
                text_anchor="middle",
                font_weight="600",
            )
    y = 48.0

    def draw_row(label: str, texts: list[list[str]], counts: list[int], bold: bool) -> None:
        nonlocal y
        svg.open("g", class_="rf-map-row")
        lines = wrap_text(label, label_w, 12, max_lines=2, bold=bold)
        if lines != wrap_text(label, label_w, 12, bold=bold):
            svg.tooltip(label)
        for j, line in enumerate(lines):
            svg.text(
                x0 - 8,
                y + cell_h / 2 - (len(lines) - 1) * 7.5 + 4 + j * 15,
                line,
                text_anchor="end",
                font_weight="600" if bold else None,
            )
        for i, (cell, count) in enumerate(zip(texts, counts, strict=True)):
            x = x0 + i * cell_w
            opacity = 0.12 + 0.5 * count / most if count else 0.0
            svg.rect(
                x + 2,
                y + 2,
                cell_w - 4,
                cell_h - 4,
                rx=3,
                fill="#3B82C4",
                fill_opacity=coord(opacity),
                stroke="currentColor",
                stroke_opacity="0.35",
                class_="rf-map-cell",
            )
            top = y + cell_h / 2 - (len(cell) - 1) * 6.5 + 4
            for j, text in enumerate(cell):
                svg.text(
                    x + cell_w / 2,
                    top + j * 13,
                    text,
                    text_anchor="middle",
                    font_size="11",
                    font_weight="600" if j == 0 and count else None,
                )
        svg.close("g")
        y += cell_h

    table: list[tuple[str, ...]] = []
    summary: list[str] = []
    for kind, designs in groups.items():
        if not designs:
            continue
        review = kind == "review"
        svg.line(8, y + 4, width - 8, y + 4, stroke_opacity="0.5")
        heading = (
            "Reviews, counted apart: their participants are those of the studies they pool, so "
            "they are not added to the totals of primary studies"
            if review
            else "Primary studies"
        )
        for line in wrap_text(heading, width - 16, 12, bold=True):
            svg.text(8, y + 18, line, font_weight="600", font_style="italic")
            y += 16
        y += 8
        for d in designs:
            row = [cells[(d.id, c.id)] for c in conditions]
            draw_row(d.label, [_map_lines(r, review) for r in row], [len(r) for r in row], False)
            for c, found in zip(conditions, row, strict=True):
                if not found:
                    continue
                reported = [s.n for s in found if s.n is not None]
                n_text = str(sum(reported)) if reported else "not reported"
                if reported and len(reported) < len(found):
                    n_text += f" (not reported for {len(found) - len(reported)})"
                if review and reported:
                    n_text += "; pooled by the reviews, not added to primary studies"
                links = ", ".join(study_link(s, page_src) for s in found)
                table.append((esc(c.label), esc(d.label), str(len(found)), esc(n_text), links))
        totals = [[s for d in designs for s in cells[(d.id, c.id)]] for c in conditions]
        name = "All reviews" if review else "All primary studies"
        draw_row(name, [_map_lines(t, review) for t in totals], [0] * len(totals), True)
        for c, total in zip(conditions, totals, strict=True):
            if total:
                lines = _map_lines(total, review)
                summary.append(f"{c.label}, {name.lower()}: {', '.join(lines)}")
    desc = (
        "Grid of conditions (columns) by study design (rows); each cell gives the number of "
        "studies and the sum of their participants (n). "
        + "; ".join(summary)
        + ". Reviews are counted separately: their participants are those of the studies they "
        "pool, so they are not added to the participants of primary studies."
    )
    caption = (
        f"Evidence map of {plural(len(studies), 'included study', 'included studies')} by "
        "condition and design. Darker cells hold more studies; n is the sum of participants "
        "where reported."
    )
    return html_block(
        figure_html(
            "evidence-map",
            fig_id,
            svg.render(width, y + 8, "Evidence map: studies by condition and design", desc),
            caption,
        ),
        data_table(
            "Data table: evidence map",
            ("Condition", "Design", "Studies", "Participants (n)", "Records"),
            table,
        ),
    )
