"""Editing the HTML of built pages: parsing articles, serializing, numbering, stripping chrome."""

from __future__ import annotations

import ipaddress
import re
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlsplit

import tinyhtml5

from .errors import PdfError, log
from .fetcher import shorten_url

#: Font of the text in figures (their own stack names system fonts the PDF should not use).
SVG_FONT = "'Review Sans', 'DejaVu Sans', sans-serif"

_SVG_NS = "http://www.w3.org/2000/svg"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_ATTR_PREFIXES = {
    "http://www.w3.org/1999/xlink": "xlink",
    "http://www.w3.org/XML/1998/namespace": "xml",
    "http://www.w3.org/2000/xmlns/": "xmlns",
}
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta"}
    | {"param", "source", "track", "wbr"}
)
#: HTML elements dropped with their content: interactive, embedding or styling elements.
_DROP = frozenset(
    {"script", "noscript", "style", "link", "meta", "base", "template", "dialog"}
    | {"iframe", "frame", "frameset", "object", "embed", "applet", "portal"}
    | {"form", "input", "button", "select", "textarea"}
    | {"video", "audio", "canvas", "source", "track"}
)
#: Classes of elements dropped: permalinks, edit buttons, Material widgets, and the narrow
#: layout of a figure that has one (paper prints the wide layout; see ROUND3's figure contract).
_DROP_CLASSES = frozenset(
    {"headerlink", "md-content__button", "md-source-file", "md-feedback", "md-top"}
    | {"review-figure__variant--narrow"}
)
#: Attributes holding space-separated id references.
IDREF_ATTRS = (
    "aria-labelledby",
    "aria-describedby",
    "aria-controls",
    "aria-owns",
    "aria-details",
    "aria-flowto",
    "aria-activedescendant",
    "headers",
    "for",
    "list",
)
AUTO_HEIGHT = re.compile(r"(?:^|(?<=;))\s*height\s*:\s*auto\s*(?:;|$)", re.IGNORECASE)
URL_REF = re.compile(r"url\(\s*(['\"]?)#([^'\")]+)\1\s*\)")
_ARTICLE = re.compile(r"<article\b[^>]*\bmd-content__inner\b[^>]*>")


# --- HTML: parsing, editing, serialising ----------------------------------------------------


def local_name(tag: str) -> str:
    """Return an element tag without its namespace."""
    return tag.rpartition("}")[2]


def is_svg(el: ET.Element) -> bool:
    """Return whether the element is in the SVG namespace."""
    return el.tag.startswith("{" + _SVG_NS + "}")


def _is_html(el: ET.Element, *names: str) -> bool:
    return isinstance(el.tag, str) and not el.tag.startswith("{") and el.tag in names


def _classes(el: ET.Element) -> set[str]:
    return set(el.get("class", "").split())


def element_text(el: ET.Element) -> str:
    """Return the element's text with whitespace collapsed."""
    return " ".join("".join(el.itertext()).split())


def _attr_name(key: str) -> str:
    if not key.startswith("{"):
        return key
    namespace, _, local = key[1:].partition("}")
    prefix = _ATTR_PREFIXES.get(namespace)
    if prefix == "xmlns":
        return "xmlns" if local == "xmlns" else f"xmlns:{local}"
    return f"{prefix}:{local}" if prefix else local


def _escape(text: str, *, quote: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if quote else text


def serialize(el: ET.Element) -> str:
    """Return an element parsed by ``tinyhtml5`` as HTML that parses back to the same tree.

    SVG and MathML keep their case (``viewBox``) and prefixed attributes (``xlink:href``);
    void elements get no end tag; comments are dropped.
    """
    out: list[str] = []
    _write(el, out)
    return "".join(out)


def _write(el: ET.Element, out: list[str]) -> None:
    if not isinstance(el.tag, str):  # comment or processing instruction
        if el.tail:
            out.append(_escape(el.tail))
        return
    foreign = el.tag.startswith("{")
    name = local_name(el.tag)
    attrs = "".join(f' {_attr_name(k)}="{_escape(v, quote=True)}"' for k, v in el.attrib.items())
    out.append(f"<{name}{attrs}>")
    if foreign or name not in _VOID:
        if el.text:
            text = el.text if (not foreign and name in ("style", "script")) else _escape(el.text)
            # The parser drops one newline right after <pre>; keep a leading newline intact.
            if not foreign and name in ("pre", "textarea", "listing") and text.startswith("\n"):
                text = "\n" + text
            out.append(text)
        for child in el:
            _write(child, out)
        out.append(f"</{name}>")
    if el.tail:
        out.append(_escape(el.tail))


def parent_map(root: ET.Element) -> dict[ET.Element, ET.Element]:
    """Return a map from each element under ``root`` to its parent."""
    return {child: parent for parent in root.iter() for child in parent}


def _add_text(parent: ET.Element, index: int, text: str | None) -> None:
    """Append text where child ``index`` of ``parent`` begins (after its previous sibling)."""
    if not text:
        return
    if index > 0:
        previous = parent[index - 1]
        previous.tail = (previous.tail or "") + text
    else:
        parent.text = (parent.text or "") + text


def _remove(parent: ET.Element, el: ET.Element) -> None:
    """Remove an element but keep the text that follows it."""
    index = list(parent).index(el)
    parent.remove(el)
    _add_text(parent, index, el.tail)


def unwrap_element(parent: ET.Element, el: ET.Element) -> None:
    """Replace an element by its content (text and children)."""
    index = list(parent).index(el)
    children = list(el)
    parent.remove(el)
    _add_text(parent, index, el.text)
    for offset, child in enumerate(children):
        parent.insert(index + offset, child)
    _add_text(parent, index + len(children), el.tail)


def parse_article(text: str, where: str) -> ET.Element:
    """Return the ``article.md-content__inner`` of a built page as an element tree.

    Only the article is parsed: the theme's chrome never reaches the PDF.

    Raises:
        PdfError: The page has no such article (not built with mkdocs-material?).
    """
    match = _ARTICLE.search(text)
    end = text.rfind("</article>")
    if match is None or end < match.start():
        raise PdfError(f'{where}: no <article class="md-content__inner"> (built by Material?)')
    fragment = text[match.start() : end + len("</article>")]
    document = tinyhtml5.parse(
        f"<!DOCTYPE html><html><head></head><body>{fragment}</body></html>",
        namespace_html_elements=False,
    )
    article = document.find("body/article")
    if article is None:  # pragma: no cover - the parser always yields the article
        raise PdfError(f"{where}: cannot parse the article")
    return article


def is_local_url(url: str) -> bool:
    """Return whether a URL points at this machine (``mkdocs serve``'s ``127.0.0.1:8000``).

    Such an address means nothing to a reader of the PDF: on their machine it is their own
    computer. Covers ``localhost`` (and ``*.localhost``), the whole ``127.0.0.0/8`` block,
    ``0.0.0.0`` and ``::1``.
    """
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https", "ws", "wss", "ftp"):
        return False
    try:
        host = (parts.hostname or "").rstrip(".").lower()
    except ValueError:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


#: A local address written out in text (the PDF warns about it: see :func:`local_addresses`).
LOCAL_ADDRESS = re.compile(
    r"\b(?:https?://)?(?:localhost|127(?:\.\d{1,3}){3}|0\.0\.0\.0|\[::1\])(?::\d+)?[^\s<>\"]*",
    re.IGNORECASE,
)


def local_addresses(text: str) -> list[str]:
    """Return the local addresses (``http://127.0.0.1:8000/``, ``localhost``) written in text."""
    return [m.group(0).rstrip(".,;:!?)]'") for m in LOCAL_ADDRESS.finditer(text)]


_SVG_TITLE = "{" + _SVG_NS + "}title"
_SVG_DESC = "{" + _SVG_NS + "}desc"


def figure_alt_text(svg: ET.Element, caption: ET.Element | None) -> str:
    """Return the alternative text of a figure's SVG for the tagged PDF.

    WeasyPrint takes a figure's ``Alt`` from the SVG's own ``<title>``. The site's figures
    give their name there and their data in ``<desc>`` (every estimate, count or judgement
    drawn); the PDF's text joins both, so a screen reader gets what the picture shows. A figure
    without either falls back to its caption.
    """
    parts = []
    for tag in (_SVG_TITLE, _SVG_DESC):
        child = svg.find(tag)
        if child is not None:
            text = element_text(child)
            if text:
                parts.append(text if text.endswith((".", ":", "?", "!")) else text + ".")
    if not parts and caption is not None:
        parts.append(element_text(caption))
    return " ".join(parts).strip()


def set_figure_alt_text(svg: ET.Element, text: str) -> None:
    """Make ``text`` the SVG's first ``<title>`` (where WeasyPrint reads alternative text)."""
    title = svg.find(_SVG_TITLE)
    if title is None:
        title = ET.Element(_SVG_TITLE)
        svg.insert(0, title)
    for child in list(title):
        title.remove(child)
    title.text = text


#: A word-like token: letters, digits, underscores, with dots inside (``ClinicalTrials.gov``).
_TOKEN = re.compile(r"\w[\w.]*\w")
#: Class of the spans that keep a word whole (``hyphens: manual`` in the stylesheet).
WHOLE_WORD_CLASS = "pdf-whole"
#: Hyphenation applies only to words at least this long (``hyphenate-limit-chars``).
HYPHENATE_MIN = 10
#: Elements whose text is never hyphenated anyway (the stylesheet says so) or must not change.
_NO_WHOLE = frozenset({"code", "pre", "kbd", "samp", "a", "h1", "h2", "h3", "h4", "h5", "h6"})


def _is_name(token: str) -> bool:
    """Return whether a long token is a name or an identifier rather than an ordinary word.

    Capitalised (``Ragnhildstveit``, ``Participants`` at the start of a sentence), or with
    capitals, digits, dots or underscores inside (``ClinicalTrials.gov``, ``co_interventions``).
    """
    if len(token) < HYPHENATE_MIN:
        return False
    return token[0].isupper() or any(c.isupper() or c.isdigit() or c in "._" for c in token[1:])


def _split_names(text: str) -> list[tuple[str, bool]]:
    """Return text as (segment, is_name) pieces, in order."""
    pieces: list[tuple[str, bool]] = []
    last = 0
    for match in _TOKEN.finditer(text):
        if _is_name(match.group(0)):
            pieces.append((text[last : match.start()], False))
            pieces.append((match.group(0), True))
            last = match.end()
    if not pieces:
        return [(text, False)]
    pieces.append((text[last:], False))
    return pieces


def _whole_spans(pieces: list[tuple[str, bool]]) -> tuple[str, list[ET.Element]]:
    """Return the leading plain text and the spans (with their tails) for split text."""
    lead = pieces[0][0]
    spans: list[ET.Element] = []
    for segment, is_name in pieces[1:]:
        if is_name:
            span = ET.Element("span", {"class": WHOLE_WORD_CLASS})
            span.text = segment
            span.tail = ""
            spans.append(span)
        else:
            spans[-1].tail = (spans[-1].tail or "") + segment
    return lead, spans


def keep_names_whole(root: ET.Element) -> None:
    """Wrap names and identifiers in running text in spans that are never hyphenated.

    The PDF hyphenates long ordinary words; a name split at a line end (``Ragnhildst-veit``,
    ``Clinical-Trials.gov``) reads as a different word. Only words of
    :data:`HYPHENATE_MIN` letters or more can be hyphenated, so only those are wrapped. SVG,
    code and elements that are never hyphenated are left alone.
    """
    skip: set[ET.Element] = set()
    for el in root.iter():
        if isinstance(el.tag, str) and (is_svg(el) or el.tag in _NO_WHOLE):
            skip.update(el.iter())
    for el in list(root.iter()):
        if not isinstance(el.tag, str) or el in skip:
            continue
        if el.text:
            pieces = _split_names(el.text)
            if len(pieces) > 1:
                el.text, spans = _whole_spans(pieces)
                for offset, span in enumerate(spans):
                    el.insert(offset, span)
        for child in list(el):
            if child.tail:
                pieces = _split_names(child.tail)
                if len(pieces) > 1:
                    child.tail, spans = _whole_spans(pieces)
                    index = list(el).index(child)
                    for offset, span in enumerate(spans, start=1):
                        el.insert(index + offset, span)


def css_string(text: str) -> str:
    """Return text as a CSS string literal (for inline ``bookmark-label``/``string-set``)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = re.sub(r"[\n\r\f]", " ", escaped)
    return f'"{escaped}"'


def href_path(parts: Any) -> str:
    """Return path, query and fragment of a split URL, without scheme and host."""
    text = parts.path.lstrip("/")
    if parts.query:
        text += "?" + parts.query
    if parts.fragment:
        text += "#" + parts.fragment
    return text


def number_heading(heading: ET.Element, number: str) -> None:
    """Put a section number in front of a heading's text."""
    if not number:
        return
    span = ET.Element("span", {"class": "pdf-number"})
    span.text = number
    span.tail = heading.text
    heading.text = None
    heading.insert(0, span)
    span.tail = " " + (span.tail or "").lstrip()


def demote_headings(article: ET.Element) -> None:
    """Lower every heading one level (a study's title becomes a heading of the appendix)."""
    for el in article.iter():
        if _is_html(el, "h1", "h2", "h3", "h4", "h5"):
            el.tag = f"h{int(el.tag[1]) + 1}"


def strip_article(article: ET.Element, *, keep_references: bool, keep_downloads: bool) -> None:
    """Remove what has no place on paper, and each page's own reference list.

    Args:
        article: The page's article, edited in place.
        keep_references: Keep the reference list (the bibliography page).
        keep_downloads: Keep download links (they can be made absolute with ``site_url``).
    """
    parents = parent_map(article)
    doomed: list[ET.Element] = []
    for el in article.iter():
        if not isinstance(el.tag, str):
            continue
        name = local_name(el.tag)
        foreign = el.tag.startswith("{")
        if (not foreign and name in _DROP) or (foreign and name == "script"):
            url = el.get("href") or el.get("src") or el.get("data") or ""
            if url.startswith("//") or urlsplit(url).scheme:
                # Removing a page's own script is routine; an outside resource is news.
                log.warning("removed <%s> of %s from the PDF", name, shorten_url(url))
            doomed.append(el)
        elif "hidden" in el.attrib or _classes(el) & _DROP_CLASSES:
            doomed.append(el)
        elif _is_html(el, "ol") and "review-references" in _classes(el) and not keep_references:
            if "review-references--all" not in _classes(el):
                doomed.append(el)
        elif _is_html(el, "h2") and el.get("id") == "references" and not keep_references:
            doomed.append(el)
        elif _is_html(el, "details"):
            el.set("open", "")  # paper cannot be clicked open
    for el in doomed:
        parent = parents.get(el)
        if parent is not None and el in list(parent):
            _remove(parent, el)
    if keep_downloads:
        return
    # Download links cannot work offline; their paragraph says nothing else.
    parents = parent_map(article)
    for el in list(article.iter("a")):
        if "download" in el.attrib:
            block = el
            while block in parents and not _is_html(block, "p", "li"):
                block = parents[block]
            parent = parents.get(block)
            if parent is not None and block in list(parent):
                _remove(parent, block)
