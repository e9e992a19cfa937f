"""The author's preview: ``mkdocs serve`` shows the inputs' problems in the browser.

A rebuild that finds problems still fails (the terminal lists them, and ``mkdocs build
--strict`` fails on the same input), but the browser is reloaded to a page listing every
``path:line:col`` problem, escaped, instead of keeping the old pages as if stuck. The footer's
"Download PDF" link, which has no PDF to point at in the preview, says how to build one.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from livingreview.errors import Problem
from livingreview.preview import NOT_FOUND, problems_page, write_problems_page

BAD_DESIGN = '"<b>bogus</b>"'


def test_problems_page_lists_each_problem_escaped() -> None:
    problems = [
        Problem("data/studies/a<b>.yaml", 4, 9, "design", "'<script>x</script>' is not allowed"),
        Problem("data/prisma.yaml", 2, 1, "included", "27 != 26"),
    ]
    page = problems_page(problems, "Review <i>name</i>")
    assert "<script>x</script>" not in page and "<b>" not in page and "<i>name" not in page
    assert page.count("<li>") == 2
    assert "data/studies/a&lt;b&gt;.yaml:4:9: error: design: " in page
    assert "&#x27;&lt;script&gt;x&lt;/script&gt;&#x27; is not allowed" in page
    assert "2 problems in the review" in page
    assert "http" not in page  # nothing from outside the preview


def test_problems_page_replaces_the_old_pages(tmp_path: Path) -> None:
    (tmp_path / "ptsd").mkdir()
    (tmp_path / "ptsd" / "index.html").write_text("old page", encoding="utf-8")
    (tmp_path / "index.html").write_text("old home", encoding="utf-8")
    page = write_problems_page(tmp_path, [Problem("data/x.yaml", 1, 1, "id", "bad")], "R")
    assert page == tmp_path / NOT_FOUND
    assert sorted(p.name for p in tmp_path.iterdir()) == [NOT_FOUND]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: No proxy: the preview is on this machine.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get(url: str) -> tuple[int, str]:
    try:
        with _OPENER.open(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")
    except OSError:
        return 0, ""


def _wait_for(check: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def preview(project_copy: Callable[..., Path]) -> Iterator[tuple[Path, str]]:
    """Run ``mkdocs serve`` on a copy of the project; yield (project root, page URL base)."""
    root = project_copy(site=True)
    port = _free_port()
    log = (root / "serve.log").open("w", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "--dev-addr", f"127.0.0.1:{port}"],
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    base = f"http://127.0.0.1:{port}/ketamine-review/"
    try:
        _wait_for(lambda: _get(base)[0] == 200, "the first build")
        yield root, base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_preview_shows_problems_in_the_browser_and_recovers(
    preview: tuple[Path, str], tmp_path: Path
) -> None:
    root, base = preview
    # The footer of the preview explains how to build the PDF; it links to no missing file.
    status, home = _get(base)
    assert status == 200
    assert 'id="review-pdf-preview"' in home and "make site" in home
    assert "review.pdf" not in home.replace("site/review.pdf", "")

    record = root / "data" / "studies" / "albott-2018.yaml"
    good = record.read_text(encoding="utf-8")
    record.write_text(good.replace("design: open-label", f"design: {BAD_DESIGN}"), "utf-8")
    line = next(i for i, text in enumerate(good.splitlines(), 1) if text.startswith("design:"))
    expected = f"data/studies/albott-2018.yaml:{line}:9: error: design: "

    def shows_problem() -> bool:
        status, text = _get(base + "ptsd/")
        return status == 404 and expected in text

    _wait_for(shows_problem, "the problems page")
    _, text = _get(base + "ptsd/")
    assert "&#x27;&lt;b&gt;bogus&lt;/b&gt;&#x27; is not in vocabularies/designs.yaml" in text
    assert "<b>bogus</b>" not in text
    assert _get(base)[0] == 404  # every address shows the problems, not an old page

    # The gating build still fails on the same input, with the same line.
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=600,
    )
    assert build.returncode != 0
    assert expected in build.stderr

    # Fixed: the next rebuild serves the pages again.
    record.write_text(good, encoding="utf-8")
    _wait_for(lambda: _get(base + "ptsd/")[0] == 200, "the pages after the fix")
