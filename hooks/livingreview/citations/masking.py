"""Markdown masking.

The ranges where an @ or a marker is never syntax (code, comments, front matter, HTML, links);
shared by citations and markers.
"""

from __future__ import annotations

import re
from functools import lru_cache

import yaml

# --------------------------------------------------------------------------------------------
# Pass 1: protected ranges
# --------------------------------------------------------------------------------------------

# Masks. Block ranges (code blocks, comments, front matter) are masked whole, newlines included,
# so that no bracket can span them; inline ranges keep their newlines so that blank lines, which
# end a bracket, stay visible.
_BLOCK_MASK = "\x00"
_INLINE_MASK = "\x01"
_NOT_NEWLINE = re.compile(r"[^\n]")

# MkDocs' front-matter pattern (mkdocs.utils.meta.YAML_RE), also for CRLF text.
_FRONT_MATTER = re.compile(r"\A-{3}[ \t]*\r?\n(.*?\r?\n)(?:\.{3}|-{3})[ \t]*\r?\n", re.DOTALL)
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


def front_matter_end(text: str) -> int:
    """Return where a page's body starts: after its YAML front matter, else 0.

    The one front-matter rule, MkDocs' own (``mkdocs.utils.meta.get_data``): a block between
    ``---`` lines at the very start that holds a YAML mapping. A page opening with a thematic
    break, or a block that is not a mapping, has none, so nothing is hidden by mistake. The
    block is only composed, never constructed, so aliases cannot expand.
    """
    match = _FRONT_MATTER.match(text)
    if match is None:
        return 0
    try:
        node = yaml.compose(match.group(1), Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return 0
    return match.end() if isinstance(node, yaml.MappingNode) else 0


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


def mask_markdown(text: str) -> str:
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
    front = front_matter_end(text)
    if front:
        ranges.append((0, front))
        pos = front

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
