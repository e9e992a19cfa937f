"""Helpers shared by the browser and link checks: build the site, serve it, launch chromium.

The site is served from a thread with :mod:`http.server` on ``127.0.0.1`` (an ephemeral
port), so nothing outside the machine is involved. Chromium is Debian's ``/usr/bin/chromium``;
Playwright is never allowed to download a browser of its own, and the flags below keep
chromium from making background connections (updates, sync, metrics) of its own.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

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


def build_site(site_dir: Path, *, root: Path = ROOT, env: dict[str, str] | None = None) -> None:
    """Run ``mkdocs build --strict`` of the project at ``root`` into ``site_dir``.

    Raises:
        AssertionError: The build failed; the message holds MkDocs' output.
    """
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **(env or {})},
    )
    assert result.returncode == 0, f"mkdocs build failed:\n{result.stdout}\n{result.stderr}"


class _QuietHandler(SimpleHTTPRequestHandler):
    """Static file handler that does not log every request to stderr."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Drop the access log."""


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` over HTTP on 127.0.0.1 from a thread; yield the base URL.

    The base URL ends with ``/``. The server stops when the context exits.
    """
    handler = functools.partial(_QuietHandler, directory=str(directory))
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


def copy_tree(src: Path, dst: Path, names: list[str]) -> Path:
    """Copy the named top-level entries of ``src`` into ``dst`` (skipping missing ones)."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in names:
        source = src / name
        if source.is_dir():
            shutil.copytree(
                source, dst / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        elif source.is_file():
            shutil.copy2(source, dst / name)
    return dst
