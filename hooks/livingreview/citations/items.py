"""Parsed citations: one CiteItem per cited key, one Citation per bracket or in-text cite."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CiteItem:
    """One cited work inside a citation.

    Attributes:
        key: The citation key, without ``@`` (and without the braces of ``@{...}``).
        prefix: Text before ``@key`` inside the brackets, whitespace-collapsed (``"see"``).
        locator: The pinpoint, e.g. ``"12"`` or ``"33-35, 38"``; ``""`` when there is none.
        label: CSL locator label (``"page"``, ``"chapter"``, ...); ``""`` when there is no
            locator. A locator with no label is a page.
        suffix: Text after the locator (or after the key), whitespace-collapsed and stripped. A
            comma written before it is kept, as in Pandoc: ``[@a, p. 3, emphasis added]`` has
            suffix ``", emphasis added"``, ``[@a and passim]`` has ``"and passim"``.
        suppress_author: True for ``[-@key]`` (and ``-@key``): show the year/number only.
    """

    key: str
    prefix: str = ""
    locator: str = ""
    label: str = ""
    suffix: str = ""
    suppress_author: bool = False


@dataclass(frozen=True)
class Citation:
    """One citation: a bracketed group ``[...]`` or an in-text ``@key`` (optionally ``[...]``).

    Attributes:
        items: The cited works, in source order.
        narrative: True for an in-text citation (``@key``, ``@key [p. 33]``), rendered like
            "Feder et al. [3]".
        start: Offset of the citation's first character in the Markdown string.
        end: Offset one past its last character, so ``markdown[start:end]`` is its source.
        line: 1-based line of ``start``.
        column: 1-based column of ``start`` (counted in characters).
    """

    items: tuple[CiteItem, ...]
    narrative: bool
    start: int
    end: int
    line: int
    column: int

    @property
    def keys(self) -> tuple[str, ...]:
        """The keys of the items, in source order."""
        return tuple(item.key for item in self.items)
