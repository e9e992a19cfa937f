"""The whole review as one PDF, made from the pages of the built site.

The PDF is printed from the HTML the website serves (``site/``), not from the Markdown, so the
two cannot drift apart: the same citation numbers, tables and figures. :func:`build_pdf` reads
the built pages in reading order (navigation pages from ``mkdocs.yml``, then the study records
as an appendix), keeps only the article of each page, and combines them into one print
document: a cover, a table of contents, numbered sections, the appendix and one bibliography
(the References page) at the end. WeasyPrint renders it with the stylesheet in
``templates/pdf/``.

What the combination does to each page, and why:

* Theme chrome (header, navigation, footer, search) is never read: only
  ``article.md-content__inner``. Scripts, forms, embedded frames, ``<link>``/``<style>``
  elements, permalinks (``a.headerlink``) and edit buttons are removed; nothing interactive
  works on paper, and nothing in a page may restyle the PDF or pull in a resource.
* Element ids are made unique across pages (``<page slug>--<id>``) and links between pages
  become links inside the PDF (``../methods/#search`` -> ``#methods--search``; a link to a
  page goes to its section). Citation links keep their numbers and point at the single
  bibliography (``../references/#ref-KEY`` -> ``#ref-KEY``); each page's own reference list
  is dropped, because the bibliography at the end lists every entry once.
* Links to files of the site that are not pages (downloads) cannot work offline; they are
  made absolute when ``site_url`` is configured and otherwise removed with their paragraph.
* Figures stay inline ``<svg>`` (vector graphics in the PDF). Their text is set in the PDF's
  sans-serif font (their own font stack names system fonts), and an inline ``height: auto``
  is dropped, because WeasyPrint lays such an SVG out as a square.

WeasyPrint fetches through :class:`SiteFetcher`, which serves only regular files inside the
build output (and the DejaVu font files named in the stylesheet) and refuses everything else:
``http:``, ``https:``, ``data:``, paths outside the site, ``..`` segments and symlinks that
leave it. A refused URL is logged by name and the build goes on without it.

Output is reproducible: the same site and ``SOURCE_DATE_EPOCH`` give the same bytes. The
creation and modification dates come from ``SOURCE_DATE_EPOCH`` (default: the commit time of
``HEAD``, else a fixed date), the PDF ``/ID`` is derived from the title, and nothing depends on
the clock, on dictionary order or on the machine's locale.

This module does not import MkDocs: it needs only the built site and ``mkdocs.yml``.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import os
import re
import subprocess
import time
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import url2pathname

import jinja2
import tinyhtml5
import yaml
from markupsafe import Markup
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .bibliography import MONTH_NAMES
from .citing import REFERENCES_URL
from .history import review_version
from .pages import STUDY_DIR
from .releases import read_citation

log = logging.getLogger("livingreview.pdf")

#: Where the print template and stylesheet live.
TEMPLATES = Path(__file__).parent / "templates" / "pdf"
#: Name of the PDF in the built site (the "Download PDF" link points here).
PDF_NAME = "review.pdf"
#: CSS ``@page`` sizes by ``--paper`` option.
PAPER_SIZES = {"a4": "A4", "letter": "letter"}
#: Used when ``SOURCE_DATE_EPOCH`` is unset and there is no git commit: 1980-01-01T00:00:00Z,
#: the earliest date a ZIP file can hold and the usual fixed date of reproducible builds.
FALLBACK_EPOCH = 315532800

#: DejaVu faces (Debian's fonts-dejavu-core has the upright ones, fonts-dejavu-extra the
#: italics): (CSS family, weight, style) -> file name.
FONT_FILES: Mapping[tuple[str, str, str], str] = {
    ("Review Serif", "normal", "normal"): "DejaVuSerif.ttf",
    ("Review Serif", "bold", "normal"): "DejaVuSerif-Bold.ttf",
    ("Review Serif", "normal", "italic"): "DejaVuSerif-Italic.ttf",
    ("Review Serif", "bold", "italic"): "DejaVuSerif-BoldItalic.ttf",
    ("Review Sans", "normal", "normal"): "DejaVuSans.ttf",
    ("Review Sans", "bold", "normal"): "DejaVuSans-Bold.ttf",
    ("Review Sans", "normal", "italic"): "DejaVuSans-Oblique.ttf",
    ("Review Sans", "bold", "italic"): "DejaVuSans-BoldOblique.ttf",
    ("Review Mono", "normal", "normal"): "DejaVuSansMono.ttf",
    ("Review Mono", "bold", "normal"): "DejaVuSansMono-Bold.ttf",
}
#: Where font files are looked for (Debian installs DejaVu in the first).
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
#: Font of the text in figures (their own stack names system fonts the PDF should not use).
SVG_FONT = "'Review Sans', 'DejaVu Sans', sans-serif"

_SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
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
#: Classes of elements dropped: permalinks, edit buttons, Material widgets.
_DROP_CLASSES = frozenset(
    {"headerlink", "md-content__button", "md-source-file", "md-feedback", "md-top"}
)
#: Attributes holding space-separated id references.
_IDREF_ATTRS = (
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
_AUTO_HEIGHT = re.compile(r"(?:^|(?<=;))\s*height\s*:\s*auto\s*(?:;|$)", re.IGNORECASE)
_URL_REF = re.compile(r"url\(\s*(['\"]?)#([^'\")]+)\1\s*\)")
_ARTICLE = re.compile(r"<article\b[^>]*\bmd-content__inner\b[^>]*>")
#: Ids the print template itself uses (document.html.jinja).
_TEMPLATE_IDS = frozenset({"contents", "appendix"})
#: Links to other sites that stay links in the PDF.
_LINK_SCHEMES = frozenset({"http", "https", "mailto"})
#: A host no real link can have: used to resolve site-relative links with urljoin.
_BASE = "https://pdf.invalid/"


class PdfError(Exception):
    """A problem that stops the PDF build; the message is one line for the reader."""


class RefusedURL(ValueError):
    """A URL the fetcher will not serve (a ``ValueError``, which WeasyPrint reports)."""


# --- Configuration and metadata -------------------------------------------------------------


class _ConfigLoader(yaml.SafeLoader):
    """Safe YAML loader that reads tagged values (``!ENV``, ``!!python/name:``) as plain data.

    ``mkdocs.yml`` may use MkDocs-specific tags; the PDF needs only plain keys, and must never
    construct Python objects from configuration.
    """


def _plain(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


_ConfigLoader.add_multi_constructor("!", _plain)
_ConfigLoader.add_multi_constructor("tag:yaml.org,2002:python/", _plain)


def load_config(path: Path) -> dict[str, Any]:
    """Return ``mkdocs.yml`` as plain data.

    Raises:
        PdfError: The file is missing or is not a YAML mapping.
    """
    try:
        # _ConfigLoader is a SafeLoader subclass (custom tags read as plain values).
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_ConfigLoader)  # SafeLoader
    except OSError as exc:
        raise PdfError(f"cannot read {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise PdfError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise PdfError(f"{path}: expected a mapping of settings")
    return data


def _src_to_url(src: str) -> str:
    """Return the directory URL MkDocs gives a Markdown source (``use_directory_urls``)."""
    stem = src[: -len(".md")] if src.endswith(".md") else src
    if stem == "index":
        return ""
    if stem.endswith("/index"):
        return stem[: -len("index")]
    return stem + "/"


def nav_entries(config: Mapping[str, Any]) -> list[tuple[str | None, str]]:
    """Return (title, URL) of every page in the navigation, in order (sections flattened).

    External links in the navigation are skipped. Without ``nav``, MkDocs orders pages itself;
    the caller then falls back to the pages found in the site.
    """
    out: list[tuple[str | None, str]] = []

    def walk(items: Any) -> None:
        for item in items if isinstance(items, list) else [items]:
            if isinstance(item, str):
                if "://" not in item:
                    out.append((None, _src_to_url(item)))
            elif isinstance(item, dict):
                for title, value in item.items():
                    if isinstance(value, str):
                        if "://" not in value:
                            out.append((str(title), _src_to_url(value)))
                    else:
                        walk(value)

    walk(config.get("nav") or [])
    return out


def source_date_epoch(root: Path, environ: Mapping[str, str] | None = None) -> int:
    """Return the build time: ``SOURCE_DATE_EPOCH``, else the commit time of ``HEAD``.

    Falls back to :data:`FALLBACK_EPOCH` outside a git checkout, so two runs always agree.

    Raises:
        PdfError: ``SOURCE_DATE_EPOCH`` is set but is not a whole number of seconds.
    """
    env = os.environ if environ is None else environ
    value = env.get("SOURCE_DATE_EPOCH", "").strip()
    if value:
        if not value.isdigit():
            raise PdfError(f"SOURCE_DATE_EPOCH must be whole seconds since 1970, not {value!r}")
        return int(value)
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "log", "-1", "--format=%ct", "HEAD"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return FALLBACK_EPOCH
    stamp = result.stdout.strip()
    return int(stamp) if result.returncode == 0 and stamp.isdigit() else FALLBACK_EPOCH


def _read_cff(root: Path) -> dict[str, Any]:
    path = root / "CITATION.cff"
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise PdfError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    return data if isinstance(data, dict) else {}


def _read_pyproject(root: Path) -> dict[str, Any]:
    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PdfError(f"{path}: not valid TOML ({exc})") from None
    project = data.get("project")
    return project if isinstance(project, dict) else {}


def _cff_author(author: Any) -> str:
    if not isinstance(author, dict):
        return str(author)
    if author.get("name"):
        return str(author["name"])
    parts = [author.get("given-names"), author.get("name-particle"), author.get("family-names")]
    return " ".join(str(p) for p in parts if p)


def format_date(moment: datetime) -> str:
    """Return a date as ``21 November 2026`` (English month names, whatever the locale)."""
    return f"{moment.day} {MONTH_NAMES[moment.month - 1]} {moment.year}"


@dataclass(frozen=True)
class Metadata:
    """What the cover and the PDF's document information say about the review.

    Attributes:
        title: Document title (``site_name``).
        authors: Authors (``CITATION.cff``, else ``site_author``).
        description: Subject line (``site_description``, else the CFF abstract).
        keywords: Keywords (CFF, else ``pyproject.toml``, else ``extra.review.keywords``).
        lang: Language tag of the text (``theme.language``).
        version: Review version (CFF ``version``, else ``pyproject.toml``), if any.
        epoch: ``SOURCE_DATE_EPOCH``: the date of this version.
        url: Where the review lives online (``site_url``, CFF ``url`` or ``repo_url``).
        notice: Licence and disclaimer line (``copyright``).
        cite_title: Title in the citation (CFF ``title``, else :attr:`title`).
        released: Release date of the version (CFF ``date-released``), ``YYYY-MM-DD``.
        doi: The review's DOI (CFF ``doi``), if it has one.
    """

    title: str
    authors: tuple[str, ...]
    description: str
    keywords: tuple[str, ...]
    lang: str
    version: str | None
    epoch: int
    url: str = ""
    notice: str = ""
    cite_title: str = ""
    released: str = ""
    doi: str = ""

    @property
    def moment(self) -> datetime:
        """The version date as an aware UTC datetime."""
        return datetime.fromtimestamp(self.epoch, tz=UTC)

    @property
    def date(self) -> str:
        """The version date for readers."""
        return format_date(self.moment)

    @property
    def iso_date(self) -> str:
        """The version date in W3C date-time format (for ``dcterms.created``)."""
        return self.moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def citation(self) -> str:
        """How to cite this version of the review."""
        parts = [", ".join(self.authors) or "Anonymous", self.cite_title or self.title]
        if self.version:
            released = f" (released {self.released})" if self.released else ""
            parts.append(f"Version {self.version}{released}")
        parts.append(self.date)
        text = ". ".join(p.rstrip(".") for p in parts) + "."
        if self.doi:
            text += f" doi:{self.doi}"
        return f"{text} {self.url}" if self.url else text


def review_metadata(config: Mapping[str, Any], root: Path, epoch: int) -> Metadata:
    """Return the review's metadata from ``mkdocs.yml``, ``CITATION.cff`` and ``pyproject.toml``.

    Raises:
        PdfError: ``CITATION.cff`` or ``pyproject.toml`` cannot be parsed.
    """
    cff = _read_cff(root)
    project = _read_pyproject(root)
    review = (config.get("extra") or {}).get("review") or {}
    title = str(config.get("site_name") or cff.get("title") or project.get("name") or "Review")
    authors = tuple(_cff_author(a) for a in cff.get("authors") or [])
    if not authors and config.get("site_author"):
        authors = (str(config["site_author"]),)
    description = " ".join(str(config.get("site_description") or cff.get("abstract") or "").split())
    keywords = cff.get("keywords") or project.get("keywords") or review.get("keywords") or []
    if not keywords:
        keywords = ["living evidence review", title]
    # One reader for the version (CFF, else pyproject.toml), kept as written: "1.10" not 1.1.
    version = review_version(root)
    cited = read_citation(root)
    theme = config.get("theme") or {}
    lang = str((theme.get("language") if isinstance(theme, dict) else None) or "en")
    url = str(config.get("site_url") or cff.get("url") or config.get("repo_url") or "").strip()
    return Metadata(
        title=title,
        authors=authors,
        description=description,
        keywords=tuple(str(k) for k in keywords),
        lang=lang,
        version=version or None,
        epoch=epoch,
        url=url,
        notice=" ".join(str(config.get("copyright") or "").split()),
        cite_title=str(cff.get("title") or ""),
        released=cited.date_released,
        doi=cited.doi,
    )


# --- Fetching -------------------------------------------------------------------------------


def find_fonts(dirs: Iterable[Path] = FONT_DIRS) -> dict[tuple[str, str, str], Path]:
    """Return the DejaVu font files found, by face (files are searched, never downloaded)."""
    wanted = {name: face for face, name in FONT_FILES.items()}
    found: dict[tuple[str, str, str], Path] = {}
    for folder in dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("DejaVu*.ttf")):
            face = wanted.get(path.name)
            if face is not None and face not in found and path.is_file():
                found[face] = path.resolve()
    return found


def check_url(url: str, site_dir: Path, extra_files: Iterable[Path] = ()) -> Path:
    """Return the local file a URL names, if the PDF may read it.

    Allowed: ``file:`` URLs of regular files inside ``site_dir`` (after resolving symlinks),
    and the exact files in ``extra_files`` (fonts).

    Raises:
        RefusedURL: Any other URL: another scheme (``http``, ``https``, ``data``, ...), a
            remote host, a ``..`` segment, a path outside the site or a missing file.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme != "file":
        raise RefusedURL(f"{scheme or 'relative'} URLs are not fetched")
    if parts.netloc not in ("", "localhost"):
        raise RefusedURL("file URLs on another host are not fetched")
    raw = unquote(parts.path)
    if any(segment == ".." for segment in re.split(r"[/\\]", raw)):
        raise RefusedURL("'..' in a path is not followed")
    path = Path(url2pathname(parts.path))
    if not path.is_absolute():
        raise RefusedURL("relative file path")
    try:
        real = path.resolve()  # follows every symlink, so a link cannot lead outside
    except (OSError, RuntimeError):
        raise RefusedURL("unresolvable path") from None
    root = site_dir.resolve()
    if not real.is_relative_to(root) and real not in {Path(p).resolve() for p in extra_files}:
        raise RefusedURL(f"outside the build output {root}")
    if not real.is_file():
        raise RefusedURL("no such file")
    return real


class SiteFetcher(URLFetcher):
    """WeasyPrint URL fetcher that serves only the build output (and the PDF's fonts).

    Every refusal is logged once per URL, as a warning naming it; WeasyPrint then renders the
    document without the resource.

    Attributes:
        site_dir: The build output.
        extra_files: Files outside it that may be read (the DejaVu fonts).
        refused: URLs refused so far, in order.
    """

    def __init__(self, site_dir: Path, extra_files: Iterable[Path] = ()) -> None:
        super().__init__(allowed_protocols=("file",), allow_redirects=False)
        self.site_dir = site_dir.resolve()
        self.extra_files = tuple(Path(p).resolve() for p in extra_files)
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        """Return the file behind ``url``; raise :class:`RefusedURL` for anything else."""
        try:
            path = check_url(url, self.site_dir, self.extra_files)
        except RefusedURL as exc:
            if url not in self.refused:
                self.refused.append(url)
                log.warning("refused to fetch %s: %s", _shorten(url), exc)
            raise
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            path.as_uri(), body=path.read_bytes(), headers={"Content-Type": mime}
        )


class _QuietRefusals(logging.Filter):
    """Drops WeasyPrint's report of a resource the fetcher refused (already logged by name)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return RefusedURL.__name__ not in record.getMessage()


def _shorten(url: str, limit: int = 200) -> str:
    """Return a URL short enough for one log line (``data:`` URLs can be megabytes)."""
    return url if len(url) <= limit else url[:limit] + "..."


# --- HTML: parsing, editing, serialising ----------------------------------------------------


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _is_svg(el: ET.Element) -> bool:
    return el.tag.startswith("{" + _SVG_NS + "}")


def _is_html(el: ET.Element, *names: str) -> bool:
    return isinstance(el.tag, str) and not el.tag.startswith("{") and el.tag in names


def _classes(el: ET.Element) -> set[str]:
    return set(el.get("class", "").split())


def _text(el: ET.Element) -> str:
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
    name = _local(el.tag)
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


def _parents(root: ET.Element) -> dict[ET.Element, ET.Element]:
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


def _unwrap(parent: ET.Element, el: ET.Element) -> None:
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


def _css_string(text: str) -> str:
    """Return text as a CSS string literal (for inline ``bookmark-label``/``string-set``)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = re.sub(r"[\n\r\f]", " ", escaped)
    return f'"{escaped}"'


# --- Pages and the combined document --------------------------------------------------------


@dataclass
class Page:
    """One built page as it goes into the PDF.

    Attributes:
        url: Site URL of the page (``methods/``; ``""`` for the home page).
        path: Its built HTML file.
        title: Label in the table of contents, bookmarks and running header.
        kind: ``chapter`` (navigation page), ``study`` (appendix) or ``bibliography``.
        slug: Section id, and prefix of every id from the page.
        number: Section number shown in headings (``3``, ``A.11``); empty when unnumbered.
        article: The page's article, edited in place into the section.
        ids: Old id -> new id for the page's elements.
        headings: (level, number, text, id) of headings for the table of contents.
    """

    url: str
    path: Path
    title: str
    kind: str
    slug: str = ""
    number: str = ""
    article: ET.Element | None = None
    ids: dict[str, str] = field(default_factory=dict)
    headings: list[tuple[int, str, str, str]] = field(default_factory=list)

    @property
    def file_uri(self) -> str:
        """``file:`` URL of the built page (base for its relative resource URLs)."""
        return self.path.resolve().as_uri()


def _slug(url: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", url.strip("/")).strip("-")
    return slug or "home"


def _page_file(site_dir: Path, url: str) -> Path:
    return site_dir / url / "index.html" if url else site_dir / "index.html"


def discover_pages(site_dir: Path, config: Mapping[str, Any]) -> list[Page]:
    """Return the pages of the PDF in reading order (the bibliography last).

    Navigation pages come from ``nav`` in ``mkdocs.yml`` (without ``nav``: the home page, then
    every other top-level page by URL); the References page becomes the bibliography; the
    study records (``studies/<id>/``) follow as the appendix, by id.

    Raises:
        PdfError: A page of the navigation is missing from the build.
    """
    entries = nav_entries(config)
    if not entries:
        entries = [(None, "")] + [
            (None, f"{p.parent.name}/")
            for p in sorted(site_dir.glob("*/index.html"))
            if p.parent.name not in {"search", "assets"}
        ]
    pages: list[Page] = []
    bibliography: Page | None = None
    seen: set[str] = set()
    for title, url in entries:
        if url in seen:
            continue
        seen.add(url)
        path = _page_file(site_dir, url)
        if not path.is_file():
            raise PdfError(f"{path} is missing; run mkdocs build first")
        page = Page(url=url, path=path, title=title or "", kind="chapter")
        if url == REFERENCES_URL:
            page.kind = "bibliography"
            bibliography = page
        else:
            pages.append(page)
    studies_dir = site_dir / STUDY_DIR
    if studies_dir.is_dir():
        for path in sorted(studies_dir.glob("*/index.html")):
            url = f"{STUDY_DIR}/{path.parent.name}/"
            if url not in seen:
                seen.add(url)
                pages.append(Page(url=url, path=path, title="", kind="study"))
    if bibliography is not None:
        pages.append(bibliography)
    return pages


@dataclass
class Combiner:
    """Turns the built pages into the sections of one print document.

    Attributes:
        pages: The pages, in reading order (see :func:`discover_pages`).
        site_url: ``site_url`` from ``mkdocs.yml``: where non-page links are made absolute.
    """

    pages: list[Page]
    site_url: str = ""
    _by_url: dict[str, Page] = field(default_factory=dict)
    _used: set[str] = field(default_factory=set)

    def prepare(self) -> None:
        """Parse every page, strip it and give its ids their PDF-wide names."""
        self._by_url = {page.url: page for page in self.pages}
        self._used.update(_TEMPLATE_IDS)
        for page in self.pages:
            page.slug = self._unique(_slug(page.url))
        chapter = study = 0
        for page in self.pages:
            text = page.path.read_text(encoding="utf-8")
            page.article = parse_article(text, str(page.path))
            _strip(
                page.article,
                keep_references=page.kind == "bibliography",
                keep_downloads=bool(self.site_url),
            )
            heading = page.article.find(".//h1")
            if not page.title:
                page.title = _text(heading) if heading is not None else page.url
            if page.kind == "chapter":
                chapter += 1
                page.number = str(chapter)
            elif page.kind == "study":
                study += 1
                page.number = f"A.{study}"
            self._rename_ids(page)

    def _unique(self, wanted: str) -> str:
        new, n = wanted, 2
        while new in self._used:
            new, n = f"{wanted}-{n}", n + 1
        self._used.add(new)
        return new

    def _rename_ids(self, page: Page) -> None:
        assert page.article is not None
        for el in page.article.iter():
            if not isinstance(el.tag, str) or "id" not in el.attrib:
                continue
            old = el.attrib["id"]
            # Reference entries keep their ids: citations point at #ref-KEY in the PDF too.
            keep = page.kind == "bibliography" and old.startswith("ref-")
            new = self._unique(old if keep else f"{page.slug}--{old}")
            page.ids.setdefault(old, new)
            el.set("id", new)

    def section(self, page: Page) -> str:
        """Return a page's section of the print document (links rewritten, headings numbered)."""
        assert page.article is not None
        article = page.article
        self._rewrite(page)
        if page.kind == "study":
            _demote(article)
        self._headings(page)
        article.tag = "section"
        article.attrib.clear()
        article.set("id", page.slug)
        article.set("class", f"pdf-{page.kind}")
        article.tail = "\n"
        return serialize(article)

    # Links and references ------------------------------------------------------------------

    def _anchor(self, page: Page, fragment: str) -> str:
        return page.ids.get(fragment, page.slug) if fragment else page.slug

    def link(self, href: str, page: Page) -> str | None:
        """Return what a link in ``page`` points to in the PDF, or None to drop the link."""
        href = href.strip()
        if href.startswith("#"):
            return "#" + self._anchor(page, unquote(href[1:]))
        parts = urlsplit(href)
        if parts.scheme:
            return href if parts.scheme.lower() in _LINK_SCHEMES else None
        if href.startswith("//"):
            return "https:" + href
        target_url = urlsplit(urljoin(_BASE + page.url, href))
        path = target_url.path.lstrip("/")
        if path.endswith("index.html"):
            path = path[: -len("index.html")]
        target = self._by_url.get(path) or self._by_url.get(path + "/")
        if target is None:
            if self.site_url and path:
                return urljoin(self.site_url.rstrip("/") + "/", _href_path(target_url))
            return None
        return "#" + self._anchor(target, unquote(target_url.fragment))

    def _resource(self, src: str, page: Page) -> str:
        """Return a resource URL made absolute (``file:`` inside the site for relative ones)."""
        src = src.strip()
        if src.startswith("//"):
            return "https:" + src
        if urlsplit(src).scheme:
            return src  # refused by the fetcher unless it is a file in the site
        return urljoin(page.file_uri, src)

    def _rewrite(self, page: Page) -> None:
        assert page.article is not None
        parents = _parents(page.article)
        unwrap: list[ET.Element] = []
        for el in page.article.iter():
            if not isinstance(el.tag, str):
                continue
            name = _local(el.tag)
            svg = _is_svg(el)
            for attr in ("href", _XLINK_HREF):
                value = el.get(attr)
                if value is None:
                    continue
                if value.startswith("#") and svg and name != "a":
                    el.set(attr, "#" + page.ids.get(unquote(value[1:]), value[1:]))
                elif name in ("a", "area"):
                    new = self.link(value, page)
                    if new is not None:
                        el.set(attr, new)
                    elif svg:
                        del el.attrib[attr]
                    else:
                        unwrap.append(el)
                elif svg:
                    el.set(attr, self._resource(value, page))
            if name == "img" and el.get("src") is not None:
                el.set("src", self._resource(el.attrib["src"], page))
            for attr in ("srcset", "sizes", "background", "ping", "target"):
                el.attrib.pop(attr, None)
            if svg and el.get("font-family"):
                el.set("font-family", SVG_FONT)
            if svg and name == "svg" and "height" in el.get("style", ""):
                # WeasyPrint sizes an inline <svg> styled "height: auto" as a square; without
                # it, the viewBox gives the ratio (and the stylesheet limits the width).
                style = _AUTO_HEIGHT.sub("", el.attrib["style"]).strip()
                if style:
                    el.set("style", style)
                else:
                    del el.attrib["style"]
            for attr in _IDREF_ATTRS:
                if el.get(attr):
                    el.set(attr, " ".join(page.ids.get(t, t) for t in el.attrib[attr].split()))
            for attr, value in list(el.attrib.items()):
                if "url(" in value and "#" in value:
                    el.set(attr, _URL_REF.sub(lambda m: self._url_ref(m, page), value))
        for el in reversed(unwrap):
            parent = parents.get(el)
            if parent is not None:
                _unwrap(parent, el)

    @staticmethod
    def _url_ref(match: re.Match[str], page: Page) -> str:
        quote, target = match.group(1), match.group(2)
        return f"url({quote}#{page.ids.get(target, target)}{quote})"

    # Headings ------------------------------------------------------------------------------

    def _headings(self, page: Page) -> None:
        """Number a page's headings and mark them for bookmarks and running headers."""
        assert page.article is not None
        top = "h2" if page.kind == "study" else "h1"
        title = next(page.article.iter(top), None)
        if title is None:
            title = ET.Element(top)
            title.text = page.title
            page.article.insert(0, title)
        label = f"{page.number} {page.title}" if page.number else page.title
        level = 2 if page.kind == "study" else 1
        running = label if page.kind == "study" else page.title
        style = (
            f"bookmark-level: {level}; bookmark-label: {_css_string(label)}; "
            f"string-set: chapter {_css_string(running)}"
        )
        title.set("style", style)
        title.set("class", (title.get("class", "") + " pdf-title").strip())
        _number(title, page.number)
        page.headings.append((level, page.number, page.title, page.slug))
        if page.kind != "chapter":
            return
        for count, heading in enumerate(page.article.iter("h2"), start=1):
            number = f"{page.number}.{count}"
            text = _text(heading)
            _number(heading, number)
            heading.set("style", "bookmark-level: 2")
            page.headings.append((2, number, text, heading.get("id") or page.slug))


def _href_path(parts: Any) -> str:
    """Return path, query and fragment of a split URL, without scheme and host."""
    text = parts.path.lstrip("/")
    if parts.query:
        text += "?" + parts.query
    if parts.fragment:
        text += "#" + parts.fragment
    return text


def _number(heading: ET.Element, number: str) -> None:
    """Put a section number in front of a heading's text."""
    if not number:
        return
    span = ET.Element("span", {"class": "pdf-number"})
    span.text = number
    span.tail = heading.text
    heading.text = None
    heading.insert(0, span)
    span.tail = " " + (span.tail or "").lstrip()


def _demote(article: ET.Element) -> None:
    """Lower every heading one level (a study's title becomes a heading of the appendix)."""
    for el in article.iter():
        if _is_html(el, "h1", "h2", "h3", "h4", "h5"):
            el.tag = f"h{int(el.tag[1]) + 1}"


def _strip(article: ET.Element, *, keep_references: bool, keep_downloads: bool) -> None:
    """Remove what has no place on paper, and each page's own reference list.

    Args:
        article: The page's article, edited in place.
        keep_references: Keep the reference list (the bibliography page).
        keep_downloads: Keep download links (they can be made absolute with ``site_url``).
    """
    parents = _parents(article)
    doomed: list[ET.Element] = []
    for el in article.iter():
        if not isinstance(el.tag, str):
            continue
        name = _local(el.tag)
        foreign = el.tag.startswith("{")
        if (not foreign and name in _DROP) or (foreign and name == "script"):
            url = el.get("href") or el.get("src") or el.get("data") or ""
            if url.startswith("//") or urlsplit(url).scheme:
                # Removing a page's own script is routine; an outside resource is news.
                log.warning("removed <%s> of %s from the PDF", name, _shorten(url))
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
    parents = _parents(article)
    for el in list(article.iter("a")):
        if "download" in el.attrib:
            block = el
            while block in parents and not _is_html(block, "p", "li"):
                block = parents[block]
            parent = parents.get(block)
            if parent is not None and block in list(parent):
                _remove(parent, block)


@dataclass(frozen=True)
class Build:
    """Result of one PDF build.

    Attributes:
        path: The PDF written.
        pages: Number of PDF pages.
        sections: Number of site pages combined.
        seconds: Wall time of the whole build.
        size: File size in bytes.
        refused: URLs the fetcher refused.
    """

    path: Path
    pages: int
    sections: int
    seconds: float
    size: int
    refused: tuple[str, ...]


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _font_faces(fonts: Mapping[tuple[str, str, str], Path]) -> str:
    rules = []
    for (family, weight, style), path in sorted(fonts.items()):
        rules.append(
            f'@font-face {{ font-family: "{family}"; font-weight: {weight}; '
            f'font-style: {style}; src: url("{path.as_uri()}"); }}'
        )
    return "\n".join(rules)


def combine(
    site_dir: Path,
    config: Mapping[str, Any],
    meta: Metadata,
    *,
    paper: str = "a4",
    fonts: Mapping[tuple[str, str, str], Path] | None = None,
) -> tuple[str, list[Page]]:
    """Return the print document (HTML) of the whole review, and its pages.

    Raises:
        PdfError: A page is missing or is not a Material page; the paper size is unknown.
    """
    if paper not in PAPER_SIZES:
        raise PdfError(f"unknown paper size {paper!r}; use one of {', '.join(PAPER_SIZES)}")
    pages = discover_pages(site_dir, config)
    combiner = Combiner(pages, site_url=str(config.get("site_url") or ""))
    combiner.prepare()
    sections = {page.url: Markup(combiner.section(page)) for page in pages}
    for page in pages:
        page.article = None  # the trees are serialised; free them before layout
    env = _environment()
    css = (TEMPLATES / "review.css").read_text(encoding="utf-8")
    document = env.get_template("document.html.jinja").render(
        meta=meta,
        page_size=PAPER_SIZES[paper],
        font_faces=Markup(_font_faces(fonts or {})),
        css=Markup(css),
        chapters=[p for p in pages if p.kind == "chapter"],
        studies=[p for p in pages if p.kind == "study"],
        bibliography=next((p for p in pages if p.kind == "bibliography"), None),
        sections=sections,
        generator="livingreview PDF (WeasyPrint)",
    )
    return document, pages


def check_site(site_dir: Path) -> None:
    """Raise :class:`PdfError` unless ``site_dir`` holds a built site."""
    if not site_dir.is_dir() or not any(site_dir.iterdir()):
        raise PdfError(f"{site_dir} is missing or empty; run mkdocs build first")
    if not (site_dir / "index.html").is_file():
        raise PdfError(f"{site_dir}/index.html is missing; run mkdocs build first")


def build_pdf(
    site_dir: Path,
    *,
    config_path: Path,
    output: Path | None = None,
    paper: str = "a4",
    epoch: int | None = None,
    keep_html: Path | None = None,
    tagged: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Build:
    """Build the PDF of the review from a built site.

    Args:
        site_dir: The build output (``site/``); the PDF is written into it by default.
        config_path: ``mkdocs.yml``; its folder holds ``CITATION.cff``/``pyproject.toml``.
        output: Where to write the PDF (default ``site_dir/review.pdf``).
        paper: ``a4`` or ``letter``.
        epoch: ``SOURCE_DATE_EPOCH``; default from the environment, git or a fixed date.
        keep_html: Also write the combined print document here (for debugging the layout).
        tagged: Write a tagged PDF (structure for screen readers; about 10% slower, 50%
            larger and 15% more memory, so off by default).
        progress: Called with one line per stage.

    Raises:
        PdfError: The site is missing or incomplete, or an input cannot be read.
    """
    from weasyprint import HTML  # heavy import: only when a PDF is actually made

    say = progress or (lambda _line: None)
    started = time.perf_counter()
    check_site(site_dir)
    config = load_config(config_path)
    root = config_path.resolve().parent
    if epoch is None:
        epoch = source_date_epoch(root)
    meta = review_metadata(config, root, epoch)
    fonts = find_fonts()
    if not fonts:
        log.warning("DejaVu fonts not found (install fonts-dejavu-core); using system fonts")
    document, pages = combine(site_dir, config, meta, paper=paper, fonts=fonts)
    say(f"combined {len(pages)} pages of {site_dir} ({time.perf_counter() - started:.1f} s)")
    if keep_html is not None:
        keep_html.write_text(document, encoding="utf-8")
    fetcher = SiteFetcher(site_dir, extra_files=fonts.values())
    quiet = _QuietRefusals()
    weasyprint_log = logging.getLogger("weasyprint")
    weasyprint_log.addFilter(quiet)
    target = output or site_dir / PDF_NAME
    partial = target.with_name(target.name + ".partial")
    # The first /ID entry names the document across versions; the second (a hash of the
    # bytes) is added by pydyf. Neither depends on the clock, so builds are reproducible.
    identifier = hashlib.sha256(meta.title.encode("utf-8")).hexdigest()[:32].encode("ascii")
    try:
        rendered = HTML(
            string=document,
            base_url=_page_file(site_dir, "").resolve().as_uri(),
            url_fetcher=fetcher,
        ).render(pdf_tags=tagged)
        count = len(rendered.pages)
        say(f"laid out {count} PDF pages ({time.perf_counter() - started:.1f} s)")
        # Written beside the target and renamed: a failed build never leaves half a PDF.
        rendered.write_pdf(partial, pdf_identifier=identifier, pdf_tags=tagged)
        os.replace(partial, target)
    finally:
        weasyprint_log.removeFilter(quiet)
        partial.unlink(missing_ok=True)
    seconds = time.perf_counter() - started
    return Build(
        path=target,
        pages=count,
        sections=len(pages),
        seconds=seconds,
        size=target.stat().st_size,
        refused=tuple(fetcher.refused),
    )
