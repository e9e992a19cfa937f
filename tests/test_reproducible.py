"""Reproducible builds: two clean builds of the same tree give byte-identical sites.

Both builds run as ``make site`` does (``mkdocs build --strict``, then
``scripts/build_pdf.py`` for ``review.pdf`` when that script exists) with the same
``SOURCE_DATE_EPOCH``, each into a new folder. Like reprotest, the two builds also differ in
what must not matter: the site folder's path, ``PYTHONHASHSEED`` (so set and dict-of-set
iteration order cannot leak into the output) and the time zone. Every file's sha256 is then
compared; on a mismatch the test names the differing files and shows a short diff.
"""

from __future__ import annotations

import difflib
import gzip
import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser_support import BUILD_PDF, ROOT, build_site
from conftest import snapshot

#: The PDF, compared on its own so that its absence can be reported as a skip.
PDF = "review.pdf"
#: Inputs of a build; if another process edits them between the two builds, the test says so.
INPUTS = ("docs", "data", "hooks", "overrides")
INPUT_FILES = (
    "mkdocs.yml",
    "references.bib",
    "pyproject.toml",
    "CITATION.cff",
    "scripts/build_pdf.py",
    "scripts/_paths.py",
)
MAX_FILES_SHOWN = 10
MAX_DIFF_LINES = 30


@dataclass(frozen=True)
class Builds:
    """The two built sites and the inputs they were built from."""

    first: Path
    second: Path
    inputs_changed: list[str]


def input_snapshot() -> dict[str, str]:
    """Return the sha256 of every input file of a build, by path relative to the project."""
    state: dict[str, str] = {}
    for name in INPUTS:
        folder = ROOT / name
        if folder.is_dir():
            state.update({f"{name}/{p}": digest for p, digest in snapshot(folder).items()})
    for name in INPUT_FILES:
        path = ROOT / name
        if path.is_file():
            state[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return {k: v for k, v in state.items() if "__pycache__" not in k}


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    """Build the real site twice, with the same SOURCE_DATE_EPOCH and different settings."""
    # Now, not a fixed old date: the validator rejects record dates after SOURCE_DATE_EPOCH.
    epoch = str(int(time.time()))
    before = input_snapshot()
    first = tmp_path_factory.mktemp("repro-a") / "site"
    second = tmp_path_factory.mktemp("repro-b") / "nested" / "output"
    settings = (
        (first, {"SOURCE_DATE_EPOCH": epoch, "PYTHONHASHSEED": "1", "TZ": "UTC"}),
        (second, {"SOURCE_DATE_EPOCH": epoch, "PYTHONHASHSEED": "2", "TZ": "Pacific/Auckland"}),
    )
    # Side by side: each build is its own process, so they cannot share state; this halves
    # the wall time on a machine with two cores.
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(build_site, site, pdf=True, env=env) for site, env in settings]
        for future in futures:
            future.result()
    after = input_snapshot()
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    return Builds(first, second, changed)


def tree(site: Path) -> dict[str, str]:
    """Return the sha256 of every file in a built site, by path relative to it."""
    return snapshot(site)


def short_diff(name: str, a: bytes, b: bytes) -> str:
    """Return a few lines showing how two versions of one file differ."""
    if name.endswith(".gz"):
        header = f"  gzip headers: {a[:10].hex()} vs {b[:10].hex()} (bytes 4-7: mtime)"
        try:
            inner = short_diff(name[:-3], gzip.decompress(a), gzip.decompress(b))
        except OSError as exc:
            inner = f"  (cannot decompress: {exc})"
        same = gzip.decompress(a) == gzip.decompress(b)
        return header + ("\n  content is identical" if same else "\n" + inner)
    try:
        text_a, text_b = a.decode("utf-8"), b.decode("utf-8")
    except UnicodeDecodeError:
        offset = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), None)
        if offset is None:
            return f"  binary; sizes {len(a)} vs {len(b)} (one is a prefix of the other)"
        start = max(0, offset - 16)
        return (
            f"  binary; sizes {len(a)} vs {len(b)}; first difference at byte {offset}:\n"
            f"    {a[start : offset + 32]!r}\n    {b[start : offset + 32]!r}"
        )
    lines = list(
        difflib.unified_diff(
            text_a.splitlines(), text_b.splitlines(), "first", "second", n=1, lineterm=""
        )
    )
    shown = [f"    {line[:200]}" for line in lines[:MAX_DIFF_LINES]]
    if len(lines) > MAX_DIFF_LINES:
        shown.append(f"    ... {len(lines) - MAX_DIFF_LINES} more diff lines")
    return "\n".join(shown)


def compare(first: Path, second: Path, names: set[str] | None, exclude: set[str]) -> str:
    """Return a report of how two site trees differ ("" if they are byte-identical).

    Only ``names`` are compared when given; ``exclude`` names are left out.
    """
    a, b = tree(first), tree(second)
    keys = (a.keys() | b.keys()) if names is None else names
    keys = {k for k in keys if k not in exclude}
    only_a = sorted(k for k in keys if k in a and k not in b)
    only_b = sorted(k for k in keys if k in b and k not in a)
    differ = sorted(k for k in keys if k in a and k in b and a[k] != b[k])
    report = []
    if only_a:
        report.append(f"only in the first build: {only_a}")
    if only_b:
        report.append(f"only in the second build: {only_b}")
    if differ:
        report.append(f"{len(differ)} file(s) differ: {differ}")
        for name in differ[:MAX_FILES_SHOWN]:
            diff = short_diff(name, (first / name).read_bytes(), (second / name).read_bytes())
            report.append(f"--- {name}\n{diff}")
    return "\n".join(report)


def check_inputs(builds: Builds) -> None:
    """Fail with a clear message if the project changed between the two builds."""
    assert not builds.inputs_changed, (
        "the project's inputs changed while the two builds ran (edited by another process?); "
        f"run the test again: {builds.inputs_changed[:10]}"
    )


def test_two_builds_give_byte_identical_sites(builds: Builds) -> None:
    check_inputs(builds)
    files = tree(builds.first)
    assert "index.html" in files and "sitemap.xml.gz" in files, sorted(files)[:20]
    report = compare(builds.first, builds.second, None, exclude={PDF})
    assert not report, "the two builds differ:\n" + report


def test_two_builds_give_the_same_pdf(builds: Builds) -> None:
    assert BUILD_PDF.is_file(), f"{BUILD_PDF.relative_to(ROOT)} makes the PDF this compares"
    check_inputs(builds)
    assert (builds.first / PDF).is_file(), f"{BUILD_PDF.name} wrote no {PDF}"
    report = compare(builds.first, builds.second, {PDF}, exclude=set())
    assert not report, f"the two builds' {PDF} differ:\n" + report


def test_the_report_names_differing_files(tmp_path: Path) -> None:
    """The comparison itself works: it finds and shows every kind of difference."""
    first, second = tmp_path / "a", tmp_path / "b"
    for site, stamp, text in ((first, 1, "same\nold\n"), (second, 2, "same\nnew\n")):
        site.mkdir()
        (site / "page.html").write_text(text, encoding="utf-8")
        (site / "same.txt").write_text("x", encoding="utf-8")
        (site / "sitemap.xml.gz").write_bytes(gzip.compress(b"<urlset/>", mtime=stamp))
    (first / "extra.css").write_text("a{}", encoding="utf-8")
    report = compare(first, second, None, exclude=set())
    assert "only in the first build: ['extra.css']" in report
    assert "2 file(s) differ: ['page.html', 'sitemap.xml.gz']" in report
    assert "-old" in report and "+new" in report
    assert "gzip headers" in report and "content is identical" in report
    assert "same.txt" not in report
    assert compare(first, first, None, exclude=set()) == ""
