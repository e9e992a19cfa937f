"""Figures drawn at build time as static, accessible SVG, each with a data table beside it.

A page asks for a figure with a marker on a line of its own: ``[[figure <name> filter=value]]``
(see :mod:`livingreview.markers`). :func:`render_figure` returns Markdown for the names

* ``prisma``: the PRISMA 2020 flow diagram, from ``data/prisma.yaml`` (:func:`load_prisma`,
  :func:`check_prisma`); filters are ignored, the diagram describes the whole review;
* ``evidence-map``: condition × design grid with the number of studies and participants;
* ``timeline``: studies by publication year, coloured and shaped by design;
* ``rob``: risk of bias, one figure per tool (traffic-light plot and summary bars);
* ``forest``: effect estimates with confidence intervals, one panel per effect measure.

Why static SVG: the figures must work offline, in the PDF (WeasyPrint renders inline SVG) and
in both colour schemes, so nothing is drawn by JavaScript. Text and lines use ``currentColor``
(the page's text colour in either scheme); filled shapes use mid-tone colours given as
presentation attributes, outlined in ``currentColor`` so they stand out on light and dark
backgrounds, and carry a CSS class (``rf-...``) that a stylesheet may override. Meaning never
rests on colour alone: designs also differ in shape, judgements carry a symbol, and "not
assessed" is a grey hatch with the words written on it.

Every figure is an inline ``<figure>`` holding an ``<svg role="img">`` labelled by its
``<title>`` and ``<desc>``, followed by a ``<details>`` block with the same data as a Markdown
table. The HTML has no blank lines and no indented lines, so Python-Markdown keeps it as one
raw HTML block instead of ending it early or turning it into a code block. Every value from
data is escaped with :func:`inert` (the contract of :func:`render.escape_data`: HTML, Markdown
and citation syntax made inert), which yields only XML-safe character references, so the SVG
stays well-formed. Output is deterministic: ids derive from the figure name and its filters,
nothing depends on the clock or on hash order, and numbers are formatted the same way always.
"""

from __future__ import annotations

import html
import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

from .errors import Problem, relative_path
from .load import Document, format_field, load_yaml
from .model import Catalog, Effect, Outcome, RiskOfBias, Study, Term, _num
from .pages import study_src
from .render import escape_data, relative_src
from .validate import _schema_problems, schema_validator

#: Figure names a ``[[figure <name>]]`` marker may use.
FIGURES = ("prisma", "evidence-map", "timeline", "rob", "forest")

#: Where the PRISMA numbers live, relative to the project root.
PRISMA_FILE = "data/prisma.yaml"

_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"

#: Colours for designs, in designs.yaml order (Okabe-Ito first: distinguishable with common
#: colour-vision deficiencies). Shapes cycle too, so colour never carries the meaning alone;
#: the orders are chosen so that designs sharing a shape have clearly different colours.
_DESIGN_COLOURS = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#8E6BBF",
    "#F0E442",
    "#999999",
    "#A6761D",
)
_SHAPES = ("circle", "square", "triangle", "diamond", "triangle-down")


@dataclass(frozen=True)
class _Judgement:
    label: str
    symbol: str
    fill: str
    ink: str


#: How each risk-of-bias judgement is drawn: label, symbol, fill and symbol colour. Fills are
#: fixed mid-tones with a contrasting symbol, so they read the same in both colour schemes.
_JUDGEMENTS: Mapping[str, _Judgement] = MappingProxyType(
    {
        "low": _Judgement("Low risk", "+", "#3FAE49", "#000000"),
        "some-concerns": _Judgement("Some concerns", "−", "#F2C12E", "#000000"),
        "moderate": _Judgement("Moderate risk", "−", "#F2C12E", "#000000"),
        "high": _Judgement("High risk", "×", "#E8524A", "#000000"),
        "serious": _Judgement("Serious risk", "×", "#E8524A", "#000000"),
        "critical": _Judgement("Critical risk", "!", "#8B1A1A", "#FFFFFF"),
        "no-information": _Judgement("No information", "?", "#7FB2E5", "#000000"),
        "yes": _Judgement("Yes", "Y", "#3FAE49", "#000000"),
        "no": _Judgement("No", "N", "#E8524A", "#000000"),
        "unclear": _Judgement("Unclear", "?", "#F2C12E", "#000000"),
        "not-applicable": _Judgement("Not applicable", "NA", "#D0D0D0", "#000000"),
    }
)
NOT_ASSESSED = "Not assessed"
_HATCH = "#8C8C8C"

# --- text, numbers and ids ---------------------------------------------------------------------

#: Text from data as inert HTML, Markdown and citation syntax, also valid XML inside SVG:
#: the one escaping function the whole library uses.
inert = escape_data

_esc = inert


def _f(x: float) -> str:
    """Format a coordinate: two decimals at most, no trailing zeros, never ``-0``."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _show(x: float | None) -> str:
    """Format a number for readers, with a true minus sign."""
    return "—" if x is None else _num(x).replace("-", "−")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def _figure_id(name: str, filters: Mapping[str, str]) -> str:
    """Return a stable element id from the figure name and its filters."""
    parts = [f"figure-{_slug(name)}"]
    parts += [f"{_slug(k)}-{_slug(v)}" for k, v in sorted(filters.items())]
    return "-".join(parts)


# Advance widths in em, close to DejaVu Sans (one of the widest common sans-serif fonts, and
# WeasyPrint's usual fallback), so that estimates err on the wide side for other fonts.
_NARROW = frozenset("ijl.,;:'!|")
_SEMI = frozenset("ftr ()[]-·")
_WIDE = frozenset("mwMW@%")


def _text_width(text: str, size: float, bold: bool = False) -> float:
    """Estimate the rendered width of text, generously, so that labels never collide."""
    total = 0.0
    for ch in text:
        if ch in _NARROW:
            total += 0.3
        elif ch in _SEMI:
            total += 0.4
        elif ch in _WIDE:
            total += 0.98
        elif ch.isupper():
            total += 0.74
        else:
            total += 0.64
    return total * size * (1.1 if bold else 1.0)


def _fit(text: str, width: float, size: float, bold: bool = False) -> str:
    """Return text shortened with an ellipsis so that it fits ``width``."""
    if _text_width(text, size, bold) <= width:
        return text
    while text and _text_width(text + "…", size, bold) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _wrap(
    text: str, width: float, size: float, max_lines: int = 0, bold: bool = False
) -> list[str]:
    """Greedy word wrap to ``width``; beyond ``max_lines`` the last line ends with an ellipsis."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}" if current else word
        if _text_width(trial, size, bold) <= width or not current:
            current = trial
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if max_lines and len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], " ".join(lines[max_lines - 1 :])]
    return [_fit(line, width, size, bold) for line in lines] or [""]


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _term_label(catalog: Catalog, vocab: str, term_id: str, short: bool = False) -> str:
    try:
        term = catalog.vocab(vocab)[term_id]
    except KeyError:
        return term_id
    return (term.abbreviation or term.label) if short else term.label


# --- SVG and Markdown assembly -----------------------------------------------------------------


def _attrs(attrs: Mapping[str, Any]) -> str:
    out = []
    for key, value in attrs.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        text = _f(value) if isinstance(value, float) else str(value)
        out.append(f' {name}="{html.escape(text, quote=True)}"')
    return "".join(out)


def _points(*xy: float) -> str:
    return " ".join(f"{_f(x)},{_f(y)}" for x, y in zip(xy[::2], xy[1::2], strict=True))


class _Svg:
    """Collect SVG elements, one per line: no indentation and no blank lines (see module doc)."""

    def __init__(self, fig_id: str) -> None:
        self.fig_id = fig_id
        self.lines: list[str] = []

    def add(self, tag: str, text: str | None = None, /, **attrs: Any) -> None:
        """Add an element; ``text`` is escaped here and becomes its content."""
        if text is None:
            self.lines.append(f"<{tag}{_attrs(attrs)}/>")
        else:
            self.lines.append(f"<{tag}{_attrs(attrs)}>{_esc(text)}</{tag}>")

    def open(self, tag: str, /, **attrs: Any) -> None:
        """Open a container element (``g``, ``defs``, ``pattern``)."""
        self.lines.append(f"<{tag}{_attrs(attrs)}>")

    def close(self, tag: str) -> None:
        """Close a container element."""
        self.lines.append(f"</{tag}>")

    def text(self, x: float, y: float, text: str, /, **attrs: Any) -> None:
        """Add one line of text at (x, y), y being the baseline."""
        self.add("text", text, x=float(x), y=float(y), **attrs)

    def rect(self, x: float, y: float, w: float, h: float, /, **attrs: Any) -> None:
        """Add a rectangle."""
        self.add("rect", x=float(x), y=float(y), width=float(w), height=float(h), **attrs)

    def line(self, x1: float, y1: float, x2: float, y2: float, /, **attrs: Any) -> None:
        """Add a line, by default in the text colour."""
        attrs.setdefault("stroke", "currentColor")
        self.add("line", x1=float(x1), y1=float(y1), x2=float(x2), y2=float(y2), **attrs)

    def circle(self, cx: float, cy: float, r: float, /, **attrs: Any) -> None:
        """Add a circle."""
        self.add("circle", cx=float(cx), cy=float(cy), r=float(r), **attrs)

    def polygon(self, *xy: float, **attrs: Any) -> None:
        """Add a polygon from flat x, y coordinates."""
        self.add("polygon", points=_points(*xy), **attrs)

    def tooltip(self, text: str) -> None:
        """Add a ``<title>`` to the open group: the full text behind a shortened label."""
        self.add("title", text)

    def hatch(self) -> str:
        """Define the grey hatch that marks "not assessed"; return its ``url(#...)``."""
        pid = f"{self.fig_id}-hatch"
        self.open("defs")
        self.open(
            "pattern",
            id=pid,
            width=6,
            height=6,
            patternUnits="userSpaceOnUse",
            patternTransform="rotate(45)",
        )
        self.rect(0, 0, 6, 6, fill=_HATCH, fill_opacity="0.18")
        self.line(0, 0, 0, 6, stroke=_HATCH, stroke_width=2.5)
        self.close("pattern")
        self.close("defs")
        return f"url(#{pid})"

    def arrow(self, x1: float, y1: float, x2: float, y2: float) -> None:
        """Add a straight arrow; the head is a polygon, so no SVG marker support is needed."""
        self.line(x1, y1, x2, y2)
        length = math.hypot(x2 - x1, y2 - y1) or 1.0
        ux, uy = (x2 - x1) / length, (y2 - y1) / length
        bx, by, px, py = x2 - ux * 6, y2 - uy * 6, -uy * 3, ux * 3
        self.polygon(x2, y2, bx + px, by + py, bx - px, by - py, fill="currentColor")

    def render(self, width: float, height: float, title: str, desc: str) -> str:
        """Return the ``<svg>`` element, labelled by its title and description."""
        ids = f"{self.fig_id}-title {self.fig_id}-desc"
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_f(width)} {_f(height)}" '
            f'width="{_f(width)}" height="{_f(height)}" role="img" aria-labelledby="{ids}" '
            f'class="review-figure__svg" font-family="{html.escape(_FONT)}" font-size="12" '
            'fill="currentColor" style="max-width:100%;height:auto">'
        )
        return "\n".join(
            [
                head,
                f'<title id="{self.fig_id}-title">{_esc(title)}</title>',
                f'<desc id="{self.fig_id}-desc">{_esc(desc)}</desc>',
                *self.lines,
                "</svg>",
            ]
        )


def _figure(name: str, fig_id: str, svg: str, caption: str) -> str:
    """Wrap an SVG in a ``<figure>`` with a caption (no blank lines inside)."""
    return (
        f'<figure class="review-figure review-figure--{name}" id="{fig_id}">\n{svg}\n'
        f"<figcaption>{_esc(caption)}</figcaption>\n</figure>"
    )


def _cell(value: Any) -> str:
    """Return a table cell from data: escaped, or an em dash when empty."""
    return _esc(value) if value not in (None, "") else "—"


def _data_table(summary: str, headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Return a collapsible Markdown table; cells must already be escaped (see :func:`_cell`)."""
    lines = [
        '<details class="review-figure-data" markdown="1">',
        f"<summary>{_esc(summary)}</summary>",
        "",
        "| " + " | ".join(_esc(h) for h in headers) + " |",
        "| " + " | ".join("---" for _ in headers) + " |",
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
        "</details>",
    ]
    return "\n".join(lines)


def _study_link(study: Study, page_src: str) -> str:
    # Validated ids are [a-z0-9-]; quoting keeps anything else from breaking the link syntax.
    target = quote(relative_src(study_src(study.id), page_src), safe="/.-_~")
    return f"[{_esc(study.label)}]({target})"


def _block(*parts: str) -> str:
    """Join blocks with blank lines around each, so each is its own Markdown block."""
    return "\n\n" + "\n\n".join(p for p in parts if p) + "\n\n"


def _empty(message: str) -> str:
    return f"\n\n*{_esc(message)}*\n\n"


def _design_style(catalog: Catalog, design: str) -> tuple[str, str]:
    """Return the (colour, shape) of a design, stable across figures (designs.yaml order)."""
    ids = catalog.vocab("designs").ids()
    if design not in ids:
        return "#777777", "circle"
    index = ids.index(design)
    return _DESIGN_COLOURS[index % len(_DESIGN_COLOURS)], _SHAPES[index % len(_SHAPES)]


def _design_marker(svg: _Svg, catalog: Catalog, design: str, cx: float, cy: float) -> None:
    """Draw a design's marker (colour and shape), outlined in the text colour."""
    colour, shape = _design_style(catalog, design)
    style = {
        "fill": colour,
        "stroke": "currentColor",
        "stroke_width": 0.8,
        "class_": f"rf-design rf-design-{_slug(design)}",
    }
    h = 7.0
    if shape == "circle":
        svg.circle(cx, cy, h, **style)
    elif shape == "square":
        svg.rect(cx - h * 0.85, cy - h * 0.85, h * 1.7, h * 1.7, **style)
    elif shape == "triangle":
        svg.polygon(cx, cy - h, cx + h, cy + h * 0.8, cx - h, cy + h * 0.8, **style)
    elif shape == "triangle-down":
        svg.polygon(cx, cy + h, cx + h, cy - h * 0.8, cx - h, cy - h * 0.8, **style)
    else:
        svg.polygon(cx, cy - h, cx + h, cy, cx, cy + h, cx - h, cy, **style)


# --- PRISMA 2020 -------------------------------------------------------------------------------

_PARENT_FIELD = re.compile(r"(?:\.[^.\[\]]+|\[\d+\])$|^[^.\[\]]+$")


@dataclass(frozen=True)
class PrismaCount:
    """A count with its reason: a reason for exclusion, or for not seeking a report."""

    reason: str
    count: int


@dataclass(frozen=True)
class PrismaSource:
    """Records identified by one of the "other methods", with the record ids where listed."""

    label: str
    count: int
    studies: tuple[str, ...] = ()
    trials: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class DatabasesColumn:
    """Left column of the PRISMA 2020 diagram: databases and registers."""

    databases: int
    registers: int
    duplicates_removed: int
    automation_removed: int
    other_removed: int
    screened: int
    records_excluded: int
    sought: int
    not_retrieved: int
    assessed: int
    reports_excluded: tuple[PrismaCount, ...]
    note: str = ""


@dataclass(frozen=True)
class OtherMethodsColumn:
    """Right column of the PRISMA 2020 diagram: other methods."""

    sources: tuple[PrismaSource, ...]
    duplicates_removed: int
    not_sought: tuple[PrismaCount, ...]
    sought: int
    not_retrieved: int
    assessed: int
    reports_excluded: tuple[PrismaCount, ...]
    note: str = ""

    @property
    def identified(self) -> int:
        """Records identified by all other methods."""
        return sum(s.count for s in self.sources)


@dataclass(frozen=True)
class Included:
    """Bottom of the diagram: studies and reports included, ongoing trials listed apart."""

    studies: int
    reports: int
    ongoing_trials: int | None = None
    note: str = ""


@dataclass(frozen=True)
class Prisma:
    """The PRISMA 2020 flow numbers from ``data/prisma.yaml``, with source positions."""

    path: str
    databases_registers: DatabasesColumn
    other_methods: OtherMethodsColumn
    included: Included
    updated: str
    positions: Mapping[str, tuple[int, int]] = field(default_factory=lambda: MappingProxyType({}))

    def position(self, field_name: str) -> tuple[int, int]:
        """Return (line, column) of a field (``included.studies``), or of its nearest parent."""
        probe = field_name
        while probe not in self.positions:
            parent = _PARENT_FIELD.sub("", probe)
            if parent == probe:
                return self.positions.get("", (1, 1))
            probe = parent
        return self.positions[probe]

    def problem(self, field_name: str, message: str) -> Problem:
        """Return a problem located at a field of the file."""
        line, col = self.position(field_name)
        return Problem(self.path, line, col, field_name, message)


def load_prisma(root: Path) -> tuple[Prisma | None, list[Problem]]:
    """Load and validate ``data/prisma.yaml`` against ``data/schema/prisma.schema.json``.

    Beyond the schema, checks that each column adds up (identified − removed = screened, ...)
    and that a source listing record ids lists as many as it counts. Checks against the records
    themselves are in :func:`check_prisma`.

    Args:
        root: Project root (holds ``data/``).

    Returns:
        The flow numbers (``None`` if the file is missing or malformed) and every problem,
        each with the file's path, line, column and field.
    """
    root = Path(root)
    path = root / PRISMA_FILE
    rel = relative_path(path, root)
    if not (path.exists() or path.is_symlink()):  # a FIFO or symlink there is reported
        msg = "file not found; the PRISMA flow diagram ([[figure prisma]]) is drawn from it"
        return None, [Problem(rel, None, None, "", msg)]
    doc, problems = load_yaml(path, root)
    if doc is None or problems:
        return None, problems
    schema = root / "data" / "schema" / "prisma.schema.json"
    if not schema.is_file():
        msg = f"schema {relative_path(schema, root)} not found; cannot check this file"
        return None, [Problem(rel, None, None, "", msg)]
    if _schema_problems(doc, schema_validator(root, "prisma"), problems):
        return None, problems
    prisma = _build_prisma(doc)
    return prisma, _arithmetic_problems(prisma)


def _counts(raw: list[dict[str, Any]]) -> tuple[PrismaCount, ...]:
    return tuple(PrismaCount(r["reason"], r["count"]) for r in raw)


def _build_prisma(doc: Document) -> Prisma:
    d = doc.data
    db, om, inc = d["databases_registers"], d["other_methods"], d["included"]
    sources = tuple(
        PrismaSource(
            label=s["label"],
            count=s["count"],
            studies=tuple(s.get("studies", [])),
            trials=tuple(s.get("trials", [])),
            note=s.get("note", ""),
        )
        for s in om["sources"]
    )
    db_fields = {k: v for k, v in db.items() if k not in ("reports_excluded", "note")}
    return Prisma(
        path=doc.path,
        databases_registers=DatabasesColumn(
            **db_fields, reports_excluded=_counts(db["reports_excluded"]), note=db.get("note", "")
        ),
        other_methods=OtherMethodsColumn(
            sources=sources,
            duplicates_removed=om["duplicates_removed"],
            not_sought=_counts(om["not_sought"]),
            sought=om["sought"],
            not_retrieved=om["not_retrieved"],
            assessed=om["assessed"],
            reports_excluded=_counts(om["reports_excluded"]),
            note=om.get("note", ""),
        ),
        included=Included(
            studies=inc["studies"],
            reports=inc["reports"],
            ongoing_trials=inc.get("ongoing_trials"),
            note=inc.get("note", ""),
        ),
        updated=d["updated"],
        positions=MappingProxyType({format_field(p): pos for p, pos in doc.values.items()}),
    )


def _arithmetic_problems(p: Prisma) -> list[Problem]:
    """Check that each box follows from the boxes above it."""
    db, om = p.databases_registers, p.other_methods
    removed = db.duplicates_removed + db.automation_removed + db.other_removed
    not_sought = sum(c.count for c in om.not_sought)
    db_in = db.assessed - sum(c.count for c in db.reports_excluded)
    om_in = om.assessed - sum(c.count for c in om.reports_excluded)
    checks = [
        (
            "databases_registers.screened",
            db.screened,
            db.databases + db.registers - removed,
            f"records identified ({db.databases} + {db.registers}) minus records removed before "
            f"screening ({removed})",
        ),
        (
            "databases_registers.sought",
            db.sought,
            db.screened - db.records_excluded,
            f"records screened ({db.screened}) minus records excluded ({db.records_excluded})",
        ),
        (
            "databases_registers.assessed",
            db.assessed,
            db.sought - db.not_retrieved,
            f"reports sought ({db.sought}) minus reports not retrieved ({db.not_retrieved})",
        ),
        (
            "other_methods.sought",
            om.sought,
            om.identified - om.duplicates_removed - not_sought,
            f"records identified ({om.identified}) minus duplicates ({om.duplicates_removed}) "
            f"and records not sought ({not_sought})",
        ),
        (
            "other_methods.assessed",
            om.assessed,
            om.sought - om.not_retrieved,
            f"reports sought ({om.sought}) minus reports not retrieved ({om.not_retrieved})",
        ),
        (
            "included.reports",
            p.included.reports,
            db_in + om_in,
            f"reports assessed minus reports excluded, over both columns ({db_in} + {om_in})",
        ),
    ]
    problems = [
        p.problem(name, f"is {have}, but {how} gives {want}")
        for name, have, want, how in checks
        if have != want
    ]
    if p.included.studies > p.included.reports:
        msg = f"{p.included.studies} studies cannot come from {p.included.reports} reports"
        problems.append(p.problem("included.studies", msg))
    for i, src in enumerate(om.sources):
        listed = len(src.studies) + len(src.trials)
        if (src.studies or src.trials) and listed != src.count:
            msg = f"count is {src.count}, but {listed} record id(s) are listed"
            problems.append(p.problem(f"other_methods.sources[{i}].count", msg))
    return problems


def check_prisma(prisma: Prisma, catalog: Catalog) -> list[Problem]:
    """Check the PRISMA numbers against the records; the build should fail on any problem.

    ``included.studies`` must equal the number of study records and ``included.ongoing_trials``
    (when given) the number of trial records. Every listed study or trial id must exist and be
    listed once; as soon as any source lists ids, every record must be listed under a source.

    Returns:
        Problems located at the field of ``data/prisma.yaml`` that disagrees.
    """
    problems: list[Problem] = []
    n = len(catalog.studies)
    if prisma.included.studies != n:
        msg = (
            f"{prisma.included.studies} studies included, but there are {n} study records in "
            "data/studies/; update the PRISMA numbers"
        )
        problems.append(prisma.problem("included.studies", msg))
    trials = len(catalog.trials)
    if prisma.included.ongoing_trials not in (None, trials):
        msg = (
            f"{prisma.included.ongoing_trials} ongoing trials, but there are {trials} trial "
            "records in data/trials/; update the PRISMA numbers"
        )
        problems.append(prisma.problem("included.ongoing_trials", msg))
    for kind, folder, known in (
        ("studies", "data/studies", {s.id for s in catalog.studies}),
        ("trials", "data/trials", {t.id for t in catalog.trials}),
    ):
        seen: dict[str, str] = {}
        for i, src in enumerate(prisma.other_methods.sources):
            for j, rid in enumerate(getattr(src, kind)):
                where = f"other_methods.sources[{i}].{kind}[{j}]"
                if rid not in known:
                    msg = f"unknown record '{rid}' (no {folder}/{rid}.yaml)"
                    problems.append(prisma.problem(where, msg))
                elif rid in seen:
                    problems.append(prisma.problem(where, f"'{rid}' is listed twice ({seen[rid]})"))
                else:
                    seen[rid] = where
        missing = sorted(known - set(seen))
        if seen and missing:
            msg = (
                f"records in {folder}/ not listed under any source: {', '.join(missing)}; list "
                "each under the source that found it"
            )
            problems.append(prisma.problem("other_methods.sources", msg))
    return problems


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
    lines = [(t, True) for t in _wrap(heading, inner, _BOX_FONT, bold=True)]
    for item in items:
        lines += [(t, False) for t in _wrap(item, inner, _BOX_FONT)]
    return _Box(x, width, lines, dashed)


def _draw_box(svg: _Svg, box: _Box) -> None:
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

    svg = _Svg(fig_id)
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
            transform=f"rotate(-90 {_f(cx)} {_f(cy)})",
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
    return _figure("prisma", fig_id, svg_text, caption)


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
    return _data_table(
        "Data table: PRISMA 2020 flow",
        ("Stage", "Column", "Box", "n", "Note"),
        ((_esc(a), _esc(b), _esc(c), str(n), _cell(note)) for a, b, c, n, note in rows),
    )


def _render_prisma(prisma: Prisma | None, fig_id: str) -> str:
    if prisma is None:
        return _empty(f"The PRISMA flow diagram needs {PRISMA_FILE}, which could not be loaded.")
    return _block(_prisma_figure(prisma, fig_id), _prisma_table(prisma))


# --- evidence map ------------------------------------------------------------------------------


def _map_lines(studies: Sequence[Study], review: bool) -> list[str]:
    """Return a cell's text: number of studies, summed n, and how many do not report n."""
    if not studies:
        return ["—"]
    missing = sum(1 for s in studies if s.n is None)
    lines = [
        _plural(len(studies), "review") if review else _plural(len(studies), "study", "studies")
    ]
    if len(studies) > missing:
        total = sum(s.n or 0 for s in studies)
        lines.append(f"n = {total}" + (" (not added)" if review else ""))
    if missing:
        lines.append(f"n not reported: {missing}")
    return lines


def _render_evidence_map(
    catalog: Catalog, filters: Mapping[str, str], fig_id: str, page_src: str
) -> str:
    studies = catalog.select(**filters)
    if not studies:
        return _empty("No included study matches this selection.")
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
    svg = _Svg(fig_id)
    for i, c in enumerate(conditions):
        for j, line in enumerate(_wrap(c.label, cell_w - 12, 12, max_lines=2, bold=True)):
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
        lines = _wrap(label, label_w, 12, max_lines=2, bold=bold)
        if lines != _wrap(label, label_w, 12, bold=bold):
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
                fill_opacity=_f(opacity),
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
        for line in _wrap(heading, width - 16, 12, bold=True):
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
                links = ", ".join(_study_link(s, page_src) for s in found)
                table.append((_esc(c.label), _esc(d.label), str(len(found)), _esc(n_text), links))
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
        f"Evidence map of {_plural(len(studies), 'included study', 'included studies')} by "
        "condition and design. Darker cells hold more studies; n is the sum of participants "
        "where reported."
    )
    return _block(
        _figure(
            "evidence-map",
            fig_id,
            svg.render(width, y + 8, "Evidence map: studies by condition and design", desc),
            caption,
        ),
        _data_table(
            "Data table: evidence map",
            ("Condition", "Design", "Studies", "Participants (n)", "Records"),
            table,
        ),
    )


# --- timeline ----------------------------------------------------------------------------------


def _render_timeline(
    catalog: Catalog, filters: Mapping[str, str], fig_id: str, page_src: str
) -> str:
    studies = catalog.select(**filters)
    if not studies:
        return _empty("No included study matches this selection.")
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
        w = 20 + _text_width(_term_label(catalog, "designs", d), 11) + 18
        if lx + w > width - 8 and lx > left:
            lx, ly = left, ly + 20
        legend.append((lx, ly, d))
        lx += w

    svg = _Svg(fig_id)
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
            svg.tooltip(f"{s.label}: {_term_label(catalog, 'designs', s.design)}")
            _design_marker(svg, catalog, s.design, cx, axis_y - 4 - j * step - step / 2)
            svg.close("g")
    svg.text(
        left + plot_w / 2, axis_y + 36, "Publication year", text_anchor="middle", font_size="11"
    )
    for x, y, d in legend:
        _design_marker(svg, catalog, d, x + 7, y - 4)
        svg.text(x + 20, y, _term_label(catalog, "designs", d), font_size="11")

    per_year = ", ".join(f"{y}: {len(by_year[y])}" for y in years if by_year[y])
    per_design = "; ".join(
        f"{_term_label(catalog, 'designs', d)}: {sum(1 for s in studies if s.design == d)}"
        for d in present
    )
    desc = (
        f"{_plural(len(studies), 'study', 'studies')} published from {years[0]} to {years[-1]}, "
        "one marker per study, stacked by year, coloured and shaped by design. Studies per "
        f"year: {per_year}. By design: {per_design}."
    )
    caption = (
        f"Publication years of {_plural(len(studies), 'included study', 'included studies')}, "
        "by design. Each marker is one study; the number above a stack counts its studies."
    )
    rows = [
        (str(s.year), _esc(_term_label(catalog, "designs", s.design)), _study_link(s, page_src))
        for s in sorted(studies, key=lambda s: (s.year, s.id))
    ]
    title = "Timeline of included studies by publication year"
    return _block(
        _figure("timeline", fig_id, svg.render(width, ly + 16, title, desc), caption),
        _data_table("Data table: timeline", ("Year", "Design", "Study"), rows),
    )


# --- risk of bias ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RobTool:
    id: str
    label: str
    short: str
    domains: tuple[tuple[str, str], ...]
    judgements: tuple[str, ...]


_NO_TOOL = _RobTool(
    "none", "No risk-of-bias tool assigned to the design", "No tool assigned", (), ()
)

#: One row of a traffic-light plot: a study and its sourced assessment (None: not assessed).
_RobRow = tuple[Study, RiskOfBias | None]


def _rob_tools(catalog: Catalog) -> dict[str, _RobTool]:
    vocab = catalog.vocabularies.get("rob_tools")
    return {
        t.id: _RobTool(
            id=t.id,
            label=t.label,
            short=t.abbreviation or t.label,
            domains=tuple((d["id"], d["label"]) for d in t.get("domains") or ()),
            judgements=tuple(t.get("judgements") or ()),
        )
        for t in (vocab.terms if vocab else ())
    }


def _rob_groups(catalog: Catalog, studies: Sequence[Study]) -> list[tuple[_RobTool, list[_RobRow]]]:
    """Group studies by tool: each assessment's tool, else the tool designs.yaml names.

    A study without a sourced assessment is listed under its design's tool as not assessed;
    studies whose design has no tool (reviews) form a last group.
    """
    tools = _rob_tools(catalog)
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
            tool = _RobTool(tool_id, tool_id, tool_id, tuple((k, k) for k in used), ())
        out.append((tool, groups[tool_id]))
    return out


def _judgement(value: str) -> _Judgement:
    fallback = _Judgement(value.replace("-", " ").capitalize(), "•", "#BDBDBD", "#000000")
    return _JUDGEMENTS.get(value, fallback)


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


def _rob_summary(
    tool: _RobTool, rows: Sequence[_RobRow]
) -> list[tuple[str, list[tuple[str, int]]]]:
    """Count judgements per domain and overall: the tool's list, others used, not assessed."""
    used = {v for _, a in rows if a for v in (*a.domains.values(), a.overall)}
    known = list(_JUDGEMENTS)
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


def _rob_symbol(svg: _Svg, cx: float, cy: float, value: str | None, hatch: str) -> None:
    """Draw a judgement as a coloured disc with its symbol, or the hatch when there is none."""
    if value is None:
        svg.circle(cx, cy, 9, fill=hatch, stroke=_HATCH, class_="rf-rob-not-assessed")
        return
    style = _judgement(value)
    svg.circle(
        cx,
        cy,
        9,
        fill=style.fill,
        stroke="currentColor",
        stroke_width=0.8,
        class_=f"rf-rob rf-rob-{_slug(value)}",
    )
    svg.text(
        cx,
        cy + 4,
        style.symbol,
        text_anchor="middle",
        font_size="11",
        font_weight="700",
        fill=style.ink,
    )


def _rob_figure(tool: _RobTool, rows: Sequence[_RobRow], fig_id: str) -> str:
    """Return the traffic-light plot and summary bars for the studies under one tool."""
    row_h, col_w, overall_w, bar_w = 24.0, 36.0, 60.0, 320.0
    labels = _row_labels(rows)
    summary = _rob_summary(tool, rows)
    label_w = min(max(_text_width(t, 12) for t in [*labels, *(h for h, _ in summary)]) + 4, 300)
    x0 = 8 + label_w + 10
    # Wide enough for the words "Not assessed" even when the tool has no domains.
    grid_w = max(col_w * len(tool.domains) + overall_w, 130.0)
    width = x0 + max(grid_w, bar_w + 44) + 10
    col_x = [x0 + (i + 0.5) * col_w for i in range(len(tool.domains))]
    col_x.append(
        x0 + col_w * len(tool.domains) + overall_w / 2 if tool.domains else x0 + grid_w / 2
    )
    columns = [k for k, _ in tool.domains]

    svg = _Svg(fig_id)
    hatch = svg.hatch()
    svg.text(8, 20, f"{tool.short}: {_plural(len(rows), 'study', 'studies')}", font_weight="600")
    for key, cx in zip([*columns, "Overall"], col_x, strict=True):
        svg.text(cx, 44, key, text_anchor="middle", font_size="11", font_weight="600")
    y = 52.0
    # Traffic lights: one row per study (or per assessment), each of fixed height, so the
    # figure grows with the number of studies and labels never overlap.
    for (_, a), label in zip(rows, labels, strict=True):
        svg.open("g", class_="rf-rob-row")
        svg.tooltip(f"{label}: " + (f"assessed, source {a.source.ref}" if a else NOT_ASSESSED))
        svg.text(x0 - 10, y + row_h / 2 + 4, _fit(label, label_w, 12), text_anchor="end")
        svg.line(x0, y + row_h, x0 + grid_w, y + row_h, stroke_opacity="0.15")
        if a is None:
            svg.rect(
                x0 + 2,
                y + 3,
                grid_w - 4,
                row_h - 6,
                rx=4,
                fill=hatch,
                stroke=_HATCH,
                class_="rf-rob-not-assessed",
            )
            svg.text(
                x0 + grid_w / 2,
                y + row_h / 2 + 4,
                NOT_ASSESSED,
                text_anchor="middle",
                font_size="11",
                font_weight="600",
            )
        else:
            values = [a.domains.get(k) for k in columns] + [a.overall]
            for value, cx in zip(values, col_x, strict=True):
                _rob_symbol(svg, cx, y + row_h / 2, value, hatch)
        svg.close("g")
        y += row_h
    y += 8
    for key, label in tool.domains:
        svg.text(8, y + 12, f"{key}: {label}", font_size="11")
        y += 16
    y += 10
    svg.text(8, y + 12, "Percentage of studies by judgement", font_weight="600")
    y += 22
    total = len(rows)
    for heading, counts in summary:
        svg.open("g", class_="rf-rob-bar")
        svg.tooltip(
            heading + ": " + "; ".join(f"{_judgement_label(j)} {c}" for j, c in counts if c)
        )
        svg.text(x0 - 10, y + row_h / 2 + 4, _fit(heading, label_w, 12), text_anchor="end")
        x = x0
        for j, c in counts:
            if not c:
                continue
            w = bar_w * c / total
            ink = None
            if j == NOT_ASSESSED:
                svg.rect(
                    x, y + 3, w, row_h - 6, fill=hatch, stroke=_HATCH, class_="rf-rob-not-assessed"
                )
            else:
                style = _judgement(j)
                ink = style.ink
                svg.rect(
                    x,
                    y + 3,
                    w,
                    row_h - 6,
                    fill=style.fill,
                    stroke="currentColor",
                    stroke_width=0.6,
                    class_=f"rf-rob rf-rob-{_slug(j)}",
                )
            pct = f"{round(100 * c / total)}%"
            if w >= _text_width(pct, 10) + 6:
                svg.text(
                    x + w / 2,
                    y + row_h / 2 + 4,
                    pct,
                    text_anchor="middle",
                    font_size="10",
                    font_weight="600",
                    fill=ink,
                )
            x += w
        svg.close("g")
        y += row_h
    y += 10
    lx = 8.0
    for j, _ in summary[-1][1]:
        text = _judgement_label(j)
        w = 22 + _text_width(text, 11) + 16
        if lx + w > width - 8 and lx > 8:
            lx, y = 8.0, y + 22
        _rob_symbol(svg, lx + 9, y + 9, None if j == NOT_ASSESSED else j, hatch)
        svg.text(lx + 22, y + 13, text, font_size="11")
        lx += w

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
        f"{what} {_plural(total, 'study', 'studies')}: {assessed} with a sourced assessment, "
        f"{total - assessed} not assessed (no sourced assessment is recorded, so no judgement "
        f"is shown). Overall: {overall}."
    )
    caption = (
        f"Risk of bias, {tool.label}: {assessed} of {_plural(total, 'study', 'studies')} "
        "assessed. Only assessments taken from a named source are shown; a grey hatch marks a "
        "study that has not been assessed."
    )
    svg_text = svg.render(width, y + 26, f"Risk of bias: {tool.short}", desc)
    return _figure("rob", fig_id, svg_text, caption)


def _render_rob(catalog: Catalog, filters: Mapping[str, str], fig_id: str, page_src: str) -> str:
    studies = catalog.select(**filters)
    if not studies:
        return _empty("No included study matches this selection.")
    figures, tables = [], []
    for tool, rows in _rob_groups(catalog, studies):
        figures.append(_rob_figure(tool, rows, f"{fig_id}-{_slug(tool.id)}"))
        body = []
        for (s, a), label in zip(rows, _row_labels(rows), strict=True):
            link = _study_link(s, page_src) + _esc(label[len(s.label) :])
            if a is None:
                body.append([link, *(NOT_ASSESSED for _ in tool.domains), NOT_ASSESSED, "—"])
                continue
            cells = [
                _cell(_judgement(a.domains[k]).label if k in a.domains else None)
                for k, _ in tool.domains
            ]
            source = _esc(f"{a.source.ref}, {a.source.locator}")
            body.append([link, *cells, _esc(_judgement(a.overall).label), source])
        headers = ["Study", *(k for k, _ in tool.domains), "Overall", "Source"]
        tables.append(_data_table(f"Data table: risk of bias, {tool.short}", headers, body))
        total = len(rows)
        summary = [
            (
                _esc(heading),
                _esc(
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
            _data_table(
                f"Data table: risk-of-bias summary, {tool.short}",
                ("Domain", "Studies by judgement"),
                summary,
            )
        )
    return _block(*figures, *tables)


def check_risk_of_bias(catalog: Catalog) -> list[Problem]:
    """Check recorded assessments against ``rob_tools.yaml``: tool, domain ids, judgements.

    The model keeps no source positions, so problems name the record and field but no line.
    """
    tools = _rob_tools(catalog)
    problems = []
    for s in catalog.studies:
        for i, a in enumerate(s.risk_of_bias):
            base = f"risk_of_bias[{i}]"
            tool = tools.get(a.tool)
            if tool is None:
                allowed = ", ".join(tools) or "none (rob_tools.yaml is missing)"
                msg = f"'{a.tool}' is not in vocabularies/rob_tools.yaml; allowed: {allowed}"
                problems.append(Problem(s.path, None, None, f"{base}.tool", msg))
                continue
            ids = [k for k, _ in tool.domains]
            allowed = ", ".join(tool.judgements)
            for key, value in a.domains.items():
                where = f"{base}.domains.{key}"
                if key not in ids:
                    msg = f"'{key}' is not a domain of {tool.short}; allowed: {', '.join(ids)}"
                    problems.append(Problem(s.path, None, None, where, msg))
                elif tool.judgements and value not in tool.judgements:
                    msg = f"'{value}' is not a {tool.short} judgement; allowed: {allowed}"
                    problems.append(Problem(s.path, None, None, where, msg))
            if tool.judgements and a.overall not in tool.judgements:
                msg = f"'{a.overall}' is not a {tool.short} judgement; allowed: {allowed}"
                problems.append(Problem(s.path, None, None, f"{base}.overall", msg))
    return problems


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
    label = _term_label(catalog, "outcome_measures", measure, short=True)
    return re.sub(r"\s*\([^()]*\)$", "", label) or label


def _ci_text(e: Effect) -> str:
    level = "" if e.ci_level in (95, None) else f"{_num(e.ci_level)}% CI "
    return f"{_show(e.estimate)} ({level}{_show(e.ci_lower)} to {_show(e.ci_upper)})"


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
        min(max(_text_width(r.label, 12) for r in rows) + 4, 420.0),
        _text_width("Study · outcome · timepoint", 11),
    )
    right_w = max([_text_width(_ci_text(r.effect), 12) for r in rows] + [110.0]) + 16
    x0 = 8 + label_w + 14
    width = x0 + plot_w + 14 + right_w + 8

    def sx(v: float) -> float:
        if log:
            return x0 + plot_w * math.log(v / lo) / math.log(hi / lo)
        return x0 + plot_w * (v - lo) / (hi - lo)

    left_text, right_text, why = _direction(catalog, measure, within, rows)
    svg = _Svg(fig_id)
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
        svg.text(8, cy + 4, _fit(r.label, label_w, 12))
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
        tx, label = sx(t), _show(t)
        svg.line(tx, y, tx, y + 5)
        if tx - _text_width(label, 11) / 2 > last + 4:  # skip a label that would touch the last
            svg.text(tx, y + 18, label, text_anchor="middle", font_size="11")
            last = tx + _text_width(label, 11) / 2
    y += 36
    svg.text(x0, y, left_text, font_size="11", class_="rf-forest-direction")
    svg.text(
        x0 + plot_w, y, right_text, font_size="11", text_anchor="end", class_="rf-forest-direction"
    )
    y += 18
    axis_title = f"{term.label}{' (log scale)' if log else ''}; no effect = {_show(null)}"
    svg.text(x0 + plot_w / 2, y, axis_title, font_size="11", text_anchor="middle")
    y += 22
    svg.rect(8, y - 9, 9, 9, fill="currentColor")
    svg.text(22, y, "Single estimate", font_size="11")
    lx = 22 + _text_width("Single estimate", 11) + 20
    svg.polygon(lx, y - 4, lx + 7, y - 11, lx + 14, y - 4, lx + 7, y + 3, fill="currentColor")
    svg.text(
        lx + 20, y, "Pooled estimate as reported by a review (not computed here)", font_size="11"
    )

    kind = "within-group change from baseline" if within else "comparison with comparator"
    desc = (
        f"{_plural(len(rows), 'estimate')} of the {term.label}"
        + (" on a logarithmic axis" if log else "")
        + f", no effect at {_show(null)}: "
        + "; ".join(
            f"{r.label}: {_ci_text(r.effect)}{', pooled' if r.effect.pooled else ''}" for r in rows
        )
        + f". {why} Estimates of different measures are never combined and nothing is pooled "
        "here; a diamond is a pooled estimate as its source reports it."
    )
    caption = f"{term.label}, {kind}: {_plural(len(rows), 'estimate')} as reported. {why}"
    title = f"Forest plot: {term.label} ({kind})"
    return _figure("forest", fig_id, svg.render(width, y + 10, title, desc), caption)


def _render_forest(catalog: Catalog, filters: Mapping[str, str], fig_id: str, page_src: str) -> str:
    groups, skipped = _forest_groups(catalog, catalog.select(**filters))
    if not groups:
        msg = "No effect estimate with a confidence interval is recorded for this selection."
        return _empty(msg)
    order = catalog.vocab("effect_measures").ids()
    keys = sorted(groups, key=lambda k: (order.index(k[0]) if k[0] in order else 99, k))
    figures, table = [], []
    for measure, within in keys:
        rows = groups[(measure, within)]
        sub = f"{fig_id}-{_slug(measure)}-{'within' if within else 'between'}"
        figures.append(_forest_panel(catalog, measure, within, rows, sub))
        for r in rows:
            e = r.effect
            pooled = "No"
            if e.pooled:
                pooled = "Yes" + (
                    f", {_plural(e.studies, 'study', 'studies')}" if e.studies else ""
                )
                pooled += f", n = {e.n}" if e.n else ""
            table.append(
                (
                    _esc(_term_label(catalog, "effect_measures", measure)),
                    _study_link(r.study, page_src),
                    _cell(_term_label(catalog, "outcome_measures", r.outcome.measure)),
                    _cell(r.outcome.timepoint),
                    _esc(_ci_text(e)),
                    _esc(pooled),
                    _esc("Within-group change" if within else "Between groups"),
                    _cell(e.note),
                )
            )
    note = ""
    if skipped:
        verb = "is" if skipped == 1 else "are"
        note = f"{_plural(skipped, 'estimate')} without a confidence interval {verb} not plotted."
        note = f"*{_esc(note)}*"
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
    return _block(*figures, note, _data_table("Data table: effect estimates", headers, table))


# --- entry point -------------------------------------------------------------------------------


def render_figure(
    name: str,
    catalog: Catalog,
    filters: dict[str, str],
    page_src: str,
    *,
    prisma: Prisma | None = None,
) -> str | None:
    """Return the Markdown for a ``[[figure <name> ...]]`` marker, or ``None`` if unknown.

    Args:
        name: ``prisma``, ``evidence-map``, ``timeline``, ``rob`` or ``forest``.
        catalog: The validated records.
        filters: Marker filters (``condition``, ``design``, ``kind``, ``group``), applied with
            :meth:`Catalog.select`; ``prisma`` ignores them.
        page_src: Source path of the page in ``docs/`` (``ptsd.md``), for links to studies.
        prisma: The loaded ``data/prisma.yaml`` (:func:`load_prisma`), needed by ``prisma``.

    Returns:
        Markdown: raw-HTML ``<figure>`` blocks and ``<details>`` data tables, separated by
        blank lines; the marker must stand on a line of its own.
    """
    if name == "prisma":
        return _render_prisma(prisma, _figure_id(name, {}))
    renderers = {
        "evidence-map": _render_evidence_map,
        "timeline": _render_timeline,
        "rob": _render_rob,
        "forest": _render_forest,
    }
    renderer = renderers.get(name)
    if renderer is None:
        return None
    return renderer(catalog, filters, _figure_id(name, filters), page_src)
