"""Risk of bias: one traffic-light plot and summary bars per assessment tool."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..model import Catalog, RiskOfBias, RobTool, Study, rob_tools
from ..pages import BASIS_LABELS, cite
from .style import JUDGEMENTS, NOT_ASSESSED, Judgement, study_link
from .svg import (
    HATCH,
    Svg,
    data_table,
    empty_figure,
    esc,
    figure_variants,
    html_block,
    plural,
    slug,
    table_cell,
)
from .text import fit_text, text_width, wrap_text

# --- risk of bias ------------------------------------------------------------------------------


_NO_TOOL = RobTool(
    "none", "No risk-of-bias tool assigned to the design", "No tool assigned", (), ()
)

#: One row of a traffic-light plot: a study and its sourced assessment (None: not assessed).
_RobRow = tuple[Study, RiskOfBias | None]


def _rob_groups(catalog: Catalog, studies: Sequence[Study]) -> list[tuple[RobTool, list[_RobRow]]]:
    """Group studies by tool: each assessment's tool, else the tool designs.yaml names.

    A study without a sourced assessment is listed under its design's tool as not assessed;
    studies whose design has no tool (reviews) form a last group.
    """
    tools = rob_tools(catalog.vocabularies)
    designs = catalog.vocab("designs")
    groups: dict[str, list[_RobRow]] = {}
    for s in studies:
        if s.risk_of_bias:
            for a in s.risk_of_bias:
                groups.setdefault(a.tool, []).append((s, a))
        else:
            tool = designs[s.design].get("rob_tool") if s.design in designs else None
            groups.setdefault(tool or _NO_TOOL.id, []).append((s, None))
    order = [t for t in tools if t in groups]
    order += sorted(t for t in groups if t not in tools and t != _NO_TOOL.id)
    order += [_NO_TOOL.id] if _NO_TOOL.id in groups else []
    out = []
    for tool_id in order:
        tool = tools.get(tool_id) or _NO_TOOL
        if tool_id not in tools and tool_id != _NO_TOOL.id:
            # A tool missing from rob_tools.yaml: show the domains its records use.
            used = sorted({k for _, a in groups[tool_id] if a for k in a.domains})
            tool = RobTool(tool_id, tool_id, tool_id, tuple((k, k) for k in used), ())
        out.append((tool, groups[tool_id]))
    return out


def _judgement(value: str) -> Judgement:
    fallback = Judgement(value.replace("-", " ").capitalize(), "•", "#BDBDBD", "#000000")
    return JUDGEMENTS.get(value, fallback)


def _judgement_label(value: str) -> str:
    return NOT_ASSESSED if value == NOT_ASSESSED else _judgement(value).label


def _row_labels(rows: Sequence[_RobRow]) -> list[str]:
    """Study labels, plus the assessment's source where a study has several assessments."""
    counts: dict[str, int] = {}
    for s, _ in rows:
        counts[s.id] = counts.get(s.id, 0) + 1
    return [
        f"{s.label} ({a.source.ref})" if a is not None and counts[s.id] > 1 else s.label
        for s, a in rows
    ]


def _rob_summary(tool: RobTool, rows: Sequence[_RobRow]) -> list[tuple[str, list[tuple[str, int]]]]:
    """Count judgements per domain and overall: the tool's list, others used, not assessed."""
    used = {v for _, a in rows if a for v in (*a.domains.values(), a.overall)}
    known = list(JUDGEMENTS)
    order = [*tool.judgements]
    order += sorted(used - set(order), key=lambda j: (known.index(j) if j in known else 99, j))
    out = []
    for key, label in [*tool.domains, ("overall", "Overall")]:
        counts = dict.fromkeys(order, 0)
        counts[NOT_ASSESSED] = 0
        for _, a in rows:
            value = None if a is None else (a.overall if key == "overall" else a.domains.get(key))
            counts[value or NOT_ASSESSED] += 1
        out.append((label if key == "overall" else f"{key} {label}", list(counts.items())))
    return out


#: Font size of every text in the figures, in SVG units. The wide layout is at most
#: ``WIDE_WIDTH`` units wide and the narrow one ``NARROW_WIDTH`` (the responsive-figure
#: contract, as for the forest plot): shown at the content width of a 1,280 px screen (about
#: 688 px) and a 390 px one (about 350 px), text stays at least 12 and 11 CSS px.
FONT = 12
WIDE_WIDTH = 680.0
NARROW_WIDTH = 340.0
#: Height of one study's row in the wide traffic-light plot, and of one study's block (label
#: line over a row of judgements) in the narrow one: fixed, so labels never overlap.
ROW_HEIGHT = 26.0
BLOCK_HEIGHT = 46.0
#: In the narrow plot the column headings repeat every this many studies, so that a reader
#: scrolling a long plot on a phone still sees which column is which domain.
HEADER_EVERY = 10
_RADIUS = 10.0
_MARGIN = 8.0


def _rob_symbol(svg: Svg, cx: float, cy: float, value: str | None, hatch: str) -> None:
    """Draw a judgement as a coloured disc with its symbol, or the hatch when there is none."""
    if value is None:
        svg.circle(cx, cy, _RADIUS, fill=hatch, stroke=HATCH, class_="rf-rob-not-assessed")
        return
    style = _judgement(value)
    svg.circle(
        cx,
        cy,
        _RADIUS,
        fill=style.fill,
        stroke="currentColor",
        stroke_width=0.8,
        class_=f"rf-rob rf-rob-{slug(value)}",
    )
    svg.text(
        cx,
        cy + 4,
        style.symbol,
        text_anchor="middle",
        font_size=FONT,
        font_weight="700",
        fill=style.ink,
    )


def _not_assessed_bar(svg: Svg, x: float, y: float, w: float, h: float, hatch: str) -> None:
    """Draw the hatched bar, labelled in words, that stands for a study without assessment."""
    svg.rect(x, y, w, h, rx=4, fill=hatch, stroke=HATCH, class_="rf-rob-not-assessed")
    svg.text(
        x + w / 2,
        y + h / 2 + 4,
        NOT_ASSESSED,
        text_anchor="middle",
        font_size=FONT,
        font_weight="600",
    )


def _lines(svg: Svg, x: float, y: float, text: str, width: float, bold: bool = False) -> float:
    """Draw wrapped text with its first baseline at ``y``; return the baseline after it."""
    for line in wrap_text(text, width, FONT, bold=bold):
        svg.text(x, y, line, font_size=FONT, font_weight="600" if bold else None)
        y += 16
    return y


def _bar(
    svg: Svg, x: float, y: float, width: float, counts: Sequence[tuple[str, int]], hatch: str
) -> None:
    """Draw one stacked bar of judgement shares, with a percentage where it fits."""
    total = sum(c for _, c in counts)
    h = ROW_HEIGHT - 6
    for j, c in counts:
        if not c:
            continue
        w = width * c / total
        ink = None
        if j == NOT_ASSESSED:
            svg.rect(x, y, w, h, fill=hatch, stroke=HATCH, class_="rf-rob-not-assessed")
        else:
            style = _judgement(j)
            ink = style.ink
            svg.rect(
                x,
                y,
                w,
                h,
                fill=style.fill,
                stroke="currentColor",
                stroke_width=0.6,
                class_=f"rf-rob rf-rob-{slug(j)}",
            )
        pct = f"{round(100 * c / total)}%"
        if w >= text_width(pct, FONT, bold=True) + 6:
            svg.text(
                x + w / 2,
                y + h / 2 + 4,
                pct,
                text_anchor="middle",
                font_size=FONT,
                font_weight="600",
                fill=ink,
            )
        x += w


def _bar_group(svg: Svg, heading: str, counts: Sequence[tuple[str, int]]) -> None:
    svg.open("g", class_="rf-rob-bar")
    svg.tooltip(heading + ": " + "; ".join(f"{_judgement_label(j)} {c}" for j, c in counts if c))


def _legend(svg: Svg, y: float, width: float, judgements: Sequence[str], hatch: str) -> float:
    """Draw the judgement legend (symbol and words), wrapping at ``width``; return the end y."""
    lx = _MARGIN
    for j in judgements:
        text = _judgement_label(j)
        w = 2 * _RADIUS + 6 + text_width(text, FONT) + 14
        if lx + w > width - _MARGIN and lx > _MARGIN:
            lx, y = _MARGIN, y + 26
        _rob_symbol(svg, lx + _RADIUS, y + _RADIUS, None if j == NOT_ASSESSED else j, hatch)
        svg.text(lx + 2 * _RADIUS + 6, y + _RADIUS + 4, text, font_size=FONT)
        lx += w
    return y + 2 * _RADIUS


def _domain_key(svg: Svg, tool: RobTool, y: float, width: float) -> float:
    """List what each domain abbreviation stands for; return the y under the list."""
    for key, label in tool.domains:
        y = _lines(svg, _MARGIN, y + 12, f"{key}: {label}", width - 2 * _MARGIN) - 12
    return y


def _summary(
    svg: Svg,
    summary: Sequence[tuple[str, list[tuple[str, int]]]],
    y: float,
    width: float,
    hatch: str,
    beside: tuple[float, float, float] | None = None,
) -> float:
    """Draw the percentage bars per domain and the legend from ``y``; return the height.

    With ``beside`` (the bars' x, their width, the label width) each domain's name sits left
    of its bar; without it, on the line above a bar as wide as the figure.
    """
    inner = width - 2 * _MARGIN
    y = _lines(svg, _MARGIN, y + 26, "Percentage of studies by judgement", inner, bold=True)
    for heading, counts in summary:
        _bar_group(svg, heading, counts)
        if beside:
            x0, bar_w, label_w = beside
            svg.text(
                x0 - 10, y + ROW_HEIGHT / 2 + 4, fit_text(heading, label_w, FONT), text_anchor="end"
            )
            _bar(svg, x0, y + 3, bar_w, counts, hatch)
            y += ROW_HEIGHT
        else:
            y = _lines(svg, _MARGIN, y + 12, heading, inner) - 12
            _bar(svg, _MARGIN, y + 6, inner, counts, hatch)
            y += 6 + ROW_HEIGHT
        svg.close("g")
    y = _legend(svg, y + 10, width, [j for j, _ in summary[-1][1]], hatch)
    return y + 12


def _rob_wide(tool: RobTool, rows: Sequence[_RobRow], fig_id: str) -> tuple[Svg, float, float]:
    """Lay out the plot as a grid: one row per study, one column per domain, then the bars."""
    col_w, overall_w = 34.0, 64.0
    labels = _row_labels(rows)
    summary = _rob_summary(tool, rows)
    # Wide enough for the words "Not assessed" even when the tool has no domains.
    grid_w = max(col_w * len(tool.domains) + overall_w, 140.0)
    right_w = max(grid_w, 300.0)
    room = WIDE_WIDTH - 3 * _MARGIN - 10 - right_w
    wanted = max(text_width(t, FONT) for t in labels) + 4
    headings_w = max(text_width(h, FONT) for h, _ in summary) + 4
    # Domain names sit left of their bars when they fit the room, else over them.
    beside = headings_w <= room
    # Study labels give way (shortened, full text in the tooltip) before the figure outgrows
    # WIDE_WIDTH, which would scale its text below the target on a desktop.
    label_w = max(min(max(wanted, headings_w if beside else 0.0), room), 120.0)
    x0 = _MARGIN + label_w + 10
    width = x0 + right_w + _MARGIN
    col_x = [x0 + (i + 0.5) * col_w for i in range(len(tool.domains))]
    col_x.append(
        x0 + col_w * len(tool.domains) + overall_w / 2 if tool.domains else x0 + grid_w / 2
    )
    columns = [k for k, _ in tool.domains]

    svg = Svg(fig_id)
    hatch = svg.hatch()
    heading = f"{tool.short}: {plural(len(rows), 'study', 'studies')}"
    y = _lines(svg, _MARGIN, 20, heading, width - 2 * _MARGIN, bold=True)
    y += 8
    for key, cx in zip([*columns, "Overall"], col_x, strict=True):
        svg.text(cx, y, key, text_anchor="middle", font_size=FONT, font_weight="600")
    y += 8
    # Traffic lights: one row per study (or per assessment), each of fixed height, so the
    # figure grows with the number of studies and labels never overlap.
    for (_, a), label in zip(rows, labels, strict=True):
        svg.open("g", class_="rf-rob-row")
        svg.tooltip(f"{label}: " + (f"assessed, source {a.source.ref}" if a else NOT_ASSESSED))
        svg.text(x0 - 10, y + ROW_HEIGHT / 2 + 4, fit_text(label, label_w, FONT), text_anchor="end")
        svg.line(x0, y + ROW_HEIGHT, x0 + grid_w, y + ROW_HEIGHT, stroke_opacity="0.15")
        if a is None:
            _not_assessed_bar(svg, x0 + 2, y + 3, grid_w - 4, ROW_HEIGHT - 6, hatch)
        else:
            values = [a.domains.get(k) for k in columns] + [a.overall]
            for value, cx in zip(values, col_x, strict=True):
                _rob_symbol(svg, cx, y + ROW_HEIGHT / 2, value, hatch)
        svg.close("g")
        y += ROW_HEIGHT
    y = _domain_key(svg, tool, y + 8, width)
    # A domain name too long for the label column goes on a line of its own over its bar, as
    # on a phone, rather than being cut short.
    height = _summary(svg, summary, y, width, hatch, (x0, right_w, label_w) if beside else None)
    return svg, width, height


def _rob_narrow(tool: RobTool, rows: Sequence[_RobRow], fig_id: str) -> tuple[Svg, float, float]:
    """Lay out the plot for a phone: each study's label over its row of judgements.

    The domains keep their short names (D1, Q1) as column headings, repeated every
    :data:`HEADER_EVERY` studies, with the key under the plot; each summary bar has its
    domain's name on the line above it and takes the whole width.
    """
    overall_w = 60.0
    n = len(tool.domains)
    # Up to 10 domains (the longest real tool) fit a phone; a tool with more widens the
    # figure, which then scales down, rather than letting its judgements overlap.
    col_w = max(26.0, min(34.0, (NARROW_WIDTH - 2 * _MARGIN - overall_w) / n)) if n else 0.0
    width = max(NARROW_WIDTH, 2 * _MARGIN + col_w * n + overall_w)
    inner = width - 2 * _MARGIN
    col_x = [_MARGIN + (i + 0.5) * col_w for i in range(n)]
    col_x.append(_MARGIN + col_w * n + overall_w / 2 if n else _MARGIN + inner / 2)
    grid_w = col_w * n + overall_w if n else inner
    columns = [k for k, _ in tool.domains]
    labels = _row_labels(rows)
    summary = _rob_summary(tool, rows)

    svg = Svg(fig_id)
    hatch = svg.hatch()
    heading = f"{tool.short}: {plural(len(rows), 'study', 'studies')}"
    y = _lines(svg, _MARGIN, 20, heading, inner, bold=True)
    for i, ((_, a), label) in enumerate(zip(rows, labels, strict=True)):
        if i % HEADER_EVERY == 0:
            y += 16  # clear of the rule above, whose block it does not belong to
            for key, cx in zip([*columns, "Overall"], col_x, strict=True):
                svg.text(
                    cx,
                    y,
                    key,
                    text_anchor="middle",
                    font_size=FONT,
                    font_weight="600",
                    class_="rf-rob-heading",
                )
            y += 4
        svg.open("g", class_="rf-rob-row")
        svg.tooltip(f"{label}: " + (f"assessed, source {a.source.ref}" if a else NOT_ASSESSED))
        svg.text(_MARGIN, y + 18, fit_text(label, inner, FONT, bold=True), font_weight="600")
        cy = y + 34  # under the label; the disc ends 2 units above the block's rule
        if a is None:
            _not_assessed_bar(svg, _MARGIN, cy - ROW_HEIGHT / 2 + 3, grid_w, ROW_HEIGHT - 6, hatch)
        else:
            values = [a.domains.get(k) for k in columns] + [a.overall]
            for value, cx in zip(values, col_x, strict=True):
                _rob_symbol(svg, cx, cy, value, hatch)
        svg.line(
            _MARGIN, y + BLOCK_HEIGHT, width - _MARGIN, y + BLOCK_HEIGHT, stroke_opacity="0.15"
        )
        svg.close("g")
        y += BLOCK_HEIGHT
    y = _domain_key(svg, tool, y + 8, width)
    return svg, width, _summary(svg, summary, y, width, hatch)


def _rob_figure(tool: RobTool, rows: Sequence[_RobRow], fig_id: str) -> str:
    """Return the traffic-light plot and summary bars for the studies under one tool."""
    summary = _rob_summary(tool, rows)
    total = len(rows)
    assessed = sum(1 for _, a in rows if a is not None)
    overall = "; ".join(f"{_judgement_label(j)}: {c}" for j, c in summary[-1][1] if c)
    if tool is _NO_TOOL:
        what = "Studies whose design has no risk-of-bias tool assigned."
    else:
        what = (
            f"Traffic-light plot of {tool.label} judgements by study and domain, and bars "
            "with the percentage of studies per judgement."
        )
    desc = (
        f"{what} {plural(total, 'study', 'studies')}: {assessed} with a sourced assessment, "
        f"{total - assessed} not assessed (no sourced assessment is recorded, so no judgement "
        f"is shown). Overall: {overall}."
    )
    caption = (
        f"Risk of bias, {tool.label}: {assessed} of {plural(total, 'study', 'studies')} "
        "assessed. Only assessments taken from a named source are shown; a grey hatch marks a "
        "study that has not been assessed."
    )
    title = f"Risk of bias: {tool.short}"
    wide, w_width, w_height = _rob_wide(tool, rows, fig_id)
    narrow, n_width, n_height = _rob_narrow(tool, rows, f"{fig_id}-n")
    return figure_variants(
        "rob",
        fig_id,
        wide.render(w_width, w_height, title, desc),
        narrow.render(n_width, n_height, title, desc),
        caption,
    )


def no_assessment_note(catalog: Catalog, studies: Sequence[Study], page_src: str) -> str:
    """Return the sentences shown instead of figures when no study has an assessment.

    They say that no published judgement was found, that the review makes none, and which
    parts of the recorded systematic reviews (the reports that could hold judgements) were
    checked, each cited; a figure of nothing but "not assessed" rows would say less.
    """
    designs = catalog.vocab("designs")
    these = f"{'this' if len(studies) == 1 else 'these'} {plural(len(studies), 'study', 'studies')}"
    text = (
        f"No published risk-of-bias judgement was found for {these}, and this review makes "
        "none of its own, so no risk-of-bias figure is shown; figures appear here as soon as "
        "a record holds a judgement from a named source."
    )
    reviews = [
        s for s in studies if s.design in designs and designs[s.design].get("appraises_studies")
    ]
    if reviews:
        checked = []
        for s in reviews:
            bases = sorted({BASIS_LABELS.get(p.basis, "not stated").lower() for p in s.provenance})
            checked.append(
                f"{study_link(s, page_src)} ({esc(', '.join(bases))}) {cite(s.references[0])}"
            )
        text = esc(text) + (
            " The systematic reviews recorded here, which could publish such judgements, were "
            "checked in these parts only: " + "; ".join(checked) + "."
        )
        return f"\n\n{text}\n\n"
    return f"\n\n{esc(text)}\n\n"


def render_rob(catalog: Catalog, filters: Mapping[str, str], fig_id: str, page_src: str) -> str:
    """Return the risk-of-bias figures (one per tool) and their data tables.

    When no selected study has a sourced assessment, a note says so instead (see
    :func:`no_assessment_note`); one assessment is enough for the figures to appear.
    """
    studies = catalog.select(**filters)
    if not studies:
        return empty_figure("No included study matches this selection.")
    if not any(s.risk_of_bias for s in studies):
        return no_assessment_note(catalog, studies, page_src)
    figures, tables = [], []
    for tool, rows in _rob_groups(catalog, studies):
        figures.append(_rob_figure(tool, rows, f"{fig_id}-{slug(tool.id)}"))
        body = []
        for (s, a), label in zip(rows, _row_labels(rows), strict=True):
            link = study_link(s, page_src) + esc(label[len(s.label) :])
            if a is None:
                body.append([link, *(NOT_ASSESSED for _ in tool.domains), NOT_ASSESSED, "—"])
                continue
            cells = [
                table_cell(_judgement(a.domains[k]).label if k in a.domains else None)
                for k, _ in tool.domains
            ]
            source = esc(f"{a.source.ref}, {a.source.locator}")
            body.append([link, *cells, esc(_judgement(a.overall).label), source])
        headers = ["Study", *(k for k, _ in tool.domains), "Overall", "Source"]
        tables.append(data_table(f"Data table: risk of bias, {tool.short}", headers, body))
        total = len(rows)
        summary = [
            (
                esc(heading),
                esc(
                    "; ".join(
                        f"{_judgement_label(j)} {c} ({round(100 * c / total)}%)"
                        for j, c in counts
                        if c
                    )
                ),
            )
            for heading, counts in _rob_summary(tool, rows)
        ]
        tables.append(
            data_table(
                f"Data table: risk-of-bias summary, {tool.short}",
                ("Domain", "Studies by judgement"),
                summary,
            )
        )
    return html_block(*figures, *tables)
