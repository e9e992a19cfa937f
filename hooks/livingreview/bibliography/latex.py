"""LaTeX to Unicode for field values, and BibTeX names split into CSL name parts."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from bibtexparser.middlewares.names import (
    NameParts,
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from pylatexenc import latex2text, latexwalker
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec
from pylatexenc.macrospec import MacroSpec


def matching_brace(text: str, start: int) -> int:
    """Index of the ``}`` closing the ``{`` at ``start`` (or the end, if unbalanced)."""
    depth = 0
    i = start
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2  # \{ and \} do not count, as in bibtexparser's splitter.
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(text)


# --------------------------------------------------------------------------------------------
# LaTeX -> Unicode
# --------------------------------------------------------------------------------------------

#: Values without a control sequence or math need no LaTeX parser: only grouping braces,
#: ties and the dash and quote ligatures, which :data:`_LIGATURES` handles the way
#: pylatexenc does (checked on every such value of HEPML.bib).
_NEEDS_LATEX_RE = re.compile(r"[\\$]")
_LIGATURES = (
    ("---", "\N{EM DASH}"),
    ("--", "\N{EN DASH}"),
    ("~", "\N{NO-BREAK SPACE}"),
    ("``", "\N{LEFT DOUBLE QUOTATION MARK}"),
    ("''", "\N{RIGHT DOUBLE QUOTATION MARK}"),
    ("!`", "\N{INVERTED EXCLAMATION MARK}"),
    ("?`", "\N{INVERTED QUESTION MARK}"),
    # Braces go last: "-{}-" is two hyphens, not an en dash, for pylatexenc as for TeX.
    ("{", ""),
    ("}", ""),
)
_BARE_PERCENT_RE = re.compile(r"(?<!\\)%")
SPACES_RE = re.compile(r"[ \t\r\n]+")
_CONTROL_WORD_RE = re.compile(r"\\[A-Za-z]+\*?|\\.")


class _LatexDecoder:
    """pylatexenc's LaTeX -> text conversion, configured for bibliography fields."""

    def __init__(self) -> None:
        one_arg = ["url", "nolinkurl", "path", "doi", "noopsort", "slashed", "texttt", "mbox"]
        walker_db = latexwalker.get_default_latex_context_db()
        walker_db.add_context_category(
            "livingreview-bibtex",
            prepend=True,
            macros=[MacroSpec(name, "{") for name in one_arg] + [MacroSpec("href", "{{")],
        )
        text_db = latex2text.get_default_latex_context_db()
        keep_argument = ["texttt", "textsf", "textup", "textmd", "textsl", "mbox", "fbox"]
        text_db.add_context_category(
            "livingreview-bibtex",
            prepend=True,
            macros=[MacroTextSpec(name, "%s") for name in keep_argument]
            + [
                MacroTextSpec("url", "%s"),  # not "<url>", as pylatexenc renders it
                MacroTextSpec("nolinkurl", "%s"),
                MacroTextSpec("path", "%s"),
                MacroTextSpec("doi", "%s"),
                MacroTextSpec("href", simplify_repl=_href_text),
                # \noopsort{x} only steers BibTeX's sorting; its argument is never printed.
                MacroTextSpec("noopsort", ""),
                MacroTextSpec("textless", "<"),
                MacroTextSpec("textgreater", ">"),
                MacroTextSpec("textasciicircum", "^"),
                MacroTextSpec("textasciitilde", "~"),
                MacroTextSpec("LaTeX", "LaTeX"),
                MacroTextSpec("TeX", "TeX"),
                MacroTextSpec("slashed", "%s\N{COMBINING LONG SOLIDUS OVERLAY}"),
            ],
        )
        self._walker_db = walker_db
        # math_mode="text": "$p_T$" becomes "p_T" and "$\mu$" becomes "μ"; a reference list
        # must not show raw LaTeX, and there is no math renderer behind it.
        self._to_text = LatexNodes2Text(
            latex_context=text_db, math_mode="text", keep_braced_groups=False
        )

    def decode(self, latex: str) -> str:
        """Return the text of ``latex`` (may raise on input pylatexenc cannot handle)."""
        walker = latexwalker.LatexWalker(
            latex, latex_context=self._walker_db, tolerant_parsing=True
        )
        nodes = walker.get_latex_nodes()[0]
        return self._to_text.nodelist_to_text(nodes)


def _href_text(node: Any, l2tobj: Any = None, **_: Any) -> str:
    r"""``\href{url}{text}`` -> ``text`` (or the URL when the text argument is missing)."""
    args = [a for a in (node.nodeargd.argnlist if node.nodeargd else []) if a is not None]
    return l2tobj.nodelist_to_text([args[-1]]) if args and l2tobj is not None else ""


@functools.cache
def _decoder() -> _LatexDecoder:
    # Built on first use: the pylatexenc contexts take a while, and many files need none.
    return _LatexDecoder()


@functools.lru_cache(maxsize=1 << 16)
def decode_latex(value: str) -> tuple[str, str]:
    """Decode one field's LaTeX to Unicode text with collapsed whitespace.

    Returns:
        The text, and an error message ("" when decoding worked). On error the text is a
        crude fallback with control words and braces removed.
    """
    if not _NEEDS_LATEX_RE.search(value):
        text = value
        for ligature, replacement in _LIGATURES:
            text = text.replace(ligature, replacement)
        return SPACES_RE.sub(" ", text).strip(), ""
    # In a .bib value "%" is a character, not a comment: without this, "100% of" would lose
    # everything after the "%".
    latex = _BARE_PERCENT_RE.sub(r"\\%", value)
    try:
        text = _decoder().decode(latex)
        error = ""
    except Exception as exc:  # pylatexenc raises assorted errors on bad input
        text = _CONTROL_WORD_RE.sub("", value).replace("{", "").replace("}", "")
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return SPACES_RE.sub(" ", text).strip(), error


_URL_MACRO_RE = re.compile(r"\\(?:url|nolinkurl|path|doi)\s*\{([^{}]*)\}")
_VERBATIM_ESCAPE_RE = re.compile(r"\\([_%&#$~{}])")


def decode_problem(error: str) -> str:
    """Return the problem message for a field whose LaTeX could not be decoded."""
    return (
        f"could not decode the LaTeX in this field ({error}); it is shown with the markup stripped"
    )


def clean_verbatim(value: str, *, keep_spaces: bool) -> str:
    r"""Clean a DOI, URL or identifier without LaTeX decoding.

    ``\url{...}`` wrappers and the escapes people add for BibTeX's sake (``\_``, ``\%``,
    ``\&``, ``\#``) are undone; braces and other backslashes are dropped, since no DOI or URL
    in a reference list legitimately contains them.
    """
    text = _URL_MACRO_RE.sub(r"\1", value)
    text = _VERBATIM_ESCAPE_RE.sub(r"\1", text)
    text = text.replace("{", "").replace("}", "").replace("\\", "")
    if keep_spaces:
        return SPACES_RE.sub(" ", text).strip()
    return SPACES_RE.sub("", text)


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------


@dataclass
class _Names:
    """A parsed name field.

    Attributes:
        persons: CSL name dicts.
        others: Whether the list ended in ``and others``.
        text: The decoded field text, names joined by `` and ``.
        errors: Problem messages.
    """

    persons: list[dict[str, str]] = field(default_factory=list)
    others: bool = False
    text: str = ""
    errors: list[str] = field(default_factory=list)


def parse_names(latex: str) -> _Names:
    """Split a BibTeX name list into CSL names.

    Args:
        latex: The undecoded field value (braces matter: ``{World Health Organization}`` is
            one literal name, not a family name "Organization").

    Returns:
        The names. The field's text is decoded name by name: names recur across entries
        (and hit the decoding cache), whole author lists do not.
    """
    result = _Names()
    persons = result.persons
    errors = result.errors
    texts: list[str] = []
    for raw_name in split_multiple_persons_names(latex):
        name = raw_name.strip()
        if not name:
            continue
        text, error = decode_latex(name)
        texts.append(text)
        if error:
            errors.append(decode_problem(error))
        if name.lower() == "others":
            result.others = True
            continue
        if _is_braced_whole(name):
            literal, _ = decode_latex(name[1:-1])
            if literal:
                persons.append({"literal": literal})
            continue
        try:
            parts = parse_single_name_into_parts(name, strict=False)
        except Exception as exc:  # report, keep the name as a literal
            errors.append(f"cannot split the name '{name}' into parts: {exc}")
            literal, _ = decode_latex(name)
            persons.append({"literal": literal})
            continue
        persons.append(_csl_person(parts))
    result.text = " and ".join(texts)
    return result


def _csl_person(parts: NameParts) -> dict[str, str]:
    person: dict[str, str] = {}
    for csl_key, words in (
        ("family", parts.last),
        ("given", parts.first),
        # Pandoc's rule: BibTeX's "von" part is a dropping particle ("da Silva, U." is listed
        # as "Silva U da" in styles that invert names), as CSL's default demotion gives.
        ("dropping-particle", parts.von),
        ("suffix", parts.jr),
    ):
        if words:
            text, _ = decode_latex(" ".join(words))
            if text:
                person[csl_key] = text
    if "family" not in person:
        # "{}, Jr" and similar leave no family name; CSL needs one to print anything.
        text = " ".join(person.pop(k) for k in ("given", "dropping-particle") if k in person)
        person = {"literal": text} if text else {}
    return person


def _is_braced_whole(text: str) -> bool:
    """Whether ``text`` is one ``{...}`` group (a corporate or literal name)."""
    return text.startswith("{") and text.endswith("}") and matching_brace(text, 0) == len(text) - 1
