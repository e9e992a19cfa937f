"""Figures drawn at build time as static, accessible SVG, each with a data table beside it.

A page asks for a figure with a marker on a line of its own: ``[[figure <name> filter=value]]``
(see :mod:`livingreview.markers`). :func:`render_figure` returns Markdown for the names

* ``prisma``: the PRISMA 2020 flow diagram, from ``data/prisma.yaml`` (loaded and checked by
  :mod:`livingreview.validate.prisma`); filters are ignored, the diagram describes the whole review;
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

from .registry import FIGURES, render_figure
from .style import NOT_ASSESSED
from .svg import inert

__all__ = ["FIGURES", "NOT_ASSESSED", "inert", "render_figure"]
