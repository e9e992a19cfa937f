"""The manifest of built pages: written by the site build, read by the PDF.

The build knows the pages' reading order, titles and URLs (MkDocs' navigation); the PDF is
made later from the built site. The manifest carries that knowledge across, so the PDF does not
work it out again from ``mkdocs.yml``. Kept apart from :mod:`.pdf` so that the site build does
not import WeasyPrint.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

#: The manifest of built pages the site build writes (see :func:`write_manifest`).
MANIFEST_FILE = "review-pages.json"


def write_manifest(site_dir: Path, pages: Sequence[tuple[str, str | None]]) -> None:
    """Write the manifest of built pages: URL and navigation title, in reading order.

    The site build writes it (``on_post_build``) from the navigation MkDocs built, so the PDF
    reads the pages' order, titles and URLs from the build itself instead of working them out
    again from ``mkdocs.yml``.
    """
    data = {"pages": [{"url": url, "title": title} for url, title in pages]}
    (site_dir / MANIFEST_FILE).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def read_manifest(site_dir: Path) -> list[tuple[str | None, str]] | None:
    """Return (title, URL) of the navigation pages from the build's manifest, if there is one.

    Raises:
        ValueError: The manifest exists but is not one the build wrote.
    """
    path = site_dir / MANIFEST_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = [(p["title"], str(p["url"])) for p in data["pages"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a manifest of built pages ({exc})") from None
    return [(str(t) if t else None, url) for t, url in entries]
