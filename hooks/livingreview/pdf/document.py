"""Combining the built pages into one print document and rendering it with WeasyPrint."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from multiprocessing import get_all_start_methods
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import jinja2
from markupsafe import Markup

from .errors import PdfError, log
from .fetcher import QuietRefusals, SiteFetcher, find_fonts
from .html import (
    AUTO_HEIGHT,
    IDREF_ATTRS,
    SVG_FONT,
    URL_REF,
    XLINK_HREF,
    css_string,
    demote_headings,
    element_text,
    figure_alt_text,
    href_path,
    is_local_url,
    is_svg,
    keep_names_whole,
    local_addresses,
    local_name,
    number_heading,
    parent_map,
    parse_article,
    serialize,
    set_figure_alt_text,
    strip_article,
    unwrap_element,
)
from .manifest import (
    PDF_NAME,
    ConfigLoader,
    Metadata,
    Page,
    discover_pages,
    page_file,
    page_slug,
    plain_value,
    review_metadata,
    site_config,
    source_date_epoch,
)

#: Where the print template and stylesheet live.
TEMPLATES = Path(__file__).parent.parent / "templates" / "pdf"
#: CSS ``@page`` sizes by ``--paper`` option.
PAPER_SIZES = {"a4": "A4", "letter": "letter"}
#: WeasyPrint's variant for the tagged PDF: PDF/UA-1 (tags, language, title shown by viewers).
PDF_VARIANT = "pdf/ua-1"
#: Parts of the body rendered at once by default (see :mod:`livingreview.pdf.parallel`). A
#: fixed number, not the machine's core count, so every machine makes the same bytes.
DEFAULT_JOBS = 2
#: Tables with at least this many columns are printed on landscape pages.
WIDE_TABLE_COLUMNS = 7
#: Ids the print template itself uses (document.html.jinja).
_TEMPLATE_IDS = frozenset({"contents", "appendix"})
#: Links to other sites that stay links in the PDF.
_LINK_SCHEMES = frozenset({"http", "https", "mailto"})
#: A host no real link can have: used to resolve site-relative links with urljoin.
_BASE = "https://pdf.invalid/"


ConfigLoader.add_multi_constructor("!", plain_value)
ConfigLoader.add_multi_constructor("tag:yaml.org,2002:python/", plain_value)


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
            page.slug = self._unique(page_slug(page.url))
        chapter = study = 0
        for page in self.pages:
            text = page.path.read_text(encoding="utf-8")
            page.article = parse_article(text, str(page.path))
            strip_article(
                page.article,
                keep_references=page.kind == "bibliography",
                keep_downloads=bool(self.site_url),
            )
            heading = page.article.find(".//h1")
            if not page.title:
                page.title = element_text(heading) if heading is not None else page.url
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
            demote_headings(article)
        self._headings(page)
        keep_names_whole(article)
        article.tag = "section"
        article.attrib.clear()
        article.set("id", page.slug)
        article.set("class", f"pdf-{page.kind}")
        article.tail = "\n"
        for address in sorted(set(local_addresses(element_text(article)))):
            log.warning(
                "%s names the local address %s, which means nothing to a reader of the PDF",
                page.url or "home page",
                address,
            )
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
            if is_local_url(href):
                return None  # mkdocs serve's address: on a reader's machine, their own
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
                return urljoin(self.site_url.rstrip("/") + "/", href_path(target_url))
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
        parents = parent_map(page.article)
        unwrap: list[ET.Element] = []
        for el in page.article.iter():
            if not isinstance(el.tag, str):
                continue
            name = local_name(el.tag)
            svg = is_svg(el)
            for attr in ("href", XLINK_HREF):
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
            if name == "table" and not svg and _column_count(el) >= WIDE_TABLE_COLUMNS:
                _mark_wide(el, parents.get(el))
            if name == "img" and el.get("src") is not None:
                el.set("src", self._resource(el.attrib["src"], page))
            for attr in ("srcset", "sizes", "background", "ping", "target"):
                el.attrib.pop(attr, None)
            if svg and el.get("font-family"):
                el.set("font-family", SVG_FONT)
            if svg and name == "svg" and not is_svg(parents.get(el, el)):
                figure = parents.get(el)
                while figure is not None and local_name(figure.tag) != "figure":
                    figure = parents.get(figure)
                caption = figure.find("figcaption") if figure is not None else None
                alt = figure_alt_text(el, caption)
                if alt:
                    set_figure_alt_text(el, alt)
            if svg and name == "svg" and "height" in el.get("style", ""):
                # WeasyPrint sizes an inline <svg> styled "height: auto" as a square; without
                # it, the viewBox gives the ratio (and the stylesheet limits the width).
                style = AUTO_HEIGHT.sub("", el.attrib["style"]).strip()
                if style:
                    el.set("style", style)
                else:
                    del el.attrib["style"]
            for attr in IDREF_ATTRS:
                if el.get(attr):
                    el.set(attr, " ".join(page.ids.get(t, t) for t in el.attrib[attr].split()))
            for attr, value in list(el.attrib.items()):
                if "url(" in value and "#" in value:
                    el.set(attr, URL_REF.sub(lambda m: self._url_ref(m, page), value))
        for el in reversed(unwrap):
            parent = parents.get(el)
            if parent is not None:
                unwrap_element(parent, el)

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
            f"bookmark-level: {level}; bookmark-label: {css_string(label)}; "
            f"string-set: chapter {css_string(running)}"
        )
        title.set("style", style)
        title.set("class", (title.get("class", "") + " pdf-title").strip())
        number_heading(title, page.number)
        page.headings.append((level, page.number, page.title, page.slug))
        if page.kind != "chapter":
            return
        for count, heading in enumerate(page.article.iter("h2"), start=1):
            number = f"{page.number}.{count}"
            text = element_text(heading)
            number_heading(heading, number)
            heading.set("style", "bookmark-level: 2")
            page.headings.append((2, number, text, heading.get("id") or page.slug))


def _mark_wide(table: ET.Element, parent: ET.Element | None) -> None:
    """Put a wide table on landscape pages, with the headings right above it."""
    marked = [table]
    if parent is not None:
        siblings = list(parent)
        index = siblings.index(table)
        while index > 0 and siblings[index - 1].tag in ("h2", "h3", "h4", "h5", "h6"):
            index -= 1
            marked.append(siblings[index])
    for el in marked:
        el.set("class", (el.get("class", "") + " pdf-wide").strip())


def _column_count(table: ET.Element) -> int:
    """Return the number of columns of a table (its widest row, counting ``colspan``)."""
    widest = 0
    for row in table.iter("tr"):
        count = 0
        for cell in row:
            if cell.tag in ("td", "th"):
                span = cell.get("colspan", "1")
                count += int(span) if span.isdigit() and 0 < int(span) < 100 else 1
        widest = max(widest, count)
    return widest


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


@dataclass(frozen=True)
class Block:
    """One piece of the print document's body, in reading order.

    Attributes:
        html: The piece as trusted HTML (a page's section, or the appendix's introduction).
        weight: Its estimated layout work (tags outside figures): how the parallel renderer
            shares out the parts.
        joined: True when it follows the block before it on the same page (the first study
            record follows the appendix's introduction), so no part may start with it.
    """

    html: Markup
    weight: int
    joined: bool = False


@dataclass(frozen=True)
class PrintDocument:
    """The review combined for print: its pages, the body's blocks and how to render them.

    Attributes:
        meta: The review's metadata (cover, document information).
        pages: The site's pages in reading order.
        blocks: The body (every section after the contents), in reading order.
        page_size: CSS page size (``A4``, ``letter``).
        font_faces: The ``@font-face`` rules of the fonts served to WeasyPrint.
        css: The print stylesheet.
    """

    meta: Metadata
    pages: list[Page]
    blocks: list[Block]
    page_size: str
    font_faces: Markup
    css: Markup

    def html(
        self,
        *,
        front: bool = True,
        blocks: list[Block] | None = None,
        toc_pages: Mapping[str, int] | None = None,
    ) -> str:
        """Return the print document, or one part of it.

        Args:
            front: Include the cover and the contents.
            blocks: The body blocks to include (default: all of them).
            toc_pages: Page numbers for the contents' entries, by target id; without them
                WeasyPrint counts (``target-counter``), which needs the whole document.
        """
        chosen = self.blocks if blocks is None else blocks
        return (
            _environment()
            .get_template("document.html.jinja")
            .render(
                meta=self.meta,
                page_size=self.page_size,
                font_faces=self.font_faces,
                css=self.css,
                front=front,
                chapters=[p for p in self.pages if p.kind == "chapter"],
                studies=[p for p in self.pages if p.kind == "study"],
                bibliography=next((p for p in self.pages if p.kind == "bibliography"), None),
                blocks=[block.html for block in chosen],
                toc_pages=toc_pages,
                # The cover sets the running header's title; a part without it sets it here.
                running_title=None if front else css_string(self.meta.title),
                generator="livingreview PDF (WeasyPrint)",
            )
        )

    def toc_targets(self) -> list[str]:
        """Return the ids the contents link to, in order."""
        targets = [t for p in self.pages if p.kind == "chapter" for *_, t in p.headings]
        studies = [t for p in self.pages if p.kind == "study" for *_, t in p.headings]
        if studies:
            targets += ["appendix", *studies]
        targets += [p.slug for p in self.pages if p.kind == "bibliography"]
        return targets


def prepare(
    site_dir: Path,
    config: Mapping[str, Any],
    meta: Metadata,
    *,
    paper: str = "a4",
    fonts: Mapping[tuple[str, str, str], Path] | None = None,
) -> PrintDocument:
    """Combine the built pages into the print document of the whole review.

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
    blocks = [_block(sections[p.url]) for p in pages if p.kind == "chapter"]
    studies = [p for p in pages if p.kind == "study"]
    if studies:
        appendix = Markup(_environment().get_template("appendix.html.jinja").render())
        blocks.append(_block(appendix))
        blocks += [_block(sections[p.url], joined=i == 0) for i, p in enumerate(studies)]
    blocks += [_block(sections[p.url]) for p in pages if p.kind == "bibliography"]
    css = (TEMPLATES / "review.css").read_text(encoding="utf-8")
    return PrintDocument(
        meta=meta,
        pages=pages,
        blocks=blocks,
        page_size=PAPER_SIZES[paper],
        font_faces=Markup(_font_faces(fonts or {})),
        css=Markup(css),
    )


#: Inline SVG figures: drawn as images, so their many elements add little to the layout.
_SVG = re.compile(r"<svg\b.*?</svg>", re.S)


def _block(html: Markup, *, joined: bool = False) -> Block:
    # Layout time follows the number of elements laid out (tags outside figures): on the real
    # review, 0.46 s per 1,000 in both parts, against 0.036 and 0.039 s per 1,000 characters.
    weight = _SVG.sub("", html).count("<")
    return Block(html=html, weight=max(weight, 1), joined=joined)


def combine(
    site_dir: Path, config: Mapping[str, Any], meta: Metadata, **options: Any
) -> tuple[str, list[Page]]:
    """Return the print document (HTML) of the whole review, and its pages.

    Takes the arguments of :func:`prepare`, and raises what it raises.
    """
    document = prepare(site_dir, config, meta, **options)
    return document.html(), document.pages


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
    tagged: bool = True,
    jobs: int = DEFAULT_JOBS,
    progress: Callable[[str], None] | None = None,
) -> Build:
    """Build the PDF of the review from a built site.

    Args:
        site_dir: The build output (``site/``); the PDF is written into it by default.
        config_path: ``mkdocs.yml``, read only for a site built without the manifest; its
            folder holds ``CITATION.cff``/``pyproject.toml``.
        output: Where to write the PDF (default ``site_dir/review.pdf``).
        paper: ``a4`` or ``letter``.
        epoch: ``SOURCE_DATE_EPOCH``; default from the environment, git or a fixed date.
        keep_html: Also write the combined print document here (for debugging the layout).
        tagged: Write a tagged PDF/UA-1 document (the structure screen readers use: headings,
            lists, tables with their headers, figures with alternative text, the language).
        jobs: Render the body in this many parts at once, in as many processes
            (:mod:`livingreview.pdf.parallel`); 1 renders the whole document in this process.
            The parts, and so the bytes, depend on ``jobs``, never on the machine.
        progress: Called with one line per stage.

    Raises:
        PdfError: The site is missing or incomplete, or an input cannot be read.
    """
    from weasyprint import HTML  # heavy import: only when a PDF is actually made

    say = progress or (lambda _line: None)
    started = time.perf_counter()
    check_site(site_dir)
    config = site_config(site_dir, config_path)
    root = config_path.resolve().parent
    if epoch is None:
        epoch = source_date_epoch(root)
    meta = review_metadata(config, root, epoch)
    fonts = find_fonts()
    if not fonts:
        log.warning("DejaVu fonts not found (install fonts-dejavu-core); using system fonts")
    if jobs < 1:
        raise PdfError(f"jobs must be at least 1, not {jobs}")
    document = prepare(site_dir, config, meta, paper=paper, fonts=fonts)
    pages = document.pages
    say(f"combined {len(pages)} pages of {site_dir} ({time.perf_counter() - started:.1f} s)")
    if keep_html is not None:
        keep_html.write_text(document.html(), encoding="utf-8")
    quiet = QuietRefusals()
    weasyprint_log = logging.getLogger("weasyprint")
    weasyprint_log.addFilter(quiet)
    target = output or site_dir / PDF_NAME
    partial = target.with_name(target.name + ".partial")
    # The first /ID entry names the document across versions; the second (a hash of the
    # bytes) is added by pydyf. Neither depends on the clock, so builds are reproducible.
    identifier = hashlib.sha256(meta.title.encode("utf-8")).hexdigest()[:32].encode("ascii")
    options = {"pdf_variant": PDF_VARIANT, "pdf_tags": True} if tagged else {}
    base_url = page_file(site_dir, "").resolve().as_uri()
    try:
        rendered = None
        # Workers are forked (see parallel.py); where fork does not exist, one process.
        if jobs > 1 and len(document.blocks) > 1 and "fork" in get_all_start_methods():
            from .parallel import PageCountChanged, Setup, render

            setup = Setup(site_dir, base_url, tuple(fonts.values()), options)
            try:
                rendered = render(document, setup, jobs=jobs, identifier=identifier, say=say)
            except PageCountChanged as exc:
                log.warning("rendering the PDF in one process: %s", exc)
        if rendered is not None:
            count, refused = rendered.pages, rendered.refused
            partial.write_bytes(rendered.pdf)
        else:
            fetcher = SiteFetcher(site_dir, extra_files=fonts.values())
            laid_out = HTML(string=document.html(), base_url=base_url, url_fetcher=fetcher).render(
                **options
            )
            count, refused = len(laid_out.pages), tuple(fetcher.refused)
            say(f"laid out {count} PDF pages ({time.perf_counter() - started:.1f} s)")
            laid_out.write_pdf(partial, pdf_identifier=identifier, **options)
        # Written beside the target and renamed: a failed build never leaves half a PDF.
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
        refused=refused,
    )
