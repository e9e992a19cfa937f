"""The evidence map: condition x design grid with the number of studies and participants."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..model import Catalog, Study, Term
from .style import study_link
from .svg import Svg, coord, data_table, empty_figure, esc, figure_variants, html_block, plural
from .text import text_width, wrap_text

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


#: Widths in user units: the label column (wide and narrow layouts) and each condition's cell.
#: Text is 12 units; the wide map (two conditions) is 524 units, drawn at full size on a
#: desktop; one condition's grid is 340 units, the width of the text on a 390 px phone.
_WIDE_LABEL, _NARROW_LABEL, _CELL_W, _CELL_H = 200.0, 158.0, 150.0, 54.0
_FILL = "#3B82C4"


def _grid_width(label_w: float, columns: int) -> float:
    return 8 + label_w + 8 + _CELL_W * columns + 8


def _opacity(count: int, most: int) -> float:
    """Fill opacity of a cell: none when empty, stronger with more studies (both schemes).

    At most 0.7, so that the text on the fullest cell keeps a contrast of 4.5:1 or more in the
    dark scheme too; the range is as wide as that allows, so that steps show on a dark page.
    """
    return 0.12 + 0.58 * count / most if count else 0.0


@dataclass(frozen=True)
class _Grid:
    """The counted studies: design groups (primary, review), cells by (design, condition)."""

    groups: dict[str, list[Term]]
    cells: dict[tuple[str, str], list[Study]]
    most: int


def _draw_grid(svg: Svg, grid: _Grid, conditions: list[Term], label_w: float, y: float) -> float:
    """Draw the grid of ``conditions`` (columns) by design (rows) from ``y``; return its bottom."""
    x0 = 8 + label_w + 8
    width = _grid_width(label_w, len(conditions))
    for i, c in enumerate(conditions):
        lines = wrap_text(c.label, _CELL_W - 12, 12, max_lines=2, bold=True)
        if len(conditions) == 1:  # one condition: its name heads the whole grid
            lines = wrap_text(c.label, width - 16, 12, max_lines=2, bold=True)
        for j, line in enumerate(lines):
            svg.text(
                8 if len(conditions) == 1 else x0 + i * _CELL_W + _CELL_W / 2,
                y + 24 + j * 15,
                line,
                text_anchor=None if len(conditions) == 1 else "middle",
                font_weight="600",
            )
    y += 48.0

    def draw_row(label: str, texts: list[list[str]], counts: list[int], bold: bool) -> None:
        nonlocal y
        svg.open("g", class_="rf-map-row")
        lines = wrap_text(label, label_w, 12, max_lines=2, bold=bold)
        if lines != wrap_text(label, label_w, 12, bold=bold):
            svg.tooltip(label)
        for j, line in enumerate(lines):
            svg.text(
                x0 - 8,
                y + _CELL_H / 2 - (len(lines) - 1) * 7.5 + 4 + j * 15,
                line,
                text_anchor="end",
                font_weight="600" if bold else None,
            )
        for i, (cell, count) in enumerate(zip(texts, counts, strict=True)):
            x = x0 + i * _CELL_W
            svg.rect(
                x + 2,
                y + 2,
                _CELL_W - 4,
                _CELL_H - 4,
                rx=3,
                fill=_FILL,
                fill_opacity=coord(_opacity(count, grid.most)),
                stroke="currentColor",
                stroke_opacity="0.35",
                class_="rf-map-cell",
            )
            top = y + _CELL_H / 2 - (len(cell) - 1) * 7 + 4
            for j, text in enumerate(cell):
                svg.text(
                    x + _CELL_W / 2,
                    top + j * 14,
                    text,
                    text_anchor="middle",
                    font_weight="600" if j == 0 and count else None,
                )
        svg.close("g")
        y += _CELL_H

    for kind, designs in grid.groups.items():
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
            row = [grid.cells[(d.id, c.id)] for c in conditions]
            draw_row(d.label, [_map_lines(r, review) for r in row], [len(r) for r in row], False)
        totals = [[s for d in designs for s in grid.cells[(d.id, c.id)]] for c in conditions]
        name = "All reviews" if review else "All primary studies"
        draw_row(name, [_map_lines(t, review) for t in totals], [0] * len(totals), True)
    return _draw_key(svg, grid.most, width, y + 8)


def _draw_key(svg: Svg, most: int, width: float, y: float) -> float:
    """Draw the key to the cell colours; return the bottom.

    The key's swatches use the cells' own fill, so "stronger colour, more studies" reads true
    in the light and the dark scheme alike (a fixed "darker" would be backwards in one).
    """
    counts = sorted({1, (most + 1) // 2, most})
    x = 8.0
    svg.text(x, y + 16, "Studies in a cell:", font_weight="600")
    x += text_width("Studies in a cell:", 12, bold=True) + 10
    for count in counts:
        label = str(count)
        need = 30 + text_width(label, 12) + 14
        if x + need > width - 8:
            x, y = 8.0, y + 24
        svg.rect(
            x,
            y + 4,
            26,
            16,
            rx=3,
            fill=_FILL,
            fill_opacity=coord(_opacity(count, most)),
            stroke="currentColor",
            stroke_opacity="0.35",
            class_="rf-map-cell",
        )
        svg.text(x + 32, y + 16, label)
        x += need
    return y + 30


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

    table: list[tuple[str, ...]] = []
    summary: list[str] = []
    for kind, designs in groups.items():
        review = kind == "review"
        name = "All reviews" if review else "All primary studies"
        for d in designs:
            for c in conditions:
                found = cells[(d.id, c.id)]
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
        if designs:
            for c in conditions:
                total = [s for d in designs for s in cells[(d.id, c.id)]]
                if total:
                    lines = _map_lines(total, review)
                    summary.append(f"{c.label}, {name.lower()}: {', '.join(lines)}")
    grid = _Grid(groups, cells, most)
    desc = (
        "Grid of conditions (columns) by study design (rows); each cell gives the number of "
        "studies and the sum of their participants (n). "
        + "; ".join(summary)
        + ". Reviews are counted separately: their participants are those of the studies they "
        "pool, so they are not added to the participants of primary studies."
    )
    caption = (
        f"Evidence map of {plural(len(studies), 'included study', 'included studies')} by "
        "condition and design. The stronger a cell's colour, the more studies it holds (see the "
        "key under the map); n is the sum of participants where reported."
    )
    title = "Evidence map: studies by condition and design"
    wide = Svg(fig_id)
    height = _draw_grid(wide, grid, conditions, _WIDE_LABEL, 0.0)
    wide_svg = wide.render(_grid_width(_WIDE_LABEL, len(conditions)), height, title, desc)
    narrow_svg = None
    if len(conditions) > 1:
        # A phone gets one grid per condition, one under the other: the same cells, narrower.
        narrow = Svg(f"{fig_id}-n")
        y = 0.0
        for c in conditions:
            y = _draw_grid(narrow, grid, [c], _NARROW_LABEL, y) + 12
        narrow_svg = narrow.render(_grid_width(_NARROW_LABEL, 1), y - 12, title, desc)
    return html_block(
        figure_variants("evidence-map", fig_id, wide_svg, narrow_svg, caption),
        data_table(
            "Data table: evidence map",
            ("Condition", "Design", "Studies", "Participants (n)", "Records"),
            table,
        ),
    )
