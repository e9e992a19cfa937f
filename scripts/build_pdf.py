#!/usr/bin/env python3
"""Write the whole review as one PDF (``review.pdf``) into the built site.

Usage: ``python scripts/build_pdf.py [--site-dir site] [--config-file mkdocs.yml]
[--paper a4|letter] [--output PATH] [--keep-html PATH] [--no-tagged] [--jobs N]``. Run it after
``mkdocs build``: the PDF is printed from the built pages, so it shows exactly what the site
shows. The navigation order, title and author come from ``mkdocs.yml`` (by default the one in
the current folder, as for ``mkdocs``); the version from ``CITATION.cff`` or
``pyproject.toml`` beside it; the date from ``SOURCE_DATE_EPOCH`` (default: the commit time of
``HEAD``). Progress goes to stderr; on failure one line says why and the exit status is 1.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import _paths  # noqa: F401  (makes hooks/ importable)
from livingreview.pdf import DEFAULT_JOBS, PAPER_SIZES, PdfError, build_pdf

PREFIX = "build_pdf"
#: More parts than this only add fixed costs (each part is a fresh layout and its own fonts).
MAX_JOBS = 16


def _say(line: str) -> None:
    print(f"{PREFIX}: {line}", file=sys.stderr, flush=True)


def _jobs(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_JOBS:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {MAX_JOBS}")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    """Build the PDF; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site-dir", type=Path, default=Path("site"), help="the built site")
    parser.add_argument(
        "-f",
        "--config-file",
        type=Path,
        default=Path("mkdocs.yml"),
        help="the site's mkdocs.yml (default: ./mkdocs.yml)",
    )
    parser.add_argument("--paper", choices=sorted(PAPER_SIZES), default="a4")
    parser.add_argument("--output", type=Path, help="default: SITE_DIR/review.pdf")
    parser.add_argument("--keep-html", type=Path, help="also write the combined print HTML")
    parser.add_argument(
        "--tagged",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="write a tagged PDF/UA-1 document, the structure screen readers use (default); "
        "--no-tagged leaves the tags out",
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
        default=DEFAULT_JOBS,
        help=f"render the body in N parts at once, in N processes, and stitch them together "
        f"(default {DEFAULT_JOBS}; 1: the whole document in one process). The same N gives "
        "the same bytes on every machine",
    )
    args = parser.parse_args(argv)
    # WeasyPrint reports unusable resources and CSS problems through logging; show them on
    # one line each, like our own warnings (refused URLs).
    logging.basicConfig(level=logging.WARNING, format=f"{PREFIX}: %(levelname)s: %(message)s")
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    try:
        result = build_pdf(
            args.site_dir,
            config_path=args.config_file,
            output=args.output,
            paper=args.paper,
            keep_html=args.keep_html,
            tagged=args.tagged,
            jobs=args.jobs,
            progress=_say,
        )
    except PdfError as exc:
        _say(f"error: {exc}")
        return 1
    except OSError as exc:
        _say(f"error: {exc.filename or ''}: {exc.strerror or exc}")
        return 1
    rate = result.pages / result.seconds if result.seconds else 0.0
    _say(
        f"wrote {result.path}: {result.pages} pages from {result.sections} site pages, "
        f"{result.size / 1e6:.1f} MB, {result.seconds:.1f} s ({rate:.0f} pages/s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
