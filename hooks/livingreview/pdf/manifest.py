"""What the PDF is made of: the built pages in reading order, the review's metadata and dates."""

from __future__ import annotations

import re
import subprocess
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from ..bibliography import MONTH_NAMES
from ..citing import REFERENCES_URL
from ..explorer import EXPLORER_URL
from ..history import env_epoch, review_version
from ..manifest import read_manifest, read_settings
from ..pages import STUDY_DIR, study_url
from ..releases import read_citation
from .errors import PdfError, log
from .html import is_local_url

#: Name of the PDF in the built site (the "Download PDF" link points here).
PDF_NAME = "review.pdf"
#: Pages that only work in a browser and have a printed equivalent elsewhere in the PDF: the
#: study explorer (a table to filter and sort by clicking; on paper, the study index and the
#: appendix of records hold the same studies).
WEB_ONLY_URLS = frozenset({EXPLORER_URL})
#: Used when ``SOURCE_DATE_EPOCH`` is unset and there is no git commit: 1980-01-01T00:00:00Z,
#: the earliest date a ZIP file can hold and the usual fixed date of reproducible builds.
FALLBACK_EPOCH = 315532800


# --- Configuration and metadata -------------------------------------------------------------


class ConfigLoader(yaml.SafeLoader):
    """Safe YAML loader that reads tagged values (``!ENV``, ``!!python/name:``) as plain data.

    ``mkdocs.yml`` may use MkDocs-specific tags; the PDF needs only plain keys, and must never
    construct Python objects from configuration.
    """


def plain_value(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
    """Construct a tagged YAML node as the plain scalar, sequence or mapping it holds."""
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


def load_config(path: Path) -> dict[str, Any]:
    """Return ``mkdocs.yml`` as plain data.

    Raises:
        PdfError: The file is missing or is not a YAML mapping.
    """
    try:
        # ConfigLoader is a SafeLoader subclass (custom tags read as plain values).
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=ConfigLoader)  # SafeLoader
    except OSError as exc:
        raise PdfError(f"cannot read {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise PdfError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise PdfError(f"{path}: expected a mapping of settings")
    return data


def site_config(site_dir: Path, config_path: Path) -> dict[str, Any]:
    """Return the site settings the PDF uses: the build's, from its manifest.

    A site built without the manifest (by plain MkDocs) falls back to ``mkdocs.yml``, which is
    then the only thing read from ``config_path``.

    Raises:
        PdfError: The manifest is not one the build wrote, or ``mkdocs.yml`` cannot be read.
    """
    try:
        settings = read_settings(site_dir)
    except ValueError as exc:
        raise PdfError(str(exc)) from None
    config = dict(settings if settings is not None else load_config(config_path))
    site_url = str(config.get("site_url") or "")
    if is_local_url(site_url):
        # `mkdocs serve` sets site_url to its own address; on paper it names the reader's
        # computer. The PDF then links to no copy of the site (the cover falls back to the
        # citation file's URL or the repository).
        log.warning(
            "site_url %s is a local address (a site built by mkdocs serve?); "
            "the PDF does not link to it",
            site_url,
        )
        config["site_url"] = None
    return config


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
    try:
        epoch = env_epoch(environ)
    except ValueError as exc:
        raise PdfError(str(exc)) from None
    if epoch is not None:
        return epoch
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
    urls = (config.get("site_url"), cff.get("url"), config.get("repo_url"))
    url = next((str(u).strip() for u in urls if u and not is_local_url(str(u))), "")
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


def page_slug(url: str) -> str:
    """Return the id prefix of a page in the PDF, from its URL."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", url.strip("/")).strip("-")
    return slug or "home"


def page_file(site_dir: Path, url: str) -> Path:
    """Return the built HTML file of the page at ``url``."""
    return site_dir / url / "index.html" if url else site_dir / "index.html"


def discover_pages(site_dir: Path, config: Mapping[str, Any]) -> list[Page]:
    """Return the pages of the PDF in reading order (the bibliography last).

    Navigation pages come from the build's manifest (:data:`..manifest.MANIFEST_FILE`); a site built
    without it (by plain MkDocs) falls back to ``nav`` in ``mkdocs.yml`` and, without ``nav``,
    to the home page, then every other top-level page by URL. The References page becomes the
    bibliography; the study records (``studies/<id>/``) follow as the appendix, by id.

    Raises:
        PdfError: A page of the navigation is missing from the build.
    """
    try:
        entries = read_manifest(site_dir)
    except ValueError as exc:
        raise PdfError(str(exc)) from None
    if entries is None:
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
        if url in seen or url in WEB_ONLY_URLS:
            continue
        seen.add(url)
        path = page_file(site_dir, url)
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
            url = study_url(path.parent.name)
            if url not in seen:
                seen.add(url)
                pages.append(Page(url=url, path=path, title="", kind="study"))
    if bibliography is not None:
        pages.append(bibliography)
    return pages
