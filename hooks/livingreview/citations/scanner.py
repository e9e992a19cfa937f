"""Pass 2: citations found in the masked text, left to right as Pandoc does."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .items import Citation, CiteItem
from .locators import parse_locator

# --------------------------------------------------------------------------------------------
# Pass 2: citations
# --------------------------------------------------------------------------------------------

_CANDIDATE = re.compile(r"[\[@]")
# Bracket contents: no nested brackets, no blank line, no protected block.
_BRACKET_BODY = r"((?:[^\[\]\x00\n]|\n(?![ \t\r]*(?:\n|\Z)))*)"
_BRACKETED = re.compile(r"\[(?!\^)" + _BRACKET_BODY + r"\](?![\[(])")
# A narrative citation's locator: spaces and at most one line break, then [...].
_BARE_LOCATOR = re.compile(r"[ \t]*(?:\r?\n[ \t]*)?\[(?!\^)" + _BRACKET_BODY + r"\](?![\[(])")
# Pandoc's simpleCiteIdentifier: punctuation is kept only between word characters (and ":" or
# "/" before "/", for URL-like keys). "*" (the nocite wildcard) is not accepted in text.
_SIMPLE_KEY = re.compile(r"\w(?:\w|[:.#$%&+?<>~/-](?=\w)|[:/](?=/))*")
_WHITESPACE = re.compile(r"\s+")
# How far back to look for the URL an "@" may belong to.
_URL_LOOKBACK = 2048
# Longest key accepted in "@{...}": bounds the scan when a brace is never closed.
_MAX_BRACED_KEY = 500
_BRACED_KEY = re.compile(
    r"\{(?:[^{}\n\r\x00\x01]|\{(?:[^{}\n\r\x00\x01]|\{[^{}\n\r\x00\x01]*\})*\})*\}"
)


@dataclass(frozen=True)
class _Key:
    """A key found in the masked text: its span (from "-" or "@") and value."""

    start: int
    end: int
    key: str
    suppress_author: bool


class CitationScanner:
    """Parse citations from the masked text, reading values from the original."""

    def __init__(self, text: str, masked: str) -> None:
        self.text = text
        self.masked = masked
        # Line counting state: citations come in order, so lines are counted incrementally.
        self._line = 1
        self._line_pos = 0
        self._line_start = 0

    def scan(self) -> list[Citation]:
        """Return every citation, left to right."""
        out: list[Citation] = []
        pos = 0
        masked = self.masked
        while True:
            candidate = _CANDIDATE.search(masked, pos)
            if candidate is None:
                return out
            at = candidate.start()
            if masked[at] == "[":
                citation = self._bracketed(at)
            else:
                citation = self._narrative(at)
            if citation is None:
                pos = at + 1
            else:
                out.append(citation)
                pos = citation.end

    def _bracketed(self, start: int) -> Citation | None:
        """Parse ``[prefix @key locator suffix; ...]`` at ``start``."""
        match = _BRACKETED.match(self.masked, start)
        if match is None:
            return None
        items = self._items(match.start(1), match.end(1))
        if items is None:
            return None
        return self._citation(tuple(items), False, start, match.end())

    def _narrative(self, at: int) -> Citation | None:
        """Parse ``@key`` (or ``-@key``), optionally followed by ``[locator suffix; ...]``."""
        key = self._key_at(at, 0, len(self.masked))
        if key is None:
            return None
        masked = self.masked
        end = key.end
        items = [CiteItem(key.key, suppress_author=key.suppress_author)]
        bracket = _BARE_LOCATOR.match(masked, key.end)
        if bracket is not None:
            lo, hi = bracket.start(1), bracket.end(1)
            semi = masked.find(";", lo, hi)
            first_end = hi if semi < 0 else semi
            # A bracket whose first part cites something is a citation of its own, not a locator.
            if self._find_key(lo, first_end, hi) is None:
                rest = [] if semi < 0 else self._items(semi + 1, hi)
                if rest is not None:
                    items = [
                        _make_item(key, "", self.text[lo:first_end]),
                        *rest,
                    ]
                    end = bracket.end()
        # "-@key" outside brackets is Pandoc's SuppressAuthor mode: rendered like "[-@key]".
        return self._citation(tuple(items), not key.suppress_author, key.start, end)

    def _items(self, lo: int, hi: int) -> list[CiteItem] | None:
        """Parse the items of bracket contents ``[lo, hi)``; None if one lacks a key.

        Items are separated by ``;``. As an extension, a second key before the next ``;``
        starts a new item (``[@a @b]`` reads as ``[@a; @b]``) so that no cited key is lost.
        """
        key = self._find_key(lo, hi, hi)
        if key is None:
            return None
        items: list[CiteItem] = []
        prefix_start = lo
        while True:
            semi = self.masked.find(";", key.end, hi)
            stop = hi if semi < 0 else semi
            following = self._find_key(key.end, stop, hi)
            if following is not None:
                items.append(
                    _make_item(
                        key,
                        self.text[prefix_start : key.start],
                        self.text[key.end : following.start],
                    )
                )
                prefix_start, key = following.start, following
                continue
            items.append(
                _make_item(key, self.text[prefix_start : key.start], self.text[key.end : stop])
            )
            if semi < 0:
                return items
            prefix_start = semi + 1
            key = self._find_key(prefix_start, hi, hi)
            if key is None:  # "[@a; no key]" is not a citation, as in Pandoc
                return None

    def _find_key(self, lo: int, at_hi: int, hi: int) -> _Key | None:
        """Return the first valid key whose ``@`` is in ``[lo, at_hi)`` and that ends by ``hi``."""
        masked = self.masked
        at = masked.find("@", lo, at_hi)
        while at >= 0:
            key = self._key_at(at, lo, hi)
            if key is not None:
                return key
            at = masked.find("@", at + 1, at_hi)
        return None

    def _key_at(self, at: int, lo: int, hi: int) -> _Key | None:
        """Return the key whose ``@`` is at ``at``, if it is a citation key there."""
        masked = self.masked
        start = at
        suppress = False
        if at - 1 >= lo and masked[at - 1] == "-" and self._not_after_word(at - 1):
            start, suppress = at - 1, True
        elif not self._not_after_word(at):
            return None
        if at + 1 < hi and masked[at + 1] == "{":
            end = _braced_key_end(masked, at + 1, hi)
            key = self.text[at + 2 : end - 1].strip() if end >= 0 else ""
            if not key or self._in_url(start):  # "@{}" cites nothing
                return None
            return _Key(start, end, key, suppress)
        match = _SIMPLE_KEY.match(masked, at + 1, hi)
        if match is None or self._in_url(start):
            return None
        return _Key(start, match.end(), self.text[at + 1 : match.end()], suppress)

    def _not_after_word(self, pos: int) -> bool:
        """Return True unless ``pos`` directly follows a word (``me@x.org``, ``al.@x``).

        Pandoc refuses a citation right after a string of alphanumerics and single periods.
        """
        if pos == 0:
            return True
        before = self.masked[pos - 1]
        if before.isalnum() or before == "_":
            return False
        if before == "." and pos >= 2:
            word = self.masked[pos - 2]
            return not (word.isalnum() or word == "_")
        return True

    def _in_url(self, pos: int) -> bool:
        """Return True when ``pos`` is inside a bare URL (``https://x.org/@user``)."""
        masked = self.masked
        lo = max(0, pos - _URL_LOOKBACK)
        token_start = max(masked.rfind(" ", lo, pos), masked.rfind("\n", lo, pos))
        token_start = max(token_start, masked.rfind("\t", lo, pos)) + 1
        token = masked[max(token_start, lo) : pos]
        return "://" in token or "www." in token

    def _citation(
        self, items: tuple[CiteItem, ...], narrative: bool, start: int, end: int
    ) -> Citation:
        """Build a citation with its 1-based line and column."""
        newlines = self.text.count("\n", self._line_pos, start)
        if newlines:
            self._line += newlines
            self._line_start = self.text.rfind("\n", self._line_pos, start) + 1
        self._line_pos = start
        return Citation(items, narrative, start, end, self._line, start - self._line_start + 1)


def _braced_key_end(masked: str, brace: int, hi: int) -> int:
    """Return the offset after ``@{...}``'s closing brace, or -1.

    Braces inside must balance (up to three levels deep). Unlike Pandoc, spaces are allowed
    (``@{key with anything}``), but not line breaks or protected text, and the key is at most
    ``_MAX_BRACED_KEY`` characters long.
    """
    match = _BRACED_KEY.match(masked, brace, min(hi, brace + _MAX_BRACED_KEY + 2))
    return -1 if match is None else match.end()


def _squash(text: str) -> str:
    """Collapse runs of whitespace (line breaks included) to one space and strip."""
    return _WHITESPACE.sub(" ", text).strip()


def _make_item(key: _Key, prefix: str, rest: str) -> CiteItem:
    """Build an item from its key, the raw text before it and the raw text after it."""
    label, locator, suffix = parse_locator(_squash(rest))
    return CiteItem(
        key=key.key,
        prefix=_squash(prefix),
        locator=locator,
        label=label,
        suffix=suffix,
        suppress_author=key.suppress_author,
    )
