"""The one marker syntax authors use to put computed content into a hand-written page.

A marker is ``[[<kind> <what> key=value ...]]`` on any line of a Markdown page:

* ``[[count studies]]``, ``[[count studies condition=ptsd]]``, ``[[count participants
  condition=eating-disorders]]``, ``[[count designs]]``, ``[[count conditions]]``,
  ``[[count trials]]``: a number computed from the records at build time, so prose never
  disagrees with the data.
* ``[[table characteristics condition=eating-disorders]]``: the characteristics-of-included-
  studies table; ``[[table trials]]``, ``[[table measures]]``; ``[[table safety
  condition=ptsd]]``: adverse events by study.
* ``[[figure prisma]]`` and the other figures (see :mod:`livingreview.figures`).

Filters: ``condition`` (conditions.yaml id), ``design`` (designs.yaml id), ``kind``
(``primary`` or ``review``), ``group`` (population group). ``participants`` sums ``n`` over
primary studies only unless ``kind=review`` is given, because a review's participants are
those of the studies it pools. Markers inside code spans and code blocks are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .citations.masking import protected_ranges
from .errors import Problem

MARKER = re.compile(r"\[\[(?P<body>[a-z][^\[\]\n]*?)\]\]")
FILTERS = ("condition", "design", "kind", "group")


@dataclass(frozen=True)
class Marker:
    """One parsed marker."""

    kind: str
    what: str
    filters: dict[str, str]
    start: int
    end: int
    line: int
    column: int


def find_markers(
    markdown: str, path: str, line_offset: int = 0
) -> tuple[list[Marker], list[Problem]]:
    """Return the markers in a page and problems with malformed ones.

    Args:
        markdown: Page source.
        path: Page path printed in problems (``docs/index.md``).
        line_offset: Lines before ``markdown`` in the file (front matter).
    """
    if "[[" not in markdown:
        return [], []
    protected = protected_ranges(markdown)
    markers: list[Marker] = []
    problems: list[Problem] = []
    for m in MARKER.finditer(markdown):
        if any(a <= m.start() < b for a, b in protected):
            continue
        line = markdown.count("\n", 0, m.start()) + 1 + line_offset
        column = m.start() - (markdown.rfind("\n", 0, m.start()) + 1) + 1
        words = m.group("body").split()
        if len(words) < 2:
            problems.append(
                Problem(path, line, column, "marker", f"incomplete marker '{m.group(0)}'")
            )
            continue
        filters: dict[str, str] = {}
        bad = False
        for word in words[2:]:
            key, eq, value = word.partition("=")
            if not eq or key not in FILTERS or not value:
                allowed = ", ".join(f + "=<id>" for f in FILTERS)
                msg = f"bad filter '{word}' in marker; allowed: {allowed}"
                problems.append(Problem(path, line, column, "marker", msg))
                bad = True
                continue
            filters[key] = value
        if not bad:
            markers.append(Marker(words[0], words[1], filters, m.start(), m.end(), line, column))
    return markers, problems


def expand_markers(
    markdown: str,
    path: str,
    expand: Callable[[Marker], str | None],
    line_offset: int = 0,
) -> tuple[str, list[Problem]]:
    """Replace every marker with ``expand(marker)``; ``None`` means an unknown marker.

    Returns:
        The expanded Markdown and the problems (unknown markers, bad filters).
    """
    markers, problems = find_markers(markdown, path, line_offset)
    if not markers:
        return markdown, problems
    out: list[str] = []
    last = 0
    for marker in markers:
        text = expand(marker)
        if text is None:
            problems.append(
                Problem(
                    path,
                    marker.line,
                    marker.column,
                    "marker",
                    f"unknown marker '[[{marker.kind} {marker.what}]]'; "
                    "see the README for the allowed markers",
                )
            )
            continue
        out.append(markdown[last : marker.start])
        out.append(text)
        last = marker.end
    out.append(markdown[last:])
    return "".join(out), problems
