"""The manifest of built pages: written by the site build, read by the PDF.

The build knows the pages' reading order, titles and URLs (MkDocs' navigation) and the settings
it built with (site name, copyright, URL, language, ...); the PDF is made later from the built
site. The manifest carries that knowledge across, so the PDF does not work it out again from
``mkdocs.yml``. Kept apart from :mod:`.pdf` so that the site build does
not import WeasyPrint.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

#: The manifest of built pages the site build writes (see :func:`write_manifest`).
MANIFEST_FILE = "review-pages.json"

#: The ``mkdocs.yml`` settings the PDF reads, kept in the manifest under ``settings``, in the
#: shape of ``mkdocs.yml`` (plus ``theme.language`` and ``extra.review.keywords``).
SETTINGS = ("site_name", "site_author", "site_description", "site_url", "repo_url", "copyright")


def write_manifest(
    site_dir: Path,
    pages: Sequence[tuple[str, str | None]],
    settings: Mapping[str, Any] | None = None,
) -> None:
    """Write the manifest of built pages: URL and navigation title, in reading order.

    The site build writes it (``on_post_build``) from the navigation MkDocs built, so the PDF
    reads the pages' order, titles and URLs from the build itself instead of working them out
    again from ``mkdocs.yml``; ``settings`` (see :data:`SETTINGS`) are the build's site
    settings, which the PDF's cover and document information use.
    """
    data: dict[str, Any] = {"pages": [{"url": url, "title": title} for url, title in pages]}
    if settings is not None:
        data["settings"] = dict(settings)
    (site_dir / MANIFEST_FILE).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def _load(site_dir: Path) -> tuple[Path, dict[str, Any]] | None:
    """Return the manifest's path and parsed mapping, or ``None`` when the build wrote none.

    Raises:
        ValueError: The manifest exists but is not JSON holding a mapping.
    """
    path = site_dir / MANIFEST_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a manifest of built pages ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a manifest of built pages (not a mapping)")
    return path, data


def read_manifest(site_dir: Path) -> list[tuple[str | None, str]] | None:
    """Return (title, URL) of the navigation pages from the build's manifest, if there is one.

    Raises:
        ValueError: The manifest exists but is not one the build wrote.
    """
    loaded = _load(site_dir)
    if loaded is None:
        return None
    path, data = loaded
    try:
        entries = [(p["title"], str(p["url"])) for p in data["pages"]]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a manifest of built pages ({exc})") from None
    return [(str(t) if t else None, url) for t, url in entries]


def read_settings(site_dir: Path) -> dict[str, Any] | None:
    """Return the site settings the build wrote into the manifest, if it wrote any.

    ``None`` for a site built without the manifest, or with one from before it held settings:
    the PDF then reads ``mkdocs.yml``.

    Raises:
        ValueError: The manifest exists but is not one the build wrote.
    """
    loaded = _load(site_dir)
    if loaded is None:
        return None
    path, data = loaded
    settings = data.get("settings")
    if settings is not None and not isinstance(settings, dict):
        raise ValueError(f"{path}: not a manifest of built pages (settings is not a mapping)")
    return settings
