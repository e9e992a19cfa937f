"""Citations in one page's Markdown.

The data types and the public functions that find, list and replace them.
"""

from __future__ import annotations

from collections.abc import Callable

from .items import Citation
from .masking import mask_markdown
from .scanner import CitationScanner


def find_citations(markdown: str) -> list[Citation]:
    """Return every citation in ``markdown``, in source order.

    Args:
        markdown: One page's Markdown source.

    Returns:
        The citations, ordered by ``start``; they never overlap.
    """
    masked = mask_markdown(markdown)
    return CitationScanner(markdown, masked).scan()


def replace_citations(
    markdown: str,
    render: Callable[[Citation], str],
    citations: list[Citation] | None = None,
) -> str:
    """Replace each citation with ``render(citation)``.

    Args:
        markdown: One page's Markdown source.
        render: Called once per citation, in source order; returns its replacement text.
        citations: ``find_citations(markdown)`` if the caller already has it (parsing a page
            is the costly part, and the build parses each page once to number citations).

    Returns:
        The Markdown with every citation replaced; everything else is unchanged byte-for-byte.
    """
    parts: list[str] = []
    pos = 0
    for citation in find_citations(markdown) if citations is None else citations:
        parts.append(markdown[pos : citation.start])
        parts.append(render(citation))
        pos = citation.end
    parts.append(markdown[pos:])
    return "".join(parts)


def cited_keys(markdown: str) -> list[str]:
    """Return the keys cited in ``markdown``, in order of first appearance, without duplicates."""
    seen: dict[str, None] = {}
    for citation in find_citations(markdown):
        for item in citation.items:
            seen.setdefault(item.key, None)
    return list(seen)
