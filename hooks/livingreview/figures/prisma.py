"""The PRISMA 2020 flow diagram: its data types, loading and checks, and the drawing."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from ..model import PRISMA_FILE, Prisma, PrismaCount
from .svg import (
    Svg,
    coord,
    data_table,
    empty_figure,
    esc,
    figure_variants,
    html_block,
    table_cell,
)
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


#: Text size, line height and padding in user units: the wide diagram is at most
#: :data:`_WIDE_WIDTH` units wide, so it is drawn at full size (12 px text) on a desktop; the
#: narrow one is :data:`_NARROW_WIDTH` wide, about the width of the text on a 390 px phone.
_BOX_FONT, _BOX_LINE, _BOX_PAD = 12.0, 15.0, 7.0
_WIDE_WIDTH, _NARROW_WIDTH = 680.0, 340.0


def _wrap(text: str, width: float, bold: bool = False) -> list[str]:
    """Wrap a box's text, never between "(n =" and its number."""
    joined = text.replace("(n = ", "(n\u00a0=\u00a0")
    return [line.replace("\u00a0", " ") for line in wrap_text(joined, width, _BOX_FONT, bold=bold)]


def _box(
    x: float, width: float, heading: str, items: Sequence[str] = (), dashed: bool = False
) -> _Box:
    inner = width - 2 * _BOX_PAD
    lines = [(t, True) for t in _wrap(heading, inner, bold=True)]
    for item in items:
        lines += [(t, False) for t in _wrap(item, inner)]
    return _Box(x, width, lines, dashed)


def _fit_height(box: _Box) -> float:
    return len(box.lines) * _BOX_LINE + 2 * _BOX_PAD


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
    top = box.y + (box.height - len(box.lines) * _BOX_LINE) / 2 + _BOX_FONT - 2
    for i, (text, bold) in enumerate(box.lines):
        svg.text(
            box.x + _BOX_PAD,
            top + i * _BOX_LINE,
            text,
            font_size=coord(_BOX_FONT),
            font_weight="600" if bold else None,
        )


def _header(svg: Svg, x: float, y: float, width: float, text: str) -> float:
    """Draw a shaded heading band with wrapped, centred text; return its height."""
    lines = wrap_text(text, width - 12, _BOX_FONT, bold=True)
    height = len(lines) * _BOX_LINE + 10
    svg.rect(
        x,
        y,
        width,
        height,
        rx=3,
        fill="#4F83CC",
        fill_opacity="0.25",
        stroke="currentColor",
        class_="rf-header",
    )
    for i, line in enumerate(lines):
        svg.text(
            x + width / 2,
            y + 5 + _BOX_FONT - 1 + i * _BOX_LINE,
            line,
            text_anchor="middle",
            font_weight="600",
            font_size=coord(_BOX_FONT),
        )
    return height


def _n(count: int) -> str:
    return f"(n = {count})"


@dataclass(frozen=True)
class _Content:
    """What the boxes say: (heading, items) per box, shared by the wide and narrow layouts."""

    db: list[tuple[str, list[str]]]  # main column: identified, screened, sought, assessed
    db_side: list[tuple[str, list[str]]]  # beside each: removed, excluded, not retrieved, excl.
    om: list[tuple[str, list[str]]]  # identified, sought, assessed
    om_side: list[tuple[str, list[str]]]  # not sought, not retrieved, excluded
    included: tuple[str, list[str]]
    ongoing: tuple[str, list[str]] | None


def _content(prisma: Prisma) -> _Content:
    db, om, inc = prisma.databases_registers, prisma.other_methods, prisma.included
    db_ident = [f"Databases {_n(db.databases)}", f"Registers {_n(db.registers)}"]
    db_ident += [db.note] if db.note else []
    # PRISMA's other-methods column has no box for duplicates: they share the first side box,
    # whose heading names both, so the count does not read as a reason for not seeking.
    not_sought = [f"Duplicates removed {_n(om.duplicates_removed)}"]
    not_sought += [f"Not sought: {c.reason} {_n(c.count)}" for c in om.not_sought]

    def excluded(items: Sequence[PrismaCount], note: str) -> list[str]:
        out = [f"{c.reason} {_n(c.count)}" for c in items] or [_n(0)]
        return out + ([note] if note else [])

    removed = [
        f"Duplicate records removed {_n(db.duplicates_removed)}",
        f"Records marked as ineligible by automation tools {_n(db.automation_removed)}",
        f"Records removed for other reasons {_n(db.other_removed)}",
    ]
    ongoing = None
    if inc.ongoing_trials is not None:
        ongoing = (
            f"Ongoing trials, listed separately {_n(inc.ongoing_trials)}",
            ["Registered trials without published results; not included."],
        )
    return _Content(
        db=[
            ("Records identified from:", db_ident),
            (f"Records screened {_n(db.screened)}", []),
            (f"Reports sought for retrieval {_n(db.sought)}", []),
            (f"Reports assessed for eligibility {_n(db.assessed)}", []),
        ],
        db_side=[
            ("Records removed before screening:", removed),
            (f"Records excluded {_n(db.records_excluded)}", []),
            (f"Reports not retrieved {_n(db.not_retrieved)}", []),
            ("Reports excluded:", excluded(db.reports_excluded, "")),
        ],
        om=[
            (
                f"Records identified from other methods {_n(om.identified)}:",
                [f"{s.label} {_n(s.count)}" for s in om.sources],
            ),
            (f"Reports sought for retrieval {_n(om.sought)}", []),
            (f"Reports assessed for eligibility {_n(om.assessed)}", []),
        ],
        om_side=[
            ("Records removed, or not sought for retrieval:", not_sought),
            (f"Reports not retrieved {_n(om.not_retrieved)}", []),
            ("Reports excluded:", excluded(om.reports_excluded, om.note)),
        ],
        included=(
            f"Studies included in review {_n(inc.studies)}",
            [f"Reports of included studies {_n(inc.reports)}", *([inc.note] if inc.note else [])],
        ),
        ongoing=ongoing,
    )


_DB_HEADING = "Identification of studies via databases and registers"
_OM_HEADING = "Identification of studies via other methods"


def _prisma_wide(content: _Content, fig_id: str) -> tuple[Svg, float, float]:
    """The PRISMA 2020 layout: two sources side by side, stages as bands on the left."""
    gap, col_gap, band, x_band = 20.0, 20.0, 22.0, 6.0
    x_lm = x_band + band + 10
    box_w = (_WIDE_WIDTH - x_lm - 2 * gap - col_gap - 6) / 4
    x_ls = x_lm + box_w + gap
    x_rm = x_ls + box_w + col_gap
    x_rs = x_rm + box_w + gap
    width = x_rs + box_w + 6

    def box(x: float, text: tuple[str, list[str]], dashed: bool = False) -> _Box:
        return _box(x, box_w, text[0], text[1], dashed)

    rows: list[list[_Box]] = []
    for i in range(4):
        row = [box(x_lm, content.db[i]), box(x_ls, content.db_side[i])]
        if i != 1:  # other methods have no screening step
            j = 0 if i == 0 else i - 1
            row += [box(x_rm, content.om[j]), box(x_rs, content.om_side[j])]
        rows.append(row)
    heading, items = content.included
    final = [_box(x_lm, x_rm + box_w - x_lm, heading, items)]
    if content.ongoing is not None:
        final.append(box(x_rs, content.ongoing, dashed=True))
    rows.append(final)

    svg = Svg(fig_id)
    header_y = 6.0
    header_h = max(
        _header(svg, x, header_y, 2 * box_w + gap, text)
        for x, text in ((x_lm, _DB_HEADING), (x_rm, _OM_HEADING))
    )
    y = header_y + header_h + 18
    vgap = 24.0
    for row in rows:
        height = max(_fit_height(b) for b in row)
        for b in row:
            b.y, b.height = y, height
        y += height + vgap
    height = y - vgap + 6
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
    return svg, width, height


def _prisma_narrow(content: _Content, fig_id: str) -> tuple[Svg, float, float]:
    """Return the one-column layout for a phone.

    Each source's steps run top to bottom, each side box indented under its step, and the
    included studies come last.
    """
    width, margin, indent, rail = _NARROW_WIDTH, 6.0, 30.0, 18.0
    main_w, side_w = width - 2 * margin, width - margin - indent
    svg = Svg(fig_id)
    y = 6.0
    boxes: list[_Box] = []
    arrows: list[tuple[float, float, float, float]] = []

    def place(box: _Box) -> _Box:
        nonlocal y
        box.y, box.height = y, _fit_height(box)
        boxes.append(box)
        y += box.height
        return box

    for heading, steps, sides in (
        (_DB_HEADING, content.db, content.db_side),
        (_OM_HEADING, content.om, content.om_side),
    ):
        y += _header(svg, margin, y, main_w, heading) + 12
        previous: _Box | None = None
        for step, side in zip(steps, sides, strict=True):
            if previous is not None:
                y += 18
                arrows.append((rail, previous.y + previous.height, rail, y))
            main = place(_box(margin, main_w, step[0], step[1]))
            y += 10
            side_box = place(_box(indent, side_w, side[0], side[1]))
            # An elbow from the step down the rail and across into its side box.
            mid = side_box.y + min(side_box.height / 2, 16)
            svg.line(rail, main.y + main.height, rail, mid)
            arrows.append((rail, mid, indent, mid))
            previous = main
        y += 22
    y += _header(svg, margin, y, main_w, "Included") + 12
    place(_box(margin, main_w, content.included[0], content.included[1]))
    if content.ongoing is not None:
        y += 12
        place(_box(margin, main_w, content.ongoing[0], content.ongoing[1], dashed=True))
    for b in boxes:
        _draw_box(svg, b)
    for x1, y1, x2, y2 in arrows:
        svg.arrow(x1, y1, x2, y2)
    return svg, width, y + 6


def _prisma_figure(prisma: Prisma, fig_id: str) -> str:
    db, om, inc = prisma.databases_registers, prisma.other_methods, prisma.included
    content = _content(prisma)
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
    title = "PRISMA 2020 flow diagram"
    wide, wide_w, wide_h = _prisma_wide(content, fig_id)
    narrow, narrow_w, narrow_h = _prisma_narrow(content, f"{fig_id}-n")
    return figure_variants(
        "prisma",
        fig_id,
        wide.render(wide_w, wide_h, title, desc),
        narrow.render(narrow_w, narrow_h, title, desc),
        caption,
    )


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
