"""``make export``: the final Markdown tree, rebuilt by plain MkDocs without our hooks."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

EXPORT = ROOT / "scripts" / "export.py"
MKDOCS_BUILD = [sys.executable, "-m", "mkdocs", "build", "--strict"]

_ARTICLE = re.compile(r"<article\b.*?</article>", re.DOTALL)
# The one deliberate difference: the edit button. MkDocs has no per-page edit URL, so in a
# plain build every page's button opens its exported Markdown, while the hooks point a study
# page's button at its YAML record and give the other generated pages none.
_EDIT = re.compile(r'<a href="[^"]*" title="Edit this page".*?</a>', re.DOTALL)


def article(html: str) -> str:
    """Return a page's article, edit link removed and whitespace between tags collapsed."""
    match = _ARTICLE.search(html)
    assert match, "every page has an article"
    text = _EDIT.sub("", match.group(0))
    return re.sub(r">\s+<", "><", text)


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_plain_mkdocs_builds_the_export_to_the_same_pages(
    project_copy: Callable[..., Path], tmp_path: Path
) -> None:
    root = project_copy(site=True)
    out = tmp_path / "export"
    exported = run([sys.executable, str(EXPORT), "--root", str(root), "--out", str(out)], root)
    assert exported.returncode == 0, exported.stderr

    config = yaml.safe_load((out / "mkdocs.yml").read_text("utf-8"))
    assert "hooks" not in config, "the export builds without our hooks"
    pages = sorted(p.relative_to(out / "docs").as_posix() for p in (out / "docs").rglob("*.md"))
    assert "studies/feder-2014.md" in pages and "references.md" in pages
    for page in pages:
        text = (out / "docs" / page).read_text("utf-8")
        assert "[[" not in text and "[@" not in text, page
    for download in ("studies.csv", "references.bib", "feed.xml"):
        assert list((out / "docs").rglob(download)), download

    with ThreadPoolExecutor(max_workers=2) as pool:
        ours, plain = pool.map(
            lambda args: run([*MKDOCS_BUILD, "-d", str(args[1])], args[0]),
            [(root, tmp_path / "ours"), (out, tmp_path / "plain")],
        )
    assert ours.returncode == 0, ours.stderr
    assert plain.returncode == 0, plain.stderr

    def files(site: Path) -> set[str]:
        return {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}

    assert files(tmp_path / "plain") == files(tmp_path / "ours")
    html = sorted(f for f in files(tmp_path / "ours") if f.endswith(".html") and f != "404.html")
    assert len(html) > len(pages) - 1
    for name in html:
        mine = (tmp_path / "ours" / name).read_text("utf-8")
        theirs = (tmp_path / "plain" / name).read_text("utf-8")
        assert article(theirs) == article(mine), name
    for name in ("downloads/studies.csv", "downloads/references.bib", "feed.xml"):
        assert (tmp_path / "plain" / name).read_bytes() == (tmp_path / "ours" / name).read_bytes()
