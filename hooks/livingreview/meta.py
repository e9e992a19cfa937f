"""Per-page meta descriptions, made inert before a theme template prints them.

A hand-written page gives its description in front matter (``description: ...``); a study
page gets one from its record. MkDocs' Jinja does not autoescape, and Material prints
``page.meta.description`` straight into ``<meta name="description" content="...">``, so a
quote or ``<`` in the text would end the attribute. :func:`inert_description` therefore returns
the text HTML-escaped (quotes included), on one line and within a length limit, and the
adapter stores that in ``page.meta``.
"""

from __future__ import annotations

import html
import re

from .model import Study

#: Longest description kept; search engines show about 160 characters.
MAX_DESCRIPTION = 300
#: Descriptions of the generated pages that are not study pages, by source path.
GENERATED = {
    "studies/index.md": (
        "Every study record in the review of ketamine for eating disorders and PTSD."
    ),
    "references.md": "Every work cited in the review of ketamine for eating disorders and PTSD.",
    "explorer.md": "Filter and sort the studies of ketamine for eating disorders and PTSD.",
    "whats-new.md": "New and corrected records in the living review of ketamine.",
}
_SPACE = re.compile(r"\s+")


def study_description(study: Study, design_label: str) -> str:
    """Return the plain description of a study page: its label and design, as in its title.

    Free text from the record (the summary) stays out of the head: the page title and meta
    hold no more data than the title already does.
    """
    return (
        f"{study.label}, {design_label.lower()}: the study record with participants, ketamine "
        "regimen, outcomes, adverse events and what was verified."
    )


def inert_description(value: object) -> str | None:
    """Return ``value`` as one escaped line of at most ``MAX_DESCRIPTION`` characters.

    Returns:
        The escaped text, or ``None`` when ``value`` is not text (the caller reports it).
    """
    if not isinstance(value, str):
        return None
    text = _SPACE.sub(" ", value).strip()
    if len(text) > MAX_DESCRIPTION:
        text = text[: MAX_DESCRIPTION - 1].rstrip() + "…"
    return html.escape(text, quote=True)
