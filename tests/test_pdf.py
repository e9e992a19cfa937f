"""The PDF of the review: the library (fetcher, combination) and end-to-end builds.

Unit tests use the hand-made built site in ``tests/fixtures/pdf/built`` (with its
``mkdocs.yml``). End-to-end tests build the real site once per module with
``mkdocs build --strict`` and run ``scripts/build_pdf.py`` on it, then read the PDF with
pypdf and poppler's ``pdftotext``/``pdffonts``. The build's wall time and peak RSS (from
``resource.getrusage`` in the child) are printed, so ``pytest -s`` shows them.
"""

from __future__ import annotations

import html
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, needs
from livingreview import pdf
from livingreview.manifest import MANIFEST_FILE, read_settings, write_manifest
from pdf_support import (
    differences,
    document_facts,
    link_uris,
    marked_content,
    structure_elements,
    text_sizes,
)
from pypdf import PdfReader

SCRIPT = ROOT / "scripts" / "build_pdf.py"
FIXTURE = FIXTURES / "pdf"
EPOCH = 1763700000  # 2025-11-21T04:40:00Z
A4 = (595.28, 841.89)
LETTER = (612.0, 792.0)
needs_poppler = needs(
    None
    if shutil.which("pdftotext") and shutil.which("pdffonts")
    else "poppler-utils (pdftotext, pdffonts) is not installed"
)

# Runs build_pdf.py in this child and reports the child's own peak RSS and wall time.
_MEASURE = """
import resource, runpy, sys, time
script = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path.insert(0, script.rsplit("/", 1)[0])
start = time.perf_counter()
code = 0
try:
    runpy.run_path(script, run_name="__main__")
except SystemExit as exc:
    code = exc.code or 0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"measure: peak_rss_kb={peak} seconds={time.perf_counter() - start:.2f}", file=sys.stderr)
sys.exit(code)
"""


@dataclass
class Run:
    """One run of ``build_pdf.py``."""

    returncode: int
    stderr: str
    seconds: float
    peak_rss_mb: float


def build_pdf(*args: str, cwd: Path = ROOT, epoch: int | None = EPOCH) -> Run:
    """Run ``scripts/build_pdf.py`` with ``args`` in a child process, measured."""
    env = dict(os.environ)
    env.pop("SOURCE_DATE_EPOCH", None)
    if epoch is not None:
        env["SOURCE_DATE_EPOCH"] = str(epoch)
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(SCRIPT), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    match = re.search(r"measure: peak_rss_kb=(\d+) seconds=([\d.]+)", result.stderr)
    assert match, result.stderr
    return Run(result.returncode, result.stderr, float(match.group(2)), int(match.group(1)) / 1024)


def mkdocs_build(root: Path, site_dir: Path) -> None:
    """Build the site at ``root`` strictly into ``site_dir``."""
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr


def outline(reader: PdfReader) -> list[tuple[int, str, int]]:
    """Return the bookmarks as (level, title, page index), in order."""
    out: list[tuple[int, str, int]] = []

    def walk(items: list, level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
            else:
                out.append((level, str(item.title), reader.get_destination_page_number(item)))

    walk(reader.outline, 1)
    return out


def pdftotext(path: Path) -> list[str]:
    """Return the text of each page (poppler)."""
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.split("\f")


def study_labels(site: Path) -> dict[str, str]:
    """Return each study's label (``Feder 2014``) from its built page's heading, by id."""
    labels = {}
    for page in sorted((site / "studies").glob("*/index.html")):
        match = re.search(r"<h1[^>]*>(.*?)</h1>", page.read_text(encoding="utf-8"), re.S)
        assert match, page
        text = html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).replace("¶", "")
        labels[page.parent.name] = text.split(":")[0].strip()
    return labels


def citation_numbers(text: str) -> set[int]:
    """Return the numbers of numeric citations in text: ``[3]``, ``[1; 2]``, ``[4, p. 5]``."""
    numbers: set[int] = set()
    for bracket in re.findall(r"\[([^\[\]]{1,300})\]", text):
        parts = [p.strip() for p in bracket.split(";")]
        found = [re.fullmatch(r"(\d+)(?:,\s*\S.*)?", p, re.S) for p in parts]
        if all(found):
            numbers.update(int(m.group(1)) for m in found if m)
    return numbers


# --- Unit tests: the fetcher ----------------------------------------------------------------


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A copy of the hand-made built site, with a file and a folder outside it."""
    built = tmp_path / "built"
    shutil.copytree(FIXTURE / "built", built)
    (tmp_path / "secret.txt").write_text("outside", encoding="utf-8")
    return built


def test_fetcher_serves_files_of_the_site(site: Path) -> None:
    url = (site / "pixel.svg").as_uri()
    assert pdf.check_url(url, site) == (site / "pixel.svg").resolve()
    response = pdf.SiteFetcher(site).fetch(url)
    assert response.read().startswith(b"<svg")
    assert response.content_type == "image/svg+xml"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x.png",
        "https://example.org/x.css",
        "HTTPS://EXAMPLE.ORG/X.CSS",
        "data:image/png;base64,iVBORw0KGgo=",
        "ftp://example.org/x",
        "file://example.org/etc/passwd",
        "file:///etc/passwd",
        "relative/x.png",
    ],
)
def test_fetcher_refuses_other_urls(site: Path, url: str) -> None:
    with pytest.raises(pdf.RefusedURL):
        pdf.check_url(url, site)


def test_fetcher_refuses_traversal_out_of_the_site(site: Path) -> None:
    outside = site.parent / "secret.txt"
    for url in (
        site.as_uri() + "/../secret.txt",
        site.as_uri() + "/%2e%2e/secret.txt",
        site.as_uri() + "/methods/..%2f..%2fsecret.txt",
        outside.as_uri(),
    ):
        with pytest.raises(pdf.RefusedURL):
            pdf.check_url(url, site)


def test_fetcher_refuses_symlinks_that_leave_the_site(site: Path) -> None:
    (site / "link.txt").symlink_to(site.parent / "secret.txt")
    (site / "linked-dir").symlink_to(site.parent)
    for name in ("link.txt", "linked-dir/secret.txt"):
        with pytest.raises(pdf.RefusedURL, match="outside"):
            pdf.check_url((site / name).as_uri(), site)


def test_fetcher_refuses_missing_files_and_folders(site: Path) -> None:
    for url in ((site / "missing.png").as_uri(), (site / "methods").as_uri()):
        with pytest.raises(pdf.RefusedURL, match="no such file"):
            pdf.check_url(url, site)


def test_fetcher_serves_listed_font_files_only(site: Path, tmp_path: Path) -> None:
    font = tmp_path / "fonts" / "DejaVuSans.ttf"
    font.parent.mkdir()
    font.write_bytes(b"\x00\x01\x00\x00")
    with pytest.raises(pdf.RefusedURL):
        pdf.check_url(font.as_uri(), site)
    assert pdf.check_url(font.as_uri(), site, extra_files=[font]) == font.resolve()


def test_fetcher_logs_each_refused_url_once(site: Path, caplog: pytest.LogCaptureFixture) -> None:
    fetcher = pdf.SiteFetcher(site)
    for _ in range(2):
        with pytest.raises(pdf.RefusedURL):
            fetcher.fetch("http://127.0.0.1:9/x.png")
    warnings = [r.getMessage() for r in caplog.records if r.name == "livingreview.pdf"]
    assert warnings == ["refused to fetch http://127.0.0.1:9/x.png: http URLs are not fetched"]
    assert fetcher.refused == ["http://127.0.0.1:9/x.png"]


# --- Unit tests: configuration, metadata, combination ---------------------------------------


def test_nav_entries_flatten_sections_and_skip_external_links() -> None:
    config = {
        "nav": [
            "index.md",
            {"Methods": "methods.md"},
            {"Results": [{"PTSD": "ptsd.md"}, {"Studies": "studies/index.md"}]},
            {"Code": "https://github.com/example"},
        ]
    }
    assert pdf.nav_entries(config) == [
        (None, ""),
        ("Methods", "methods/"),
        ("PTSD", "ptsd/"),
        ("Studies", "studies/"),
    ]


def test_config_loader_reads_mkdocs_tags_as_plain_data(tmp_path: Path) -> None:
    path = tmp_path / "mkdocs.yml"
    path.write_text(
        "site_name: !ENV [NAME, 'Review']\n"
        "markdown_extensions:\n"
        "  - pymdownx.emoji:\n"
        "      emoji_index: !!python/name:material.extensions.emoji.twemoji\n",
        encoding="utf-8",
    )
    assert pdf.load_config(path)["site_name"] == ["NAME", "Review"]


def test_source_date_epoch_from_environment_git_or_fixed_date(tmp_path: Path) -> None:
    assert pdf.source_date_epoch(tmp_path, {"SOURCE_DATE_EPOCH": "1234"}) == 1234
    with pytest.raises(pdf.PdfError, match="SOURCE_DATE_EPOCH"):
        pdf.source_date_epoch(tmp_path, {"SOURCE_DATE_EPOCH": "yesterday"})
    assert pdf.source_date_epoch(tmp_path, {}) == pdf.FALLBACK_EPOCH
    if shutil.which("git") and (ROOT / ".git").exists():
        stamp = pdf.source_date_epoch(ROOT, {})
        assert stamp == pdf.source_date_epoch(ROOT, {})  # two runs agree
        assert stamp > pdf.FALLBACK_EPOCH


def test_version_from_citation_cff_else_pyproject(tmp_path: Path) -> None:
    config = {"site_name": "Review", "site_author": "A. Author"}
    assert pdf.review_metadata(config, tmp_path, EPOCH).version is None
    (tmp_path / "pyproject.toml").write_text('[project]\nversion = "1.2.0"\n', encoding="utf-8")
    assert pdf.review_metadata(config, tmp_path, EPOCH).version == "1.2.0"
    (tmp_path / "CITATION.cff").write_text(
        'cff-version: 1.2.0\nversion: "2.0.0"\nauthors:\n  - given-names: Ada\n'
        "    family-names: Lovelace\nkeywords: [ketamine]\n",
        encoding="utf-8",
    )
    meta = pdf.review_metadata(config, tmp_path, EPOCH)
    assert (meta.version, meta.authors, meta.keywords) == (
        "2.0.0",
        ("Ada Lovelace",),
        ("ketamine",),
    )
    assert meta.date == "21 November 2025"
    assert meta.iso_date == "2025-11-21T04:40:00Z"
    assert "Version 2.0.0" in meta.citation


@pytest.fixture
def combined() -> tuple[str, list[pdf.Page]]:
    config = pdf.load_config(FIXTURE / "mkdocs.yml")
    meta = pdf.review_metadata(config, FIXTURE, EPOCH)
    return pdf.combine(FIXTURE / "built", config, meta)


def test_combine_orders_pages_and_numbers_sections(combined: tuple[str, list]) -> None:
    document, pages = combined
    assert [(p.url, p.kind, p.number) for p in pages] == [
        ("", "chapter", "1"),
        ("methods/", "chapter", "2"),
        ("studies/smith-2020/", "study", "A.1"),
        ("references/", "bibliography", ""),
    ]
    body = document[document.index("<body>") :]
    order = [body.index(f'id="{slug}"') for slug in ("home", "methods", "appendix", "references")]
    assert order == sorted(order)
    assert "bookmark-label: &quot;2 Methods&quot;" in body
    assert "string-set: chapter &quot;Methods&quot;" in body
    assert '<span class="pdf-number">2.1</span> Scope' in body


def test_combine_keeps_only_the_article(combined: tuple[str, list]) -> None:
    document, _ = combined
    for absent in (
        "Theme chrome",
        "Footer chrome",
        "headerlink",
        "¶",
        "Edit this page",
        "<script",
        "document.write",
        "<form",
        "<input",
        "Hidden text",
        "example.org/x.css",
        "analytics.js",
    ):
        assert absent not in document, absent


def test_combine_rewrites_ids_and_links(combined: tuple[str, list]) -> None:
    document, _ = combined
    assert 'id="home--key-findings"' in document
    assert 'id="methods--scope"' in document
    assert 'href="#methods--scope"' in document  # ../methods/#scope
    assert 'href="#studies-smith-2020"' in document  # link to a page -> its section
    assert 'href="#methods--characteristics"' in document  # from a study page
    assert 'href="#home"' in document  # ../ -> the home section
    assert 'href="https://doi.org/10.1000/xyz"' in document
    # Citations keep their numbers and point at the one bibliography.
    assert document.count('href="#ref-smith2020"') == 3
    assert 'id="ref-smith2020"' in document
    assert "../references/" not in document


def test_combine_keeps_one_bibliography(combined: tuple[str, list]) -> None:
    document, _ = combined
    assert document.count('<ol class="review-references') == 1
    assert "review-references--all" in document
    assert "reference-backlink" not in document
    # Downloads cannot work offline without site_url: the paragraph goes.
    assert "Download the cited references" not in document


def test_combine_makes_download_links_absolute_with_site_url() -> None:
    config = pdf.load_config(FIXTURE / "mkdocs.yml")
    config["site_url"] = "https://example.org/review/"
    meta = pdf.review_metadata(config, FIXTURE, EPOCH)
    document, _ = pdf.combine(FIXTURE / "built", config, meta)
    assert 'href="https://example.org/review/downloads/references.bib"' in document


def test_combine_keeps_figures_as_svg(combined: tuple[str, list]) -> None:
    document, _ = combined
    assert 'viewBox="0 0 400 100"' in document  # case kept: SVG attributes are case-sensitive
    assert 'patternUnits="userSpaceOnUse"' in document
    assert 'fill="url(#home--figure-map-hatch)"' in document
    assert 'id="home--figure-map-hatch"' in document
    assert 'aria-labelledby="home--figure-map-title"' in document
    assert "height:auto" not in document  # WeasyPrint would lay the SVG out as a square
    assert f'font-family="{pdf.SVG_FONT}"' in document
    assert "<details" in document and 'open=""' in document


def test_combine_makes_resources_absolute_for_the_fetcher(combined: tuple[str, list]) -> None:
    document, _ = combined
    assert f'src="{(FIXTURE / "built" / "pixel.svg").resolve().as_uri()}"' in document
    assert 'src="http://127.0.0.1:9/x.png"' in document  # left for the fetcher to refuse


def test_combine_fails_clearly_on_a_missing_nav_page(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE / "built", tmp_path / "built")
    shutil.rmtree(tmp_path / "built" / "methods")
    config = pdf.load_config(FIXTURE / "mkdocs.yml")
    meta = pdf.review_metadata(config, FIXTURE, EPOCH)
    with pytest.raises(pdf.PdfError, match=r"methods/index\.html is missing"):
        pdf.combine(tmp_path / "built", config, meta)


def test_serialize_round_trips_html_and_svg() -> None:
    source = (
        '<div class="x" data-a="1 &amp; 2"><pre>\n\nkept</pre><br><img src="a.png" alt="&quot;">'
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'viewBox="0 0 1 1"><clipPath id="c"><rect width="1" height="1"></rect></clipPath>'
        '<use xlink:href="#c"></use></svg>a &lt; b</div>'
    )
    first = pdf.serialize(
        pdf.parse_article(f'<article class="md-content__inner">{source}</article>', "x").find("div")
    )
    again = pdf.serialize(
        pdf.parse_article(f'<article class="md-content__inner">{first}</article>', "x").find("div")
    )
    assert first == again
    for kept in ("viewBox=", "<clipPath", 'xlink:href="#c"', "<pre>\n\nkept</pre>", "a &lt; b"):
        assert kept in first, kept
    assert "</br>" not in first and "</img>" not in first


# --- A small render: nothing outside the site is fetched ------------------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Records every request; answers 404."""

    requests: list[str]

    def do_GET(self) -> None:
        self.requests.append(self.path)
        self.send_error(404)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[tuple[int, list[str]]]:
    """A local HTTP server on 127.0.0.1 that records the paths requested from it."""
    requests: list[str] = []
    handler = type("Handler", (_Recorder,), {"requests": requests})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_render_fetches_nothing_outside_the_site(
    site: Path,
    tmp_path: Path,
    http_server: tuple[int, list[str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    port, requests = http_server
    page = site / "index.html"
    text = page.read_text(encoding="utf-8").replace("127.0.0.1:9", f"127.0.0.1:{port}")
    text = text.replace(
        "</article>",
        f'<div style="background: url(http://127.0.0.1:{port}/bg.png)">x</div>'
        f'<object data="http://127.0.0.1:{port}/o.svg"></object>'
        f'<svg xmlns="http://www.w3.org/2000/svg"><image href="http://127.0.0.1:{port}/i.png"'
        ' width="1" height="1"></image></svg></article>',
    )
    page.write_text(text, encoding="utf-8")
    shutil.copy(FIXTURE / "mkdocs.yml", tmp_path / "mkdocs.yml")
    result = pdf.build_pdf(site, config_path=tmp_path / "mkdocs.yml", epoch=EPOCH)
    assert requests == []
    assert result.path.is_file() and result.pages >= 5
    assert f"http://127.0.0.1:{port}/x.png" in result.refused
    assert f"http://127.0.0.1:{port}/bg.png" in result.refused
    assert f"http://127.0.0.1:{port}/i.png" in result.refused
    messages = [r.getMessage() for r in caplog.records]
    assert f"refused to fetch http://127.0.0.1:{port}/x.png: http URLs are not fetched" in messages


# --- End to end: the real site --------------------------------------------------------------


@dataclass
class RealPdf:
    """The real site and its PDF, built once for the module."""

    site: Path
    path: Path
    run: Run
    reader: PdfReader


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> RealPdf:
    site = tmp_path_factory.mktemp("real") / "site"
    mkdocs_build(ROOT, site)
    run = build_pdf("--site-dir", str(site))
    assert run.returncode == 0, run.stderr
    path = site / pdf.PDF_NAME
    reader = PdfReader(path)
    pages = len(reader.pages)
    print(
        f"\nPDF build: {pages} pages in {run.seconds:.1f} s ({pages / run.seconds:.1f} pages/s), "
        f"peak RSS {run.peak_rss_mb:.0f} MB ({run.peak_rss_mb / pages:.2f} MB/page)"
    )
    return RealPdf(site, path, run, reader)


def test_progress_goes_to_stderr(real: RealPdf) -> None:
    assert re.search(r"build_pdf: combined \d+ pages", real.run.stderr)
    assert re.search(
        r"build_pdf: wrote .*review\.pdf: \d+ pages .* s \(\d+ pages/s\)", real.run.stderr
    )
    assert "Traceback" not in real.run.stderr


def test_outline_has_every_section_and_study(real: RealPdf) -> None:
    marks = outline(real.reader)
    top = [title for level, title, _ in marks if level == 1]
    config = pdf.load_config(ROOT / "mkdocs.yml")
    for title, url in pdf.nav_entries(config):
        assert title is not None
        if url in pdf.WEB_ONLY_URLS:  # the study explorer: left out (see below)
            assert not any(t.endswith(f" {title}") for t in top), (title, top)
            continue
        assert any(t == title or t.endswith(f" {title}") for t in top), (title, top)
    assert "Appendix: Study records" in top
    assert top[-1] == "References"
    nested = " | ".join(title for level, title, _ in marks if level == 2)
    for study_id, label in study_labels(real.site).items():
        assert f" {label}" in nested, study_id
    pages = [page for _, _, page in marks]
    assert pages == sorted(pages)  # bookmarks follow the reading order


def test_page_count_and_a4_by_default_wide_tables_landscape(real: RealPdf) -> None:
    assert len(real.reader.pages) > 40
    landscape = 0
    for page in real.reader.pages:
        box = page.mediabox
        size = (float(box.width), float(box.height))
        if size[0] > size[1]:  # the pages of a wide table
            landscape += 1
            size = size[::-1]
        assert size == pytest.approx(A4, abs=0.5)
    assert 0 < landscape < len(real.reader.pages) / 3


def test_metadata(real: RealPdf) -> None:
    config = pdf.load_config(ROOT / "mkdocs.yml")
    meta = pdf.review_metadata(config, ROOT, EPOCH)
    info = real.reader.metadata
    assert info is not None
    assert info.title == config["site_name"]
    assert info.author == ", ".join(meta.authors) and info.author
    assert info.subject == meta.description and info.subject
    assert info["/Keywords"] == ", ".join(meta.keywords) and meta.keywords
    assert real.reader.trailer["/Root"]["/Lang"] == "en"
    # The PDF read these from the settings the build wrote, which are mkdocs.yml's.
    settings = read_settings(real.site)
    assert settings is not None and settings["site_name"] == config["site_name"]
    assert pdf.review_metadata(settings, ROOT, EPOCH) == meta
    stamp = datetime.fromtimestamp(EPOCH, tz=UTC).strftime("D:%Y%m%d%H%M%S")
    assert info["/CreationDate"].startswith(stamp)
    assert info["/ModDate"].startswith(stamp)


@needs_poppler
def test_all_fonts_are_embedded_dejavu(real: RealPdf) -> None:
    result = subprocess.run(
        ["pdffonts", str(real.path)], capture_output=True, text=True, check=True
    )
    rows = result.stdout.splitlines()[2:]
    assert rows
    for row in rows:
        fields = row.split()
        assert fields[-5] == "yes", row  # the "emb" column
        assert re.search(r"Review-(Serif|Sans|Mono)|DejaVu", fields[0]), row


@needs_poppler
def test_every_study_and_no_unresolved_marker(real: RealPdf) -> None:
    text = " ".join(" ".join(pdftotext(real.path)).split())
    for study_id, label in study_labels(real.site).items():
        assert label in text, study_id
    for marker in ("[@", "[[", "??", "\\textit", "{\\", "\\emph"):
        assert marker not in text, marker


@needs_poppler
def test_every_citation_number_is_in_the_bibliography(real: RealPdf) -> None:
    start = next(page for level, title, page in outline(real.reader) if title == "References")
    pages = pdftotext(real.path)
    body, bibliography = "\n".join(pages[:start]), "\n".join(pages[start:])
    cited = citation_numbers(body)
    # List markers start a line: "12. Author ..." (a wrapped "2299124. doi:..." is not one, nor
    # a year wrapped to the start of a line before its link, "2025. https://...").
    marker = r"^\s*(\d{1,4})\.\s(?!https?://|doi)"
    listed = {int(n) for n in re.findall(marker, bibliography, re.M)}
    assert cited, "no citation found in the text"
    assert cited <= listed, sorted(cited - listed)
    assert listed == set(range(1, max(listed) + 1))


def test_links_to_doi_and_inside_the_document(real: RealPdf) -> None:
    uris: list[str] = []
    internal = 0
    for page in real.reader.pages:
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            action = annotation.get("/A")
            if action is not None and action.get("/S") == "/URI":
                uris.append(str(action["/URI"]))
            elif "/Dest" in annotation or (action is not None and action.get("/S") == "/GoTo"):
                internal += 1
    assert any(uri.startswith("https://doi.org/10.") for uri in uris)
    assert not any(uri.startswith("file:") for uri in uris)
    assert internal > 100


def test_same_sources_give_the_same_bytes(real: RealPdf, tmp_path: Path) -> None:
    again = tmp_path / "again.pdf"
    run = build_pdf("--site-dir", str(real.site), "--output", str(again))
    assert run.returncode == 0, run.stderr
    assert again.read_bytes() == real.path.read_bytes()


@needs_poppler
def test_parts_rendered_at_once_give_the_document_one_process_gives(
    real: RealPdf, tmp_path: Path
) -> None:
    # The module's PDF is rendered in parts (the default); this one in one process.
    whole = tmp_path / "whole.pdf"
    run = build_pdf("--site-dir", str(real.site), "--output", str(whole), "--jobs", "1")
    assert run.returncode == 0, run.stderr
    assert "parts at once" in real.run.stderr and "parts at once" not in run.stderr
    assert differences(document_facts(PdfReader(whole)), document_facts(real.reader)) == []
    layout = ["pdftotext", "-layout", "-enc", "UTF-8"]
    one = subprocess.run([*layout, str(whole), "-"], capture_output=True, check=True).stdout
    parts = subprocess.run([*layout, str(real.path), "-"], capture_output=True, check=True).stdout
    assert parts.split(b"\f") == one.split(b"\f")


def test_missing_or_empty_site_fails_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for site_dir in (tmp_path / "missing", tmp_path / "empty"):
        run = build_pdf("--site-dir", str(site_dir))
        assert run.returncode == 1
        lines = [line for line in run.stderr.splitlines() if not line.startswith("measure:")]
        assert len(lines) == 1, lines
        assert "run mkdocs build first" in lines[0]
        assert "Traceback" not in run.stderr


# --- End to end: outside URLs in a page are never fetched -----------------------------------


def test_outside_urls_in_a_page_are_not_fetched(
    project_copy: Callable[..., Path], http_server: tuple[int, list[str]]
) -> None:
    port, requests = http_server
    root = project_copy(site=True)
    about = root / "docs" / "about.md"
    about.write_text(
        about.read_text(encoding="utf-8")
        + f'\n\n<img src="http://127.0.0.1:{port}/x.png" alt="outside image">\n\n'
        f'<link rel="stylesheet" href="https://example.org/x.css">\n\n'
        f'<link rel="stylesheet" href="http://127.0.0.1:{port}/x.css">\n\n'
        f'<iframe src="http://127.0.0.1:{port}/frame.html"></iframe>\n',
        encoding="utf-8",
    )
    site = root / "site"
    mkdocs_build(root, site)
    run = build_pdf("--site-dir", str(site), "--paper", "letter", cwd=root)
    assert run.returncode == 0, run.stderr
    assert requests == []
    assert f"refused to fetch http://127.0.0.1:{port}/x.png" in run.stderr
    assert "removed <link> of https://example.org/x.css" in run.stderr
    reader = PdfReader(site / pdf.PDF_NAME)
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(LETTER, abs=0.5)


def test_pages_come_from_the_manifest_the_build_wrote(tmp_path: Path) -> None:
    site = tmp_path / "built"
    shutil.copytree(FIXTURE / "built", site)
    config = pdf.load_config(FIXTURE / "mkdocs.yml")
    from_config = [(p.url, p.title) for p in pdf.discover_pages(site, config)]
    # The build's own reading order and titles win over mkdocs.yml (here: reversed, renamed).
    chapters = [(url, title) for url, title in from_config if url not in ("references/",)]
    chapters = [(u, t) for u, t in chapters if not u.startswith("studies/") or u == "studies/"]
    write_manifest(site, [(url, f"Built {url or 'home'}") for url, _ in reversed(chapters)])
    from_manifest = [(p.url, p.title) for p in pdf.discover_pages(site, config)]
    assert from_manifest[: len(chapters)] == [
        (url, f"Built {url or 'home'}") for url, _ in reversed(chapters)
    ]
    (site / MANIFEST_FILE).write_text("{not json", "utf-8")
    with pytest.raises(pdf.PdfError, match="not a manifest of built pages"):
        pdf.discover_pages(site, config)


def test_metadata_comes_from_the_settings_the_build_wrote(tmp_path: Path) -> None:
    site = tmp_path / "built"
    shutil.copytree(FIXTURE / "built", site)
    config_path = FIXTURE / "mkdocs.yml"
    # A site built without the manifest (plain MkDocs): the PDF reads mkdocs.yml.
    assert pdf.site_config(site, config_path) == pdf.load_config(config_path)
    write_manifest(site, [("", "Home")])  # a manifest from before it held settings
    assert pdf.site_config(site, config_path)["site_name"] == "Fixture review"
    settings = {
        "site_name": "Built <name>",
        "site_author": "Built authors",
        "site_description": "Built description",
        "site_url": "https://example.org/built/",
        "repo_url": None,
        "copyright": "Built notice",
        "theme": {"language": "de"},
        "extra": {"review": {"keywords": ["built keyword"]}},
    }
    write_manifest(site, [("", "Home")], settings)
    assert read_settings(site) == settings
    # The build's settings win; mkdocs.yml is not read at all (here it does not exist).
    config = pdf.site_config(site, tmp_path / "missing" / "mkdocs.yml")
    meta = pdf.review_metadata(config, tmp_path, EPOCH)
    assert (meta.title, meta.authors, meta.description) == (
        "Built <name>",
        ("Built authors",),
        "Built description",
    )
    assert (meta.url, meta.notice, meta.lang, meta.keywords) == (
        "https://example.org/built/",
        "Built notice",
        "de",
        ("built keyword",),
    )
    document, _ = pdf.combine(site, config, meta)
    assert "<title>Built &lt;name&gt;</title>" in document
    assert "Built notice" in document
    (site / MANIFEST_FILE).write_text('{"pages": [], "settings": ["x"]}', "utf-8")
    with pytest.raises(pdf.PdfError, match="settings is not a mapping"):
        pdf.site_config(site, config_path)


# --- Tagged PDF, web-only content, print typography -----------------------------------------


LOCAL = re.compile(r"127\.0\.0\.1|localhost|0\.0\.0\.0|\[::1\]", re.IGNORECASE)


@needs_poppler
def test_the_pdf_is_tagged_pdf_ua(real: RealPdf) -> None:
    info = subprocess.run(["pdfinfo", str(real.path)], capture_output=True, text=True, check=True)
    assert re.search(r"^Tagged:\s+yes$", info.stdout, re.M), info.stdout
    root = real.reader.trailer["/Root"]
    assert root["/Lang"] == "en"
    assert root["/MarkInfo"]["/Marked"] in (True, "true")
    assert root["/ViewerPreferences"]["/DisplayDocTitle"] in (True, "true")
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    assert re.search(r"pdfuaid:part(=\"|>)1", xmp), xmp
    assert "Ketamine for eating disorders and PTSD" in xmp  # dc:title
    headings = structure_elements(real.reader, {"/H1", "/H2", "/Table", "/TH", "/L", "/Link"})
    assert {str(h["/S"]) for h in headings} == {"/H1", "/H2", "/Table", "/TH", "/L", "/Link"}


def test_every_figure_has_alternative_text_from_its_data(real: RealPdf) -> None:
    figures = structure_elements(real.reader, {"/Figure"})
    # Each figure is built twice, wide and narrow (for phones); the PDF prints the wide one.
    built = sum(
        text.count('class="review-figure__svg"') - text.count("review-figure__variant--narrow")
        for page in real.site.glob("**/index.html")
        if "explorer" not in page.parts
        for text in [page.read_text(encoding="utf-8")]
    )
    assert len(figures) == built > 5  # one per figure: the narrow layouts are not printed
    alts = [str(figure.get("/Alt", "")) for figure in figures]
    assert all(len(alt) > 40 for alt in alts), alts
    # The forest plot's text gives its estimates, as the data table does.
    forest = [alt for alt in alts if alt.startswith("Forest plot")]
    assert forest and all(re.search(r"\d \(−?\d[\d.]* to −?\d", alt) for alt in forest), forest


@needs_poppler
def test_no_web_only_content_or_local_address(real: RealPdf) -> None:
    text = " ".join(" ".join(pdftotext(real.path)).split())
    for phrase in ("column heading", "select a column", "Without JavaScript", "Clear filters"):
        assert phrase.lower() not in text.lower(), phrase
    assert not LOCAL.search(text), LOCAL.search(text)
    uris = link_uris(real.reader)
    assert uris and not [uri for uri in uris if LOCAL.search(uri)]
    assert "Study explorer" not in [title for _, title, _ in outline(real.reader)]


def test_figure_text_prints_at_least_8_pt(real: RealPdf) -> None:
    # A figure is scaled to the text width; its 12-unit SVG text must stay legible on paper
    # (the text-size target: 8 pt or more), in every figure, forest plots included.
    figures = structure_elements(real.reader, {"/Figure"})
    measured = {}
    for figure in figures:
        drawn = marked_content(real.reader, {"/Figure"}, root=figure)
        measured[str(figure.get("/Alt", ""))[:60]] = [
            size
            for index in sorted({page for page, _ in drawn})
            for mcid, size in text_sizes(real.reader, index)
            if (index, mcid) in drawn
        ]
    assert any(alt.startswith("Forest plot") for alt in measured), list(measured)
    assert all(measured.values()), [alt for alt, sizes in measured.items() if not sizes]
    smallest = {alt: round(min(sizes), 2) for alt, sizes in measured.items()}
    assert min(smallest.values()) >= 8.0 - 0.01, smallest


def test_table_text_is_at_least_8_5_pt(real: RealPdf) -> None:
    cells = marked_content(real.reader, {"/TD", "/TH"})
    sizes = [
        size
        for index in sorted({page for page, _ in cells})
        for mcid, size in text_sizes(real.reader, index)
        if (index, mcid) in cells
    ]
    assert len(sizes) > 1000  # every table of the review, measured as drawn
    assert min(sizes) >= 8.5 - 0.01, sorted(sizes)[:5]


@needs_poppler
def test_only_long_ordinary_words_are_hyphenated(real: RealPdf) -> None:
    lines = "\n".join(pdftotext(real.path)).splitlines()
    # WeasyPrint ends a hyphenated line with U+2010; a hyphen written in the text is U+002D.
    broken = [line.split()[-1][:-1] for line in lines if line.endswith("\u2010")]
    assert broken, "no hyphenation at all: is hyphens: auto still set?"
    for fragment in broken:
        word = fragment.lstrip("(\"'“‘").rpartition("-")[2]
        assert len(word) >= 4 and word.isalpha(), fragment  # at least 4 letters before the break
        assert word[0].islower(), fragment  # never a name (or a sentence's first word)
    labels = {label.split()[0] for label in study_labels(real.site).values()}
    for line in lines:
        for name in labels:
            assert not any(line.endswith(name[:k] + "\u2010") for k in range(1, len(name))), line


def test_combine_prints_the_wide_figure_with_alt_text_and_wide_tables_landscape(
    tmp_path: Path,
) -> None:
    site = tmp_path / "built"
    shutil.copytree(FIXTURE / "built", site)
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" role="img">'
        "<title>Forest plot: ratio</title><desc>Smith 2020: 1.5 (0.9 to 2.1)</desc></svg>"
    )
    cells = "".join(f"<th>C{n}</th>" for n in range(pdf.WIDE_TABLE_COLUMNS))
    extra = (
        '<figure class="review-figure"><div class="review-figure__variant '
        f'review-figure__variant--wide">{svg}</div><div class="review-figure__variant '
        f'review-figure__variant--narrow">{svg.replace("ratio", "narrow")}</div>'
        "<figcaption>Effect estimates.</figcaption></figure>"
        '<figure class="review-figure"><svg xmlns="http://www.w3.org/2000/svg" '
        'viewBox="0 0 10 10"></svg><figcaption>Caption only.</figcaption></figure>'
        f'<h2 id="wide">Wide</h2><h3 id="primary">Primary</h3><table><tr>{cells}</tr></table>'
        "<p>After.</p><table><tr><th>A</th><th>B</th></tr></table>"
    )
    page = site / "index.html"
    page.write_text(
        page.read_text(encoding="utf-8").replace("</article>", extra + "</article>"), "utf-8"
    )
    config = pdf.load_config(FIXTURE / "mkdocs.yml")
    document, _ = pdf.combine(site, config, pdf.review_metadata(config, FIXTURE, EPOCH))
    assert "@page wide { size: A4 landscape; }" in document
    document = document[document.index("<body>") :]
    assert "narrow" not in document
    assert "<title>Forest plot: ratio. Smith 2020: 1.5 (0.9 to 2.1).</title>" in document
    assert "<title>Caption only.</title>" in document
    assert '<h2 id="home--wide" class="pdf-wide"' in document
    assert '<h3 id="home--primary" class="pdf-wide">' in document
    assert '<table class="pdf-wide">' in document
    assert "<table><tbody><tr><th>A</th>" in document  # a narrow table stays on portrait pages


def test_names_and_identifiers_are_kept_whole() -> None:
    article = pdf.parse_article(
        '<article class="md-content__inner"><p>As Ragnhildstveit and colleagues note, '
        "<em>ClinicalTrials.gov</em> lists co_interventions; depression improved "
        "(<code>Ragnhildstveit2021</code>).</p><h2>Ragnhildstveit</h2></article>",
        "x",
    )
    pdf.keep_names_whole(article)
    html_text = pdf.serialize(article)
    for name in ("Ragnhildstveit", "ClinicalTrials.gov", "co_interventions"):
        assert f'<span class="pdf-whole">{name}</span>' in html_text, name
    assert "depression improved" in html_text  # ordinary words may still be hyphenated
    assert "<code>Ragnhildstveit2021</code>" in html_text
    assert "<h2>Ragnhildstveit</h2>" in html_text
    assert pdf.parse_article(html_text, "y") is not None


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8000/", True),
        ("http://127.1.2.3/x", True),
        ("https://localhost/", True),
        ("http://review.localhost:8000/", True),
        ("http://[::1]:8000/", True),
        ("http://0.0.0.0:8000/", True),
        ("https://ketamine-review.github.io/ketamine-review/", False),
        ("https://doi.org/10.1000/127.0.0.1", False),
        ("mailto:someone@localhost", False),
        ("../methods/", False),
    ],
)
def test_local_addresses_are_recognised(url: str, local: bool) -> None:
    assert pdf.is_local_url(url) is local


@needs_poppler
def test_a_site_built_under_serve_gives_a_pdf_without_local_addresses(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    site = tmp_path / "built"
    shutil.copytree(FIXTURE / "built", site)
    page = site / "methods" / "index.html"
    page.write_text(
        page.read_text(encoding="utf-8").replace(
            "</article>",
            '<p>Preview it <a href="http://127.0.0.1:8000/methods/">here</a>.</p></article>',
        ),
        "utf-8",
    )
    # What `mkdocs serve` writes: its own address as site_url.
    settings = {"site_name": "Served review", "site_url": "http://127.0.0.1:8000/"}
    write_manifest(site, [("", "Home"), ("methods/", "Methods")], settings)
    (tmp_path / "CITATION.cff").write_text(
        "cff-version: 1.2.0\ntitle: Served review\nurl: https://example.org/review/\n", "utf-8"
    )
    result = pdf.build_pdf(site, config_path=tmp_path / "mkdocs.yml", epoch=EPOCH)
    text = " ".join(" ".join(pdftotext(result.path)).split())
    assert "Preview it here." in text
    assert "https://example.org/review/" in text  # the cover names the citation file's URL
    assert not LOCAL.search(text), LOCAL.search(text)
    reader = PdfReader(result.path)
    assert not [uri for uri in link_uris(reader) if LOCAL.search(uri)]
    messages = [r.getMessage() for r in caplog.records]
    assert any("site_url http://127.0.0.1:8000/ is a local address" in m for m in messages)
