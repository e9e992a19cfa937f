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
  is dropped, because WeasyPrint lays such an SVG out as a square. A figure with a narrow
  (phone) layout prints only its wide one. Its alternative text in the tagged PDF is the SVG's
  title and data description (``<title>`` + ``<desc>``), else its caption.
* What works only in a browser is left out: the study explorer page (its studies are in the
  study index and the appendix) and links to a local address (``mkdocs serve``'s
  ``127.0.0.1:8000``; a ``site_url`` that is one is ignored, and a local address written in a
  page's text is reported).
* Print typography (``templates/pdf/review.css``): table text 8.5 pt, tables of
  :data:`WIDE_TABLE_COLUMNS` or more columns on landscape pages with the headings above them,
  hyphenation only of ordinary words of 10 letters or more; headings, table first columns,
  links and names or identifiers in running text (``Ragnhildstveit``,
  ``ClinicalTrials.gov``) are never hyphenated.

The PDF is tagged PDF/UA-1 by default (WeasyPrint's ``pdf/ua-1`` variant): headings, lists,
tables with their header cells, links and figures are in the structure tree, with the
document's language and title.

By default the body is rendered in two parts at once, each in its own process, and the parts
are stitched into one document (:mod:`.parallel`, :mod:`.merge`): the footers count the pages
of the whole, the contents get every part's page numbers, links and bookmarks cross parts, and
the structure tree is one tree. A long document is cut into parts of bounded size (about 160
pages), each laid out twice (once to count its pages), so memory follows the part. ``jobs=1``
renders everything in this process. All give the same pages, text, links, outline and
structure (``tests/test_pdf_parallel.py`` compares them).

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

from .document import (
    DEFAULT_JOBS,
    PAPER_SIZES,
    PDF_VARIANT,
    TEMPLATES,
    WIDE_TABLE_COLUMNS,
    Build,
    Combiner,
    build_pdf,
    check_site,
    combine,
)
from .errors import PdfError, RefusedURL
from .fetcher import FONT_DIRS, FONT_FILES, SiteFetcher, check_url, find_fonts
from .html import (
    SVG_FONT,
    is_local_url,
    keep_names_whole,
    local_addresses,
    parse_article,
    serialize,
)
from .manifest import (
    FALLBACK_EPOCH,
    PDF_NAME,
    WEB_ONLY_URLS,
    Metadata,
    Page,
    discover_pages,
    format_date,
    load_config,
    nav_entries,
    review_metadata,
    site_config,
    source_date_epoch,
)

__all__ = [
    "DEFAULT_JOBS",
    "FALLBACK_EPOCH",
    "FONT_DIRS",
    "FONT_FILES",
    "PAPER_SIZES",
    "PDF_NAME",
    "PDF_VARIANT",
    "SVG_FONT",
    "TEMPLATES",
    "WEB_ONLY_URLS",
    "WIDE_TABLE_COLUMNS",
    "Build",
    "Combiner",
    "Metadata",
    "Page",
    "PdfError",
    "RefusedURL",
    "SiteFetcher",
    "build_pdf",
    "check_site",
    "check_url",
    "combine",
    "discover_pages",
    "find_fonts",
    "format_date",
    "is_local_url",
    "keep_names_whole",
    "load_config",
    "local_addresses",
    "nav_entries",
    "parse_article",
    "review_metadata",
    "serialize",
    "site_config",
    "source_date_epoch",
]
