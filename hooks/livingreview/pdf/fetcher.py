"""The URL fetcher WeasyPrint uses: only regular files of the built site and the PDF fonts."""

from __future__ import annotations

import logging
import mimetypes
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from weasyprint.urls import URLFetcher, URLFetcherResponse

from .errors import RefusedURL, log

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
                log.warning("refused to fetch %s: %s", shorten_url(url), exc)
            raise
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            path.as_uri(), body=path.read_bytes(), headers={"Content-Type": mime}
        )


class QuietRefusals(logging.Filter):
    """Drops WeasyPrint's report of a resource the fetcher refused (already logged by name)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Return False for WeasyPrint's report of a refused URL."""
        return RefusedURL.__name__ not in record.getMessage()


def shorten_url(url: str, limit: int = 200) -> str:
    """Return a URL short enough for one log line (``data:`` URLs can be megabytes)."""
    return url if len(url) <= limit else url[:limit] + "..."
