"""The PRISMA 2020 flow diagram: its data types, loading and checks, and the drawing."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from ..model import PRISMA_FILE, Prisma, PrismaCount
from .svg import Svg, coord, data_table, empty_figure, esc, figure_html, html_block, table_cell
from .text import wrap_text

# --- PRISMA 2020 -------------------------------------------------------------------------------


@dataclass
class _Box:
    """A PRISMA box: wrapped lines of text (headings bold) in a rectangle."""

    x: float
    width: float
    lines: list[tuple[str, bool]]
    dashed: bool = False
    y: float = 0.0
    height: float = 0.0


_BOX_FONT, _BOX_LINE, _BOX_PAD = 11.0, 14.0, 8.0


def _box(
    x: float, width: float, heading: str, items: Sequence[str] = (), dashed: bool = False
) -> _Box:
    inner = width - 2 * _BOX_PAD
    lines = [(t, True) for t in wrap_text(heading, inner, _BOX_FONT, bold=True)]
    for item in items:
        lines += [(t, False) for t in wrap_text(item, inner, _BOX_FONT)]
    return _Box(x, width, lines, dashed)


def _draw_box(svg: Svg, box: _Box) -> None:
    svg.rect(
        box.x,
        box.y,
        box.width,
        box.height,
        rx=3,
        fill="#7F7F7F",
        fill_opacity="0.08",
        stroke="currentColor",
        stroke_dasharray="4 3" if box.dashed else None,
        class_="rf-box",
    )
    top = box.y + (box.height - len(box.lines) * _BOX_LINE) / 2 + _BOX_FONT
    for i, (text, bold) in enumerate(box.lines):
        svg.text(
            box.x + _BOX_PAD,
            top + i * _BOX_LINE,
            text,
            font_size="11",
            font_weight="600" if bold else None,
        )


def _n(count: int) -> str:
    return f"(n = {count})"


def _prisma_figure(prisma: Prisma, fig_id: str) -> str:
    db, om, inc = prisma.databases_registers, prisma.other_methods, prisma.included
    box_w, gap, col_gap, band = 176.0, 26.0, 30.0, 22.0
    x_band = 6.0
    x_lm = x_band + band + 10
    x_ls = x_lm + box_w + gap
    x_rm = x_ls + box_w + col_gap
    x_rs = x_rm + box_w + gap
    width = x_rs + box_w + 6

    db_ident = [f"Databases {_n(db.databases)}", f"Registers {_n(db.registers)}"]
    db_ident += [db.note] if db.note else []
    not_sought = [f"Duplicates removed {_n(om.duplicates_removed)}"]
    not_sought += [f"{c.reason} {_n(c.count)}" for c in om.not_sought]

    def excluded(items: Sequence[PrismaCount], note: str) -> list[str]:
        out = [f"{c.reason} {_n(c.count)}" for c in items] or [_n(0)]
        return out + ([note] if note else [])

    removed = [
        f"Duplicate records removed {_n(db.duplicates_removed)}",
        f"Records marked as ineligible by automation tools {_n(db.automation_removed)}",
        f"Records removed for other reasons {_n(db.other_removed)}",
    ]
    om_head = f"Records identified from other methods {_n(om.identified)}:"
    rows: list[list[_Box]] = [
        [
            _box(x_lm, box_w, "Records identified from:", db_ident),
            _box(x_ls, box_w, "Records removed before screening:", removed),
            _box(x_rm, box_w, om_head, [f"{s.label} {_n(s.count)}" for s in om.sources]),
            _box(x_rs, box_w, "Records not sought for retrieval:", not_sought),
        ],
        [
            _box(x_lm, box_w, f"Records screened {_n(db.screened)}"),
            _box(x_ls, box_w, f"Records excluded {_n(db.records_excluded)}"),
        ],
        [
            _box(x_lm, box_w, f"Reports sought for retrieval {_n(db.sought)}"),
            _box(x_ls, box_w, f"Reports not retrieved {_n(db.not_retrieved)}"),
            _box(x_rm, box_w, f"Reports sought for retrieval {_n(om.sought)}"),
            _box(x_rs, box_w, f"Reports not retrieved {_n(om.not_retrieved)}"),
        ],
        [
            _box(x_lm, box_w, f"Reports assessed for eligibility {_n(db.assessed)}"),
            _box(x_ls, box_w, "Reports excluded:", excluded(db.reports_excluded, "")),
            _box(x_rm, box_w, f"Reports assessed for eligibility {_n(om.assessed)}"),
            _box(x_rs, box_w, "Reports excluded:", excluded(om.reports_excluded, om.note)),
        ],
    ]
    final = [
        _box(
            x_lm,
            x_rm + box_w - x_lm,
            f"Studies included in review {_n(inc.studies)}",
            [f"Reports of included studies {_n(inc.reports)}", *([inc.note] if inc.note else [])],
        )
    ]
    if inc.ongoing_trials is not None:
        final.append(
            _box(
                x_rs,
                box_w,
                f"Ongoing trials, listed separately {_n(inc.ongoing_trials)}",
                ["Registered trials without published results; not included."],
                dashed=True,
            )
        )
    rows.append(final)

    svg = Svg(fig_id)
    header_y, header_h, vgap = 6.0, 34.0, 26.0
    y = header_y + header_h + 18
    for row in rows:
        height = max(len(b.lines) for b in row) * _BOX_LINE + 2 * _BOX_PAD
        for b in row:
            b.y, b.height = y, height
        y += height + vgap
    height = y - vgap + 6
    for x, text in (
        (x_lm, "Identification of studies via databases and registers"),
        (x_rm, "Identification of studies via other methods"),
    ):
        w = 2 * box_w + gap
        svg.rect(
            x,
            header_y,
            w,
            header_h,
            rx=3,
            fill="#4F83CC",
            fill_opacity="0.25",
            stroke="currentColor",
            class_="rf-header",
        )
        svg.text(
            x + w / 2, header_y + header_h / 2 + 4, text, text_anchor="middle", font_weight="600"
        )
    for label, first, last in (
        ("Identification", rows[0][0], rows[0][0]),
        ("Screening", rows[1][0], rows[3][0]),
        ("Included", rows[4][0], rows[4][0]),
    ):
        top, bottom = first.y, last.y + last.height
        svg.rect(
            x_band,
            top,
            band,
            bottom - top,
            rx=3,
            fill="#4F83CC",
            fill_opacity="0.25",
            stroke="currentColor",
            class_="rf-stage",
        )
        cx, cy = x_band + band / 2 + 4, (top + bottom) / 2
        svg.text(
            cx,
            cy,
            label,
            text_anchor="middle",
            font_weight="600",
            transform=f"rotate(-90 {coord(cx)} {coord(cy)})",
        )
    for row in rows:
        for b in row:
            _draw_box(svg, b)
    # Arrows down each main column, across to each side box, and into the included box.
    for column in ([r[0] for r in rows[:4]], [rows[0][2], rows[2][2], rows[3][2]]):
        for a, b in itertools.pairwise(column):
            svg.arrow(a.x + a.width / 2, a.y + a.height, a.x + a.width / 2, b.y)
    for row in rows[:4]:
        for main, side in itertools.pairwise(row):
            if main.x in (x_lm, x_rm) and side.x == main.x + box_w + gap:
                cy = main.y + main.height / 2
                svg.arrow(main.x + main.width, cy, side.x, cy)
    for a in (rows[3][0], rows[3][2]):
        svg.arrow(a.x + a.width / 2, a.y + a.height, a.x + a.width / 2, rows[4][0].y)

    excluded_total = sum(c.count for c in (*db.reports_excluded, *om.reports_excluded))
    desc = (
        f"Records identified from databases: {db.databases}; from registers: {db.registers}. "
        f"Records identified by other methods: {om.identified} ("
        + "; ".join(f"{s.label}: {s.count}" for s in om.sources)
        + f"). Duplicates removed: {db.duplicates_removed + om.duplicates_removed}. "
        f"Records screened: {db.screened}; records excluded: {db.records_excluded}. "
        + "".join(f"{c.reason}: {c.count}. " for c in om.not_sought)
        + f"Reports sought for retrieval: {db.sought + om.sought}; not retrieved: "
        f"{db.not_retrieved + om.not_retrieved}. Reports assessed for eligibility: "
        f"{db.assessed + om.assessed}; reports excluded: {excluded_total}. Studies included in "
        f"the review: {inc.studies}; reports of included studies: {inc.reports}."
        + ("" if inc.ongoing_trials is None else f" Ongoing trials: {inc.ongoing_trials}.")
    )
    caption = (
        "PRISMA 2020 flow diagram: how the included studies were identified. Numbers from "
        f"{prisma.path}, updated {prisma.updated}."
    )
    svg_text = svg.render(width, height, "PRISMA 2020 flow diagram", desc)
    return figure_html("prisma", fig_id, svg_text, caption)


def _prisma_table(prisma: Prisma) -> str:
    db, om, inc = prisma.databases_registers, prisma.other_methods, prisma.included
    ident, screen, done = "Identification", "Screening", "Included"
    left, right, both = "Databases and registers", "Other methods", "Both"
    rows: list[tuple[str, str, str, int, str]] = [
        (ident, left, "Records identified from databases", db.databases, db.note),
        (ident, left, "Records identified from registers", db.registers, ""),
        (ident, left, "Duplicate records removed", db.duplicates_removed, ""),
        (ident, left, "Records marked as ineligible by automation tools",
         db.automation_removed, ""),
        (ident, left, "Records removed for other reasons", db.other_removed, ""),
        *((ident, right, s.label, s.count, s.note) for s in om.sources),
        (ident, right, "Duplicates removed", om.duplicates_removed, ""),
        *((ident, right, c.reason, c.count, "") for c in om.not_sought),
        (screen, left, "Records screened", db.screened, ""),
        (screen, left, "Records excluded", db.records_excluded, ""),
        (screen, left, "Reports sought for retrieval", db.sought, ""),
        (screen, left, "Reports not retrieved", db.not_retrieved, ""),
        (screen, left, "Reports assessed for eligibility", db.assessed, ""),
        *((screen, left, f"Reports excluded: {c.reason}", c.count, "")
          for c in db.reports_excluded),
        (screen, right, "Reports sought for retrieval", om.sought, ""),
        (screen, right, "Reports not retrieved", om.not_retrieved, ""),
        (screen, right, "Reports assessed for eligibility", om.assessed, ""),
        *((screen, right, f"Reports excluded: {c.reason}", c.count, "")
          for c in om.reports_excluded),
    ]  # fmt: skip
    if not db.reports_excluded and not om.reports_excluded:
        rows.append((screen, both, "Reports excluded", 0, om.note))
    rows.append((done, both, "Studies included in review", inc.studies, ""))
    rows.append((done, both, "Reports of included studies", inc.reports, inc.note))
    if inc.ongoing_trials is not None:
        rows.append((done, both, "Ongoing trials, listed separately", inc.ongoing_trials, ""))
    return data_table(
        "Data table: PRISMA 2020 flow",
        ("Stage", "Column", "Box", "n", "Note"),
        ((esc(a), esc(b), esc(c), str(n), table_cell(note)) for a, b, c, n, note in rows),
    )


def render_prisma(prisma: Prisma | None, fig_id: str) -> str:
    """Return the PRISMA flow diagram and its data table, or a note if it is missing."""
    if prisma is None:
        return empty_figure(
            f"The PRISMA flow diagram needs {PRISMA_FILE}, which could not be loaded."
        )
    return html_block(_prisma_figure(prisma, fig_id), _prisma_table(prisma))
