"""SVG and HTML building blocks shared by every figure: the element builder, ids, data tables."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..model import format_number
from ..render import escape_data

_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
HATCH = "#8C8C8C"

# --- text, numbers and ids ---------------------------------------------------------------------

#: Text from data as inert HTML, Markdown and citation syntax, also valid XML inside SVG:
#: the one escaping function the whole library uses.
inert = escape_data

esc = inert


def coord(x: float) -> str:
    """Format a coordinate: two decimals at most, no trailing zeros, never ``-0``."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def show_number(x: float | None) -> str:
    """Format a number for readers, with a true minus sign."""
    return "—" if x is None else format_number(x).replace("-", "−")


def slug(text: str) -> str:
    """Return ``text`` as lower-case ASCII words joined by hyphens (``x`` if empty)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def figure_id(name: str, filters: Mapping[str, str]) -> str:
    """Return a stable element id from the figure name and its filters."""
    parts = [f"figure-{slug(name)}"]
    parts += [f"{slug(k)}-{slug(v)}" for k, v in sorted(filters.items())]
    return "-".join(parts)


def plural(n: int, one: str, many: str | None = None) -> str:
    """Return ``n`` with the singular or plural noun."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


# --- SVG and Markdown assembly -----------------------------------------------------------------


def _attrs(attrs: Mapping[str, Any]) -> str:
    out = []
    for key, value in attrs.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        text = coord(value) if isinstance(value, float) else str(value)
        out.append(f' {name}="{html.escape(text, quote=True)}"')
    return "".join(out)


def _points(*xy: float) -> str:
    return " ".join(f"{coord(x)},{coord(y)}" for x, y in zip(xy[::2], xy[1::2], strict=True))


class Svg:
    """Collect SVG elements, one per line: no indentation and no blank lines (see module doc)."""

    def __init__(self, fig_id: str) -> None:
        self.fig_id = fig_id
        self.lines: list[str] = []

    def add(self, tag: str, text: str | None = None, /, **attrs: Any) -> None:
        """Add an element; ``text`` is escaped here and becomes its content."""
        if text is None:
            self.lines.append(f"<{tag}{_attrs(attrs)}/>")
        else:
            self.lines.append(f"<{tag}{_attrs(attrs)}>{esc(text)}</{tag}>")

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
        self.rect(0, 0, 6, 6, fill=HATCH, fill_opacity="0.18")
        self.line(0, 0, 0, 6, stroke=HATCH, stroke_width=2.5)
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
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {coord(width)} {coord(height)}" '
            f'width="{coord(width)}" height="{coord(height)}" role="img" aria-labelledby="{ids}" '
            f'class="review-figure__svg" font-family="{html.escape(_FONT)}" font-size="12" '
            'fill="currentColor" style="max-width:100%;height:auto">'
        )
        return "\n".join(
            [
                head,
                f'<title id="{self.fig_id}-title">{esc(title)}</title>',
                f'<desc id="{self.fig_id}-desc">{esc(desc)}</desc>',
                *self.lines,
                "</svg>",
            ]
        )


def figure_html(name: str, fig_id: str, svg: str, caption: str) -> str:
    """Wrap an SVG in a ``<figure>`` with a caption (no blank lines inside)."""
    return (
        f'<figure class="review-figure review-figure--{name}" id="{fig_id}">\n{svg}\n'
        f"<figcaption>{esc(caption)}</figcaption>\n</figure>"
    )


def figure_variants(name: str, fig_id: str, wide: str, narrow: str | None, caption: str) -> str:
    """Wrap a wide and a narrow SVG of one figure in a ``<figure>`` with one caption.

    The two sit side by side in the HTML; ``review.css`` shows the narrow one on phones and
    the wide one elsewhere (and in print). The narrow SVG must use ids ending ``-n`` (build it
    with ``Svg(f"{fig_id}-n")``), so that ids stay unique on the page. With ``narrow`` None the
    figure has one layout that suits every width, and this is :func:`figure_html`.
    """
    if narrow is None:
        return figure_html(name, fig_id, wide, caption)
    body = (
        f'<div class="review-figure__variant review-figure__variant--wide">\n{wide}\n</div>\n'
        f'<div class="review-figure__variant review-figure__variant--narrow">\n{narrow}\n</div>'
    )
    return figure_html(name, fig_id, body, caption)


def table_cell(value: Any) -> str:
    """Return a table cell from data: escaped, or an em dash when empty."""
    return esc(value) if value not in (None, "") else "—"


def data_table(summary: str, headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Return a collapsible Markdown table; cells must already be escaped (:func:`table_cell`)."""
    lines = [
        '<details class="review-figure-data" markdown="1">',
        f"<summary>{esc(summary)}</summary>",
        "",
        "| " + " | ".join(esc(h) for h in headers) + " |",
        "| " + " | ".join("---" for _ in headers) + " |",
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
        "</details>",
    ]
    return "\n".join(lines)


def html_block(*parts: str) -> str:
    """Join blocks with blank lines around each, so each is its own Markdown block."""
    return "\n\n" + "\n\n".join(p for p in parts if p) + "\n\n"


def empty_figure(message: str) -> str:
    """Return an italic note in place of a figure that has no data."""
    return f"\n\n*{esc(message)}*\n\n"
