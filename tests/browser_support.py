"""Helpers shared by the browser and link checks: build the site, serve it, launch chromium.

The site is served from a thread with :mod:`http.server` on ``127.0.0.1`` (an ephemeral
port), so nothing outside the machine is involved. Chromium is Debian's ``/usr/bin/chromium``;
Playwright is never allowed to download a browser of its own, and the flags below keep
chromium from making background connections (updates, sync, metrics) of its own.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parents[1]
#: Makes ``review.pdf`` from a built site (``make site`` runs it after MkDocs).
BUILD_PDF = ROOT / "scripts" / "build_pdf.py"

#: Debian's chromium; .ci/run installs it when missing.
CHROMIUM = Path("/usr/bin/chromium")

#: Flags that keep chromium quiet: no sandbox (root in CI), no GPU, no outside connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--disable-default-apps",
    "--disable-extensions",
    "--metrics-recording-only",
]

#: Hosts a page may contact: the local test server only.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})


def chromium_missing_reason() -> str | None:
    """Return why browser tests cannot run here, or ``None`` when chromium is present."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed (.ci/run installs the Debian package 'chromium')"
    return None


def build_site(
    site_dir: Path,
    *,
    root: Path = ROOT,
    env: dict[str, str] | None = None,
    pdf: bool = False,
) -> None:
    """Build the project at ``root`` into ``site_dir`` as ``make site`` does.

    Runs ``mkdocs build --strict``; with ``pdf``, then ``scripts/build_pdf.py --site-dir``
    when the project has that script.

    Raises:
        AssertionError: A step failed; the message holds its output.
    """
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1", **(env or {})}
    steps = [[sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)]]
    script = root / "scripts" / BUILD_PDF.name
    if pdf and script.exists():
        steps.append([sys.executable, str(script), "--site-dir", str(site_dir)])
    for step in steps:
        result = subprocess.run(
            step, cwd=root, capture_output=True, text=True, timeout=600, env=environment
        )
        assert result.returncode == 0, (
            f"{' '.join(step)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )


_shared_sites: dict[str, Path] = {}


def shared_site(make_dir: Callable[[str], Path]) -> Path:
    """Return the real site built as ``make site`` does, building it once per test session.

    The browser and link checks only read the site, so they share one build. ``make_dir`` is
    pytest's ``tmp_path_factory.mktemp``.
    """
    if "site" not in _shared_sites:
        site_dir = make_dir("site") / "site"
        build_site(site_dir, pdf=True)
        _shared_sites["site"] = site_dir
    return _shared_sites["site"]


class _QuietHandler(SimpleHTTPRequestHandler):
    """Static file handler that adds fixed headers and does not log every request."""

    extra_headers: ClassVar[dict[str, str]] = {}

    def end_headers(self) -> None:
        """Add :attr:`extra_headers` to every response."""
        for name, value in self.extra_headers.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Drop the access log."""


@contextmanager
def serve(directory: Path, *, headers: dict[str, str] | None = None) -> Iterator[str]:
    """Serve ``directory`` over HTTP on 127.0.0.1 from a thread; yield the base URL.

    Args:
        directory: The built site.
        headers: Extra headers sent with every response.

    The base URL ends with ``/``. The server stops when the context exits.
    """
    handler_class = type("Handler", (_QuietHandler,), {"extra_headers": dict(headers or {})})
    handler = functools.partial(handler_class, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def launch_options() -> dict[str, Any]:
    """Return keyword arguments for ``playwright.chromium.launch`` (Debian's chromium)."""
    return {
        "executable_path": str(CHROMIUM),
        "headless": True,
        "args": list(CHROMIUM_ARGS),
    }


@contextmanager
def chromium() -> Iterator[Any]:
    """Launch Debian's chromium with Playwright; close it on exit (one per test module)."""
    # Imported here: modules that only build or serve the site need no Playwright.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch_options())
        try:
            yield browser
        finally:
            browser.close()
