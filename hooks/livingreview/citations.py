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

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "LOCATOR_TERMS",
    "Citation",
    "CiteItem",
    "cited_keys",
    "find_citations",
    "replace_citations",
]


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


def find_citations(markdown: str) -> list[Citation]:
    """Return every citation in ``markdown``, in source order.

    Args:
        markdown: One page's Markdown source.

    Returns:
        The citations, ordered by ``start``; they never overlap.
    """
    masked = _mask(markdown)
    return _CitationScanner(markdown, masked).scan()


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


# --------------------------------------------------------------------------------------------
# Locator terms
# --------------------------------------------------------------------------------------------

#: CSL locator label -> the English terms (long and short, singular and plural, symbols) that
#: introduce it, as in the en-US CSL locale. Pandoc maps the same terms (matched
#: case-insensitively); ``table``, ``appendix`` and the other CSL 1.0.2 locators are extra.
LOCATOR_TERMS: dict[str, tuple[str, ...]] = {
    "page": ("page", "pages", "p.", "pp."),
    "book": ("book", "books", "bk.", "bks."),
    "chapter": ("chapter", "chapters", "chap.", "chaps."),
    "column": ("column", "columns", "col.", "cols."),
    "figure": ("figure", "figures", "fig.", "figs."),
    "folio": ("folio", "folios", "fol.", "fols."),
    "issue": ("issue", "issues", "no.", "nos."),
    "line": ("line", "lines", "l.", "ll."),
    "note": ("note", "notes", "n.", "nn."),
    "opus": ("opus", "opera", "op.", "opp."),
    "paragraph": ("paragraph", "paragraphs", "para.", "paras.", "¶", "¶¶"),
    "part": ("part", "parts", "pt.", "pts."),
    "section": ("section", "sections", "sec.", "secs.", "§", "§§"),
    "sub-verbo": ("sub verbo", "sub verbis", "s.v.", "s.vv."),
    "verse": ("verse", "verses", "v.", "vv."),
    "volume": ("volume", "volumes", "vol.", "vols."),
    "table": ("table", "tables", "tbl.", "tbls."),
    "appendix": ("appendix", "appendices", "app.", "apps."),
    "article-locator": ("article", "articles", "art.", "arts."),
    "equation": ("equation", "equations", "eq.", "eqq."),
    "supplement": ("supplement", "supplements", "supp.", "supps."),
    "act": ("act", "acts"),
    "canon": ("canon", "canons", "can.", "cann."),
    "elocation": ("location", "locations", "loc.", "locs."),
    "rule": ("rule", "rules", "r.", "rr."),
    "scene": ("scene", "scenes", "sc.", "scs."),
    "title-locator": ("title", "titles", "tit.", "titt."),
}


def _terms_by_initial() -> dict[str, tuple[tuple[str, str], ...]]:
    """Return (casefolded term, label) pairs grouped by initial, longest first.

    Longest first, so that "pages" wins over "page" and "pp." over "p." (Pandoc takes the
    longest label that is followed by a locator); grouped so a suffix tries a few terms only.
    """
    pairs = sorted(
        ((term.casefold(), label) for label, terms in LOCATOR_TERMS.items() for term in terms),
        key=lambda pair: -len(pair[0]),
    )
    groups: dict[str, list[tuple[str, str]]] = {}
    for term, label in pairs:
        groups.setdefault(term[0], []).append((term, label))
    return {initial: tuple(group) for initial, group in groups.items()}


_TERMS = _terms_by_initial()

# --------------------------------------------------------------------------------------------
# Pass 1: protected ranges
# --------------------------------------------------------------------------------------------

# Masks. Block ranges (code blocks, comments, front matter) are masked whole, newlines included,
# so that no bracket can span them; inline ranges keep their newlines so that blank lines, which
# end a bracket, stay visible.
_BLOCK_MASK = "\x00"
_INLINE_MASK = "\x01"
_NOT_NEWLINE = re.compile(r"[^\n]")

# Front matter only counts when it looks like YAML, so that a page opening with a thematic break
# does not hide everything up to the next one.
_FRONT_MATTER = re.compile(
    r"\A---[ \t]*\r?\n(?=[\w\"'-][^\n:]*:(?:[ \t]|\r?\n))"
    r".*?\n(?:---|\.\.\.)[ \t]*\r?(?:\n|\Z)",
    re.DOTALL,
)
_QUOTE_MARKER = re.compile(r"[ ]{0,3}>[ ]?")
_FENCE_OPEN = re.compile(r"(`{3,}|~{3,})(.*)")
_FENCE_CLOSE = re.compile(r"(`{3,}|~{3,})[ \t\r]*\Z")
_ATX_HEADING = re.compile(r"#{1,6}(?:[ \t]|\r?\Z)")
_THEMATIC_BREAK = re.compile(r"(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})\r?\Z")
_LIST_MARKER = re.compile(r"(?:[-+*]|\d{1,9}[.)])(?=[ \t]|\r?\Z)")
# Admonitions, collapsible blocks and content tabs (Material for MkDocs): their bodies are
# indented by four spaces and must not be mistaken for indented code.
_CONTAINER_MARKER = re.compile(r"(?:!!!|\?\?\?\+?)[ \t]+\S|===\+?[ \t]+\"")
_RAW_HTML_OPEN = re.compile(r"<(pre|script|style|textarea)(?=[\s>]|\Z)", re.IGNORECASE)
_REF_DEFINITION = re.compile(
    r"\[(?!\^)(?:\\.|[^\[\]\\])+\]:[ \t]*(?:<[^<>\n]*>|\S+)"
    r"(?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^()\n]*\)))?[ \t\r]*\Z"
)
_BLOCK_START_CHARS = frozenset("`~<#-*+_!?=0123456789")

_INLINE_TOKEN = re.compile(r"\\[!-/:-@\[-`{-~]|`+|<|\[")
_BLANK_LINE = re.compile(r"\n[ \t\r]*(?:\n|\Z)")
_AUTOLINK = re.compile(r"<[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*>|<[^\s<>@]+@[^\s<>]+>")
_HTML_TAG = re.compile(
    r"<(?P<close>/)?(?P<name>[A-Za-z][A-Za-z0-9-]*)"
    r"(?:\s+[A-Za-z_:][\w.:-]*(?:\s*=\s*(?:[^\s\"'=<>`]+|'[^']*'|\"[^\"]*\"))?)*"
    r"\s*(?P<selfclose>/)?>"
)
# Inline elements whose content is code, not Markdown: skipped up to their closing tag.
_RAW_INLINE_TAGS = ("code", "kbd", "samp", "pre", "script", "style", "textarea", "math")
# Footnote references and the labels of footnote definitions ("[^note]" and "[^note]:").
_FOOTNOTE_REF = re.compile(r"\[\^[^\]\s]+\]")
_LINK = re.compile(
    r"""
    \[(?:\\.|[^\[\]\\\n]|\n(?![ \t\r]*\n))*\]           # link text: no nested brackets
    (?:
        \([ \t]*\n?[ \t]*                                 # (destination "title")
        (?:<[^<>\n]*>|[^\s()<>]*(?:\([^\s()]*\)[^\s()<>]*)*)
        (?:\s+(?:"[^"\n]*"|'[^'\n]*'|\([^()\n]*\)))?
        [ \t]*\n?[ \t]*\)
      | \[(?:\\.|[^\[\]\\\n])*\]                        # [text][ref] and [text][]
    )
    """,
    re.VERBOSE,
)


@lru_cache(maxsize=64)
def _backtick_closer(length: int) -> re.Pattern[str]:
    """Return a pattern for a run of exactly ``length`` backticks."""
    return re.compile(rf"(?<!`)`{{{length}}}(?!`)")


@lru_cache(maxsize=16)
def _raw_tag_closer(name: str) -> re.Pattern[str]:
    """Return a pattern for the closing tag ``</name>``."""
    return re.compile(rf"</{name}\s*>", re.IGNORECASE)


def protected_ranges(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) offsets of code blocks, code spans, comments and raw code tags.

    Other Markdown scanners (the ``[[...]]`` markers) use this so that every kind of syntax
    is left alone in exactly the same places as citations.
    """
    return [(start, end) for start, end, _ in _protected(text)]


def _protected(text: str) -> list[tuple[int, int, bool]]:
    ranges: list[tuple[int, int, bool]] = []
    pos = 0
    for start, end in [*_block_ranges(text), (len(text), len(text))]:
        if pos < start:
            ranges.extend((s, e, False) for s, e in _inline_ranges(text, pos, start))
        if start < end:
            ranges.append((start, end, True))
        pos = max(pos, end)
    return ranges


def _mask(text: str) -> str:
    """Return ``text`` with every protected range overwritten, keeping every offset."""
    ranges = _protected(text)
    if not ranges:
        return text
    parts: list[str] = []
    pos = 0
    for start, end, is_block in ranges:
        parts.append(text[pos:start])
        if is_block:
            parts.append(_BLOCK_MASK * (end - start))
        else:
            parts.append(_NOT_NEWLINE.sub(_INLINE_MASK, text[start:end]))
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def _indent(line: str) -> tuple[int, int]:
    """Return the indentation width (tabs to multiples of 4) and the first non-blank index."""
    col = 0
    for i, char in enumerate(line):
        if char == " ":
            col += 1
        elif char == "\t":
            col += 4 - col % 4
        else:
            return col, i
    return col, len(line)


def _strip_quotes(line: str, max_depth: int = 1_000) -> tuple[int, int]:
    """Return the block-quote depth of ``line`` and the offset just after its ``>`` markers."""
    depth = 0
    offset = 0
    while depth < max_depth:
        match = _QUOTE_MARKER.match(line, offset)
        if match is None:
            break
        depth += 1
        offset = match.end()
    return depth, offset


def _opens_fence(stripped: str) -> re.Match[str] | None:
    """Return the fence match when ``stripped`` opens a fenced code block."""
    match = _FENCE_OPEN.match(stripped)
    # A backtick fence's info string cannot contain a backtick (it would be a code span).
    if match is None or (match.group(1)[0] == "`" and "`" in match.group(2)):
        return None
    return match


def _is_block_start(stripped: str) -> bool:
    """Return True when a line can interrupt a paragraph (so it is not a continuation line)."""
    if not stripped or stripped[0] not in _BLOCK_START_CHARS:
        return False
    return bool(
        _opens_fence(stripped)
        or stripped.startswith("<!--")
        or _RAW_HTML_OPEN.match(stripped)
        or _ATX_HEADING.match(stripped)
        or _THEMATIC_BREAK.match(stripped)
        or _LIST_MARKER.match(stripped)
        or _CONTAINER_MARKER.match(stripped)
    )


def _block_ranges(text: str) -> list[tuple[int, int]]:
    """Return the protected block-level ranges of ``text``, sorted and disjoint.

    A simplified CommonMark / Python-Markdown block pass, line by line: front matter, fenced
    code (backticks or tildes, indented up to 3 spaces, in block quotes and list items), indented
    code (4 spaces or a tab more than the enclosing list item or admonition, not continuing a
    paragraph), HTML comments and ``<pre>``/``<script>``/``<style>``/``<textarea>`` blocks that
    start a line, and link reference definitions.
    """
    ranges: list[tuple[int, int]] = []
    n = len(text)
    pos = 0
    front = _FRONT_MATTER.match(text)
    if front is not None:
        ranges.append((0, front.end()))
        pos = front.end()

    # Open list items and admonitions as (marker indent, content indent). The content indent is
    # at least marker + 4 so that Python-Markdown's 4-space continuation paragraphs (which
    # CommonMark would already call code) stay text: missing a citation silently is worse than
    # reading one in rare code.
    containers: list[tuple[int, int]] = []
    prev_para = False  # the previous line was paragraph text, so no indented code may start
    fence: tuple[str, int, int, int] | None = None  # (char, length, base indent, quote depth)
    fence_start = 0
    code_base = -1  # >= 0 while inside an indented code block
    code_start = code_end = 0

    while pos < n:
        newline = text.find("\n", pos)
        line_end = n if newline < 0 else newline
        next_pos = line_end + 1
        line = text[pos:line_end]

        if fence is not None:
            char, length, base, depth = fence
            _, offset = _strip_quotes(line, depth)
            body = line[offset:]
            ind, k = _indent(body)
            close = _FENCE_CLOSE.match(body, k)
            if (
                close is not None
                and close.group(1)[0] == char
                and len(close.group(1)) >= length
                and ind - base <= 3
            ):
                ranges.append((fence_start, line_end))
                fence = None
            pos = next_pos
            continue

        depth, offset = _strip_quotes(line)
        body = line[offset:]
        ind, k = _indent(body)
        stripped = body[k:]
        if not stripped.strip():
            prev_para = False
            pos = next_pos
            continue

        if code_base >= 0:
            if ind >= code_base + 4:
                code_end = line_end
                pos = next_pos
                continue
            ranges.append((code_start, code_end))
            code_base = -1

        if prev_para and not _is_block_start(stripped):
            # A continuation line of the paragraph (possibly lazy): never code, never a block.
            pos = next_pos
            continue

        while containers and containers[-1][0] >= ind:
            containers.pop()
        base = containers[-1][1] if containers else 0
        if ind - base >= 4:
            if not prev_para:
                code_base, code_start, code_end = base, pos, line_end
            pos = next_pos
            continue

        fence_match = _opens_fence(stripped) if stripped[0] in "`~" else None
        if fence_match is not None:
            fence = (fence_match.group(1)[0], len(fence_match.group(1)), base, depth)
            fence_start = pos
            prev_para = False
            pos = next_pos
            continue

        if stripped[0] == "<":
            html_start = pos + offset + k
            html_end = -1
            if stripped.startswith("<!--"):
                close_at = text.find("-->", html_start + 2)
                html_end = n if close_at < 0 else close_at + 3
            else:
                raw = _RAW_HTML_OPEN.match(stripped)
                if raw is not None:
                    closer = _raw_tag_closer(raw.group(1).lower()).search(text, html_start)
                    html_end = n if closer is None else closer.end()
            if html_end >= 0:
                # Protect the HTML itself; text after it on its last line is ordinary text
                # (CommonMark would keep that text raw too, but authors expect it rendered).
                ranges.append((html_start, html_end))
                after = text.find("\n", html_end)
                after_end = n if after < 0 else after
                prev_para = bool(text[html_end:after_end].strip())
                pos = after_end + 1
                continue

        if _ATX_HEADING.match(stripped) or _THEMATIC_BREAK.match(stripped):
            prev_para = False
        elif (marker := _LIST_MARKER.match(stripped)) is not None:
            rest = stripped[marker.end() :]
            spaces = len(rest) - len(rest.lstrip(" \t"))
            width = marker.end() + (spaces if 1 <= spaces <= 4 else 1)
            containers.append((ind, max(ind + width, ind + 4)))
            prev_para = bool(rest.strip())
        elif _CONTAINER_MARKER.match(stripped):
            containers.append((ind, ind + 4))
            prev_para = False
        elif stripped[0] == "[" and _REF_DEFINITION.match(stripped):
            ranges.append((pos + offset + k, line_end))
            prev_para = False
        else:
            prev_para = True
        pos = next_pos

    if fence is not None:  # an unclosed fence runs to the end of the document
        ranges.append((fence_start, n))
    if code_base >= 0:
        ranges.append((code_start, code_end))
    return ranges


def _inline_ranges(text: str, lo: int, hi: int) -> list[tuple[int, int]]:
    """Return the protected inline ranges of ``text[lo:hi]``, sorted and disjoint.

    Code spans (matched as CommonMark does: a run of n backticks up to the next run of exactly n,
    within the paragraph), backslash escapes, HTML comments, autolinks, HTML tags (with the
    content of ``<code>``-like elements), footnote references, and inline or reference links
    with their text.
    """
    out: list[tuple[int, int]] = []
    pos = lo
    para_end = lo - 1
    # Searches that failed cannot succeed later in the same region: remember them, so that many
    # unmatched openers cost one search each instead of one scan of the rest of the text each.
    no_tick_closer: dict[int, int] = {}
    no_comment_end = False
    no_tag_closer: set[str] = set()
    while True:
        token = _INLINE_TOKEN.search(text, pos, hi)
        if token is None:
            return out
        start = token.start()
        char = text[start]

        if char == "\\":
            out.append((start, token.end()))
            pos = token.end()
        elif char == "`":
            if start >= para_end:
                blank = _BLANK_LINE.search(text, start, hi)
                para_end = hi if blank is None else blank.start()
            length = token.end() - start
            closer = None
            if no_tick_closer.get(length) != para_end:
                closer = _backtick_closer(length).search(text, token.end(), para_end)
            if closer is None:
                no_tick_closer[length] = para_end
                pos = token.end()
            else:
                out.append((start, closer.end()))
                pos = closer.end()
        elif text.startswith("<!--", start):
            # "-->" is searched from "<!" so that "<!-->" and "<!--->" end where they start.
            close_at = -1 if no_comment_end else text.find("-->", start + 2, hi)
            if close_at < 0:  # an unclosed comment is text
                no_comment_end = True
                pos = start + 1
            else:
                out.append((start, close_at + 3))
                pos = close_at + 3
        elif char == "<":
            pos = _skip_html(text, start, hi, out, no_tag_closer)
        else:  # "["
            link = _FOOTNOTE_REF.match(text, start, hi) or _LINK.match(text, start, hi)
            if link is not None:
                # The whole link is protected: a citation inside a link's text would nest links.
                out.append((start, link.end()))
                pos = link.end()
            else:
                pos = start + 1


def _skip_html(
    text: str, start: int, hi: int, out: list[tuple[int, int]], no_tag_closer: set[str]
) -> int:
    """Protect the autolink or HTML tag at ``start``; return where to go on."""
    autolink = _AUTOLINK.match(text, start, hi)
    if autolink is not None:
        out.append((start, autolink.end()))
        return autolink.end()
    tag = _HTML_TAG.match(text, start, hi)
    if tag is None:
        return start + 1
    name = tag.group("name").lower()
    end = tag.end()
    if (
        name in _RAW_INLINE_TAGS
        and not tag.group("close")
        and not tag.group("selfclose")
        and name not in no_tag_closer
    ):
        closer = _raw_tag_closer(name).search(text, end, hi)
        if closer is None:
            no_tag_closer.add(name)
        else:
            end = closer.end()
    out.append((start, end))
    return end


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


class _CitationScanner:
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
    label, locator, suffix = _parse_locator(_squash(rest))
    return CiteItem(
        key=key.key,
        prefix=_squash(prefix),
        locator=locator,
        label=label,
        suffix=suffix,
        suppress_author=key.suppress_author,
    )


# --------------------------------------------------------------------------------------------
# Locators (after Text.Pandoc.Citeproc.Locator)
# --------------------------------------------------------------------------------------------

_ROMAN = re.compile(r"(?=[MDCLXVI])M{0,4}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = frozenset(")]}")
_ASCII_DIGITS = frozenset("0123456789")


@lru_cache(maxsize=512)
def _is_punct(char: str) -> bool:
    """Return True for Unicode punctuation (Haskell's ``isPunctuation``)."""
    return unicodedata.category(char).startswith("P")


def _splits_token(char: str) -> bool:
    """Return True where Pandoc splits the suffix into tokens: spaces, punctuation but ``:``."""
    return char.isspace() or (char != ":" and _is_punct(char))


def _ends_unit(char: str) -> bool:
    """Return True for a character that ends a plain page unit (space, most punctuation)."""
    return char.isspace() or (char not in "-\u2013:" and _is_punct(char))


def _has_digit(text: str) -> bool:
    """Return True when ``text`` has an ASCII digit (Haskell's ``isDigit``)."""
    return not _ASCII_DIGITS.isdisjoint(text)


def _unit(text: str, pos: int) -> tuple[int, bool] | None:
    """Parse a page unit (a roman numeral, or a run like ``33-35``): (end, digit-like)."""
    end = pos
    while end < len(text) and not _splits_token(text[end]):
        end += 1
    if end > pos and _ROMAN.fullmatch(text[pos:end].upper()):
        return end, True
    end = pos
    while end < len(text) and not _ends_unit(text[end]):
        end += 1
    if end == pos:
        return None
    return end, _has_digit(text[pos:end])


def _page_sequence(text: str, pos: int) -> tuple[int, bool] | None:
    """Parse units joined by periods (``1.2.3``, but not a trailing ``.``): (end, digit-like)."""
    first = _unit(text, pos)
    if first is None:
        if text.startswith(".", pos):
            return _unit(text, pos + 1)
        return None
    end, digits = first
    while text.startswith(".", end):
        more = _unit(text, end + 1)
        if more is None:
            break
        end, more_digits = more
        digits = digits or more_digits
    return end, digits


def _locator_word(text: str, pos: int, first: bool) -> tuple[int, str, bool] | None:
    """Parse one locator word, e.g. ``33-35``, ``34(1)``, ``, 38``: (end, text, digit-like).

    Words after the first may start with ``,`` or ``;``; any word may start with one space.
    Parenthesised, bracketed or braced parts (one level) belong to the word.
    """
    at = pos
    if not first and at < len(text) and text[at] in ",;":
        at += 1
    if at < len(text) and text[at] == " ":
        at += 1
    start = at
    digits = False
    while at < len(text):
        char = text[at]
        if char in _OPENERS:
            inner = _page_sequence(text, at + 1)
            close_at = at + 1 if inner is None else inner[0]
            if not text.startswith(_OPENERS[char], close_at):
                break
            digits = digits or (inner is not None and inner[1])
            at = close_at + 1
            continue
        if char in _CLOSERS:
            break
        sequence = _page_sequence(text, at)
        if sequence is None:
            break
        at, more_digits = sequence
        digits = digits or more_digits
    if at == start:
        return None
    return at, text[pos:at], digits


def _label_at(text: str, need_locator: bool) -> tuple[str, int] | None:
    """Return the longest locator term at the start of ``text`` and where it ends.

    Args:
        text: Whitespace-collapsed suffix text.
        need_locator: Require a locator word with digits or roman numerals after the term.
    """
    for term, label in _TERMS.get(text[:1].casefold()[:1], ()):
        size = len(term)
        if text[:size].casefold() != term:
            continue
        if size < len(text) and not (_splits_token(text[size]) or _splits_token(text[size - 1])):
            continue  # "pages" is not "page" + "s"
        if need_locator:
            word = _locator_word(text, size, True)
            if word is None or not word[2]:
                continue
        return label, size
    return None


def _parse_locator(text: str) -> tuple[str, str, str]:
    """Split whitespace-collapsed text after a key into (label, locator, suffix).

    Follows pandoc-citeproc: an optional comma, then either ``{label locator}`` (anything in the
    braces; the label defaults to page) or a term such as ``pp.`` followed by words with digits
    or roman numerals, or words with digits alone (a page). Everything after is the suffix.
    """
    if not text:
        return "", "", ""
    rest = text[1:].lstrip() if text.startswith(",") else text
    if rest.startswith("{"):
        close_at = _matching_brace(rest)
        if close_at < 0:
            return "", "", _clean_suffix(text)
        inner = rest[1:close_at].strip()
        term = _label_at(inner, need_locator=False)
        if term is None:
            label, locator = "page", inner
        else:
            label, locator = term[0], inner[term[1] :].strip()
        # "@key{}" is Pandoc's way to say "no locator here": the label goes with it.
        return (label if locator else ""), locator, _clean_suffix(rest[close_at + 1 :])

    found = _label_at(rest, need_locator=True)
    if found is None:
        word = _locator_word(rest, 0, True)
        if word is None or not _has_digit(word[1]):
            return "", "", _clean_suffix(text)
        label, pos = "page", 0
    else:
        label, pos = found
    words: list[str] = []
    first = True
    while True:
        word = _locator_word(rest, pos, first)
        if word is None:
            break
        # Without a term, every word needs real digits; after a term roman numerals do too.
        if not (word[2] if found is not None else _has_digit(word[1])):
            break
        # Unlike Pandoc, a later word that is only a roman numeral must follow a comma, so that
        # "[@a, table 2 CI]" or "[@a, p. 5 MD]" do not read "CI" or "MD" as numbers.
        if not first and not word[1].startswith((",", ";")) and not _has_digit(word[1]):
            break
        words.append(word[1])
        pos = word[0]
        first = False
    return label, "".join(words).strip(), _clean_suffix(rest[pos:])


def _matching_brace(text: str) -> int:
    """Return the index of the ``}`` closing the ``{`` at ``text[0]``, or -1."""
    depth = 0
    for i, char in enumerate(text):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _clean_suffix(text: str) -> str:
    """Strip a suffix; a comma that starts it stays (``[@a, p. 3, emphasis added]``)."""
    return text.strip()
