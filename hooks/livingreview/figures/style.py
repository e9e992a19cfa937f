"""Visual vocabulary shared by figures.

Design colours and shapes, risk-of-bias judgements, labels and links.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from urllib.parse import quote

from ..model import Catalog, Study
from ..pages import study_src
from ..render import relative_src
from .svg import Svg, esc, slug

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
class Judgement:
    """How a risk-of-bias judgement is shown: label, symbol and colour."""

    label: str
    symbol: str
    fill: str
    ink: str


#: How each risk-of-bias judgement is drawn: label, symbol, fill and symbol colour. Fills are
#: fixed mid-tones with a contrasting symbol, so they read the same in both colour schemes.
JUDGEMENTS: Mapping[str, Judgement] = MappingProxyType(
    {
        "low": Judgement("Low risk", "+", "#3FAE49", "#000000"),
        "some-concerns": Judgement("Some concerns", "−", "#F2C12E", "#000000"),
        "moderate": Judgement("Moderate risk", "−", "#F2C12E", "#000000"),
        "high": Judgement("High risk", "×", "#E8524A", "#000000"),
        "serious": Judgement("Serious risk", "×", "#E8524A", "#000000"),
        "critical": Judgement("Critical risk", "!", "#8B1A1A", "#FFFFFF"),
        "no-information": Judgement("No information", "?", "#7FB2E5", "#000000"),
        "yes": Judgement("Yes", "Y", "#3FAE49", "#000000"),
        "no": Judgement("No", "N", "#E8524A", "#000000"),
        "unclear": Judgement("Unclear", "?", "#F2C12E", "#000000"),
        "not-applicable": Judgement("Not applicable", "NA", "#D0D0D0", "#000000"),
    }
)
NOT_ASSESSED = "Not assessed"


def term_label(catalog: Catalog, vocab: str, term_id: str, short: bool = False) -> str:
    """Return a vocabulary term's label (its short label if asked), or the id if unknown."""
    try:
        term = catalog.vocab(vocab)[term_id]
    except KeyError:
        return term_id
    return (term.abbreviation or term.label) if short else term.label


def study_link(study: Study, page_src: str) -> str:
    # Validated ids are [a-z0-9-]; quoting keeps anything else from breaking the link syntax.
    """Return a Markdown link from ``page_src`` to the study's page."""
    target = quote(relative_src(study_src(study.id), page_src), safe="/.-_~")
    return f"[{esc(study.label)}]({target})"


def _design_style(catalog: Catalog, design: str) -> tuple[str, str]:
    """Return the (colour, shape) of a design, stable across figures (designs.yaml order)."""
    ids = catalog.vocab("designs").ids()
    if design not in ids:
        return "#777777", "circle"
    index = ids.index(design)
    return _DESIGN_COLOURS[index % len(_DESIGN_COLOURS)], _SHAPES[index % len(_SHAPES)]


def design_marker(svg: Svg, catalog: Catalog, design: str, cx: float, cy: float) -> None:
    """Draw a design's marker (colour and shape), outlined in the text colour."""
    colour, shape = _design_style(catalog, design)
    style = {
        "fill": colour,
        "stroke": "currentColor",
        "stroke_width": 0.8,
        "class_": f"rf-design rf-design-{slug(design)}",
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
