"""Locator terms and locator parsing, after pandoc-citeproc's Text.Pandoc.Citeproc.Locator."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

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

#: Labels a locator may carry: every label above, and CSL's ``timestamp``, which has no term.
LOCATOR_LABELS = frozenset(LOCATOR_TERMS) | {"timestamp"}

#: Short forms spelled out where CSL abbreviates: AMA writes "table 2", not "tbl. 2".
_SPELLED_OUT = frozenset({"table"})


def locator_abbreviation(label: str, plural: bool = False) -> str:
    """Return the short term written before a locator of ``label`` (``p.``, ``pp.``, ``chap.``).

    The one table of locator terms: the citation parser reads these forms and the formatter
    writes them. A label without a short form (``act``, ``timestamp``) is written as is.
    """
    terms = LOCATOR_TERMS.get(label)
    if not terms:
        return label
    if len(terms) < 4 or label in _SPELLED_OUT:
        return terms[1] if plural else terms[0]
    return terms[3] if plural else terms[2]


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


def parse_locator(text: str) -> tuple[str, str, str]:
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
