"""Pandoc citation syntax in Markdown, found without Pandoc.

The review's pages cite studies the way Pandoc does (``[@key]``, ``[see @key, p. 12]``,
``@key [p. 33]``, ...; see https://pandoc.org/MANUAL.html#citation-syntax). This module finds
those citations in one page's Markdown, with their exact offsets, lines and columns, so that the
build can render them and report unknown keys as ``docs/page.md:LINE:COL`` problems.

It works in two passes over the text, both linear:

1. Find the *protected* ranges, where an ``@`` is never a citation: YAML front matter, fenced
   and indented code blocks, HTML comments and raw ``<pre>``-like blocks (a line-based block
   pass), then, between those, code spans, escapes, autolinks, HTML tags and inline links (an
   inline pass). These ranges are masked in a copy of the text of the same length, so every
   offset in the copy is an offset in the original.
2. Scan the masked copy for ``[`` and ``@`` and parse citations there, left to right as Pandoc
   does: a bracket that is not a valid citation is read as text, and the keys inside it may still
   be in-text citations.

Prefixes, suffixes and locators are read from the original text. Locator labels follow
pandoc-citeproc's rules (``Text.Pandoc.Citeproc.Locator``) with the English CSL terms.

Nothing here imports MkDocs.
"""

from __future__ import annotations

from .items import Citation, CiteItem
from .locators import LOCATOR_TERMS
from .masking import protected_ranges
from .syntax import cited_keys, find_citations, replace_citations

__all__ = [
    "LOCATOR_TERMS",
    "Citation",
    "CiteItem",
    "cited_keys",
    "find_citations",
    "protected_ranges",
    "replace_citations",
]
