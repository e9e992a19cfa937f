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
* ``[[claim none condition=eating-disorders diagnosis=BED]]no report is in BED[[/claim]]``: a
  checked claim. The text between the opening and the closing marker is rendered as written;
  the claim itself (see :mod:`livingreview.validate.claims`) is checked against the records,
  and a claim they no longer support is a problem at the opening marker's line. Several
  opening markers with only spaces between them share one text and one closing marker.

Filters: ``condition`` (conditions.yaml id), ``design`` (designs.yaml id), ``kind``
(``primary`` or ``review``), ``group`` (population group). ``participants`` sums ``n`` over
primary studies only unless ``kind=review`` is given, because a review's participants are
those of the studies it pools. Markers inside code spans and code blocks are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from .citations.masking import protected_ranges
from .errors import Problem

MARKER = re.compile(r"\[\[(?P<body>/?[a-z][^\[\]\n]*?)\]\]")
FILTERS = ("condition", "design", "kind", "group")
#: The marker kind whose markers wrap text, and its closing marker.
CLAIM = "claim"
CLAIM_END = "[[/claim]]"
#: Most characters of a claim's text (a claim backs one sentence or clause, not a section).
CLAIM_TEXT_LIMIT = 2000
#: Most words in one marker, and most characters in one of its values.
WORD_LIMIT, VALUE_LIMIT = 40, 400


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
    #: The words after ``what`` as written (claims check their own words).
    words: tuple[str, ...] = ()
    #: A claim's text: what the page says between the opening and the closing marker.
    text: str = ""
    #: ``[[/claim]]``: closes the claims before it; expands to nothing.
    closing: bool = False


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
        body = m.group("body")
        if body.startswith("/"):
            if body.strip() != "/" + CLAIM:
                msg = f"unknown closing marker '{m.group(0)}'; the only one is '{CLAIM_END}'"
                problems.append(Problem(path, line, column, "marker", msg))
                continue
            markers.append(Marker(CLAIM, "", {}, m.start(), m.end(), line, column, closing=True))
            continue
        words = body.split()
        if len(words) < 2:
            problems.append(
                Problem(path, line, column, "marker", f"incomplete marker '{m.group(0)}'")
            )
            continue
        if len(words) > WORD_LIMIT or any(len(w) > VALUE_LIMIT for w in words):
            msg = f"marker too long (at most {WORD_LIMIT} words of {VALUE_LIMIT} characters)"
            problems.append(Problem(path, line, column, "marker", msg))
            continue
        if words[0] == CLAIM:
            # A claim checks its own words (validate/claims.py), which name more fields.
            markers.append(
                Marker(CLAIM, words[1], {}, m.start(), m.end(), line, column, tuple(words[2:]))
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
    return _pair_claims(markdown, markers, path, problems)


def _pair_claims(
    markdown: str, markers: list[Marker], path: str, problems: list[Problem]
) -> tuple[list[Marker], list[Problem]]:
    """Give every opening claim marker its text, up to the next ``[[/claim]]``.

    Opening markers separated only by spaces share the text that follows the last of them.
    A claim's text stays inside one paragraph: a blank line, another marker's claim, or the
    end of the page before the closing marker is a problem at the opening marker.
    """
    out: list[Marker] = []
    pending: list[Marker] = []

    def flush(reason: str) -> None:
        for opener in pending:
            msg = f"'[[claim {opener.what}]]' is not closed by '{CLAIM_END}' {reason}"
            problems.append(Problem(path, opener.line, opener.column, CLAIM, msg))
        pending.clear()

    for marker in markers:
        if marker.kind != CLAIM:
            out.append(marker)
            continue
        if marker.closing:
            if not pending:
                msg = f"'{CLAIM_END}' without an opening '[[claim ...]]' before it"
                problems.append(Problem(path, marker.line, marker.column, CLAIM, msg))
                continue
            start = pending[-1].end
            text = markdown[start : marker.start]
            if not text.strip():
                msg = "a claim must wrap the text it backs: nothing before its closing marker"
                problems.append(Problem(path, pending[0].line, pending[0].column, CLAIM, msg))
            elif "\n\n" in text.replace("\r", "") or len(text) > CLAIM_TEXT_LIMIT:
                flush(
                    "within its paragraph (a claim's text is one sentence or clause, at most "
                    f"{CLAIM_TEXT_LIMIT} characters)"
                )
                out.append(marker)
                continue
            else:
                out.extend(replace(opener, text=text) for opener in pending)
                out.append(marker)
            pending.clear()
            continue
        if pending and markdown[pending[-1].end : marker.start].strip():
            flush("before the next claim opens (claims do not nest)")
        pending.append(marker)
    flush("before the end of the page")
    # Openers join the list when their closer is found, after the markers inside their text.
    return sorted(out, key=lambda m: m.start), problems


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
