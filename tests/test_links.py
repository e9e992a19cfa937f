"""Link integrity of the built site: LinkChecker over HTTP on 127.0.0.1, anchors included.

The real site is built as ``make site`` does (``mkdocs build --strict``, then
``scripts/build_pdf.py`` for ``review.pdf``) and served from a thread; LinkChecker
(from the venv) crawls it from the home page, following internal links only (external links
are left alone: ``checkextern=0``) and with its ``AnchorCheck`` plugin on, so a link to
``page/#missing`` fails as surely as a link to a missing page. Any error or warning fails, and
every page of the site must be reached from the home page.

LinkChecker waits 0.1-0.6 s between requests to one host unless the server answers with a
``LinkChecker`` header; the test server sends it, so ``maxrequestspersecond`` applies and the
crawl takes seconds rather than minutes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest
from browser_support import BUILD_PDF, ROOT, serve, shared_site
from conftest import needs

LINKCHECKER = Path(sys.executable).parent / "linkchecker"

#: LinkChecker configuration: internal links only, anchors checked, no rate limit.
CONFIG = """\
[checking]
threads=4
timeout=20
maxrequestspersecond=1000
robotstxt=0

[filtering]
checkextern=0

[output]
warnings=1

[AnchorCheck]
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real site, built as ``make site`` does (with the PDF), shared with other modules."""
    return shared_site(tmp_path_factory.mktemp)


@dataclass(frozen=True)
class Checked:
    """One link LinkChecker checked (one ``<urldata>`` of its XML output)."""

    url: str
    real_url: str
    parent: str
    line: str
    valid: bool
    result: str
    warnings: tuple[str, ...]

    @property
    def problem(self) -> str | None:
        """Return what is wrong with the link, or ``None`` if nothing is."""
        if not self.valid:
            return self.result
        return "; ".join(self.warnings) or None

    def describe(self) -> str:
        """Return one line naming the page holding the link, the link and the problem."""
        where = self.parent or "(start URL)"
        if self.line:
            where += f":{self.line}"
        return f"{where}: {self.url} -> {self.problem}"


def run_linkchecker(site: Path, work: Path) -> tuple[list[Checked], str]:
    """Crawl the served site; return every link checked, and LinkChecker's stderr."""
    work.mkdir(parents=True, exist_ok=True)
    config = work / "linkcheckerrc"
    config.write_text(CONFIG, encoding="utf-8")
    # A private HOME: LinkChecker reads no user configuration and writes nowhere else.
    env = {
        **os.environ,
        "HOME": str(work),
        "XDG_CONFIG_HOME": str(work / "config"),
        "XDG_DATA_HOME": str(work / "data"),
    }
    with serve(site, headers={"LinkChecker": "local test server"}) as base_url:
        result = subprocess.run(
            [
                str(LINKCHECKER),
                "--config",
                str(config),
                "--no-status",
                "--verbose",
                "--output",
                "xml/utf-8",
                base_url,
            ],
            capture_output=True,
            timeout=300,
            env=env,
        )
    stderr = result.stderr.decode("utf-8", "replace")
    # Exit 0: no problem; 1: errors or warnings found; anything else: LinkChecker failed.
    assert result.returncode in (0, 1), stderr
    checked = []
    for item in ElementTree.fromstring(result.stdout).iter("urldata"):
        parent = item.find("parent")
        valid = item.find("valid")
        assert valid is not None, ElementTree.tostring(item, encoding="unicode")
        checked.append(
            Checked(
                url=item.findtext("url", ""),
                real_url=item.findtext("realurl", ""),
                parent=parent.text or "" if parent is not None else "",
                line=parent.get("line", "") if parent is not None else "",
                valid=valid.text == "1",
                result=valid.get("result", ""),
                warnings=tuple(w.text or "" for w in item.iter("warning")),
            )
        )
    return checked, stderr


@needs(None if LINKCHECKER.exists() else f"{LINKCHECKER} is not installed")
def test_no_broken_internal_link_or_anchor(site: Path, tmp_path: Path) -> None:
    checked, stderr = run_linkchecker(site, tmp_path)
    assert checked, f"LinkChecker checked nothing:\n{stderr}"
    problems = sorted({link.describe() for link in checked if link.problem})
    hint = ""
    if any("review.pdf" in line for line in problems) and not BUILD_PDF.exists():
        hint = f"\n(review.pdf is made by {BUILD_PDF.relative_to(ROOT)}, which does not exist yet)"
    assert not problems, "broken links or anchors:\n" + "\n".join(problems) + hint
    # The crawl reached every page of the site, generated ones included, and checked anchors.
    reached = {link.real_url.split("#")[0] for link in checked if link.valid}
    pages = sorted(
        page.parent.relative_to(site).as_posix() + "/"
        for page in site.rglob("index.html")
        if page.parent != site
    )
    unreached = [p for p in pages if not any(url.endswith("/" + p) for url in reached)]
    assert not unreached, f"pages LinkChecker never reached from the home page: {unreached}"
    assert sum("#" in link.url for link in checked) > 10, "LinkChecker checked no anchors"


@needs(None if LINKCHECKER.exists() else f"{LINKCHECKER} is not installed")
def test_link_check_catches_a_missing_page_and_a_missing_anchor(tmp_path: Path) -> None:
    """The check itself works: dead links and dead anchors, here or on another page, fail."""
    broken = tmp_path / "broken"
    (broken / "other").mkdir(parents=True)
    (broken / "index.html").write_text(
        '<!doctype html><html lang="en"><head><title>t</title></head><body>'
        '<h2 id="here">Here</h2><a href="#here">fine</a> <a href="other/#there">fine</a> '
        '<a href="#nowhere">dead anchor</a> <a href="other/#elsewhere">dead anchor</a> '
        '<a href="missing/">dead link</a></body></html>',
        encoding="utf-8",
    )
    (broken / "other" / "index.html").write_text(
        '<!doctype html><html lang="en"><head><title>o</title></head><body>'
        '<p id="there">There</p></body></html>',
        encoding="utf-8",
    )
    checked, _ = run_linkchecker(broken, tmp_path / "work")
    problems = {link.url: link.problem for link in checked if link.problem}
    assert set(problems) == {"#nowhere", "other/#elsewhere", "missing/"}, problems
    assert "not found" in (problems["#nowhere"] or ""), problems
    assert "404" in (problems["missing/"] or ""), problems
