"""The PDF rendered in parts at once and stitched (``livingreview.pdf.parallel``, ``.merge``).

The stitched PDF must be the document one process makes: the same pages, text, footers,
links, outline, named destinations and structure tree (compared with
``pdf_support.document_facts``), and the same bytes on every run. Most tests use the hand-made
site of ``tests/fixtures/pdf`` (six PDF pages), rendered in one process and in two and three
parts; ``tests/test_pdf.py`` compares the real review's PDF the same way.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from hashlib import sha256
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from conftest import FIXTURES, ROOT
from hypothesis import given
from hypothesis import strategies as st
from livingreview import pdf
from livingreview.pdf import parallel
from livingreview.pdf.document import Block, PrintDocument
from livingreview.pdf.merge import PART_LINK, PageMarks, merge
from markupsafe import Markup
from pdf_support import differences, document_facts
from pypdf import PdfReader
from test_pdf import EPOCH, needs_poppler, pdftotext

FIXTURE = FIXTURES / "pdf"
CONFIG = FIXTURE / "mkdocs.yml"


def build(site: Path, output: Path, jobs: int, lines: list[str] | None = None) -> Path:
    """Build the fixture site's PDF with ``jobs`` parts; progress lines go to ``lines``."""
    say = lines.append if lines is not None else None
    pdf.build_pdf(site, config_path=CONFIG, epoch=EPOCH, output=output, jobs=jobs, progress=say)
    return output


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("parallel") / "built"
    shutil.copytree(FIXTURE / "built", target)
    return target


@pytest.fixture(scope="module")
def builds(site: Path) -> dict[int, Path]:
    """The fixture's PDF in one process and in two and three parts."""
    return {jobs: build(site, site.parent / f"jobs{jobs}.pdf", jobs) for jobs in (1, 2, 3)}


# --- The stitched document is the whole document ---------------------------------------------


@pytest.mark.parametrize("jobs", [2, 3])
def test_parts_give_the_document_one_process_gives(builds: dict[int, Path], jobs: int) -> None:
    whole = document_facts(PdfReader(builds[1]))
    stitched = document_facts(PdfReader(builds[jobs]))
    assert whole["pages"] == 6
    assert differences(whole, stitched) == []


@needs_poppler
@pytest.mark.parametrize("jobs", [2, 3])
def test_every_page_reads_the_same(builds: dict[int, Path], jobs: int) -> None:
    layout = ["pdftotext", "-layout", "-enc", "UTF-8"]
    whole = subprocess.run([*layout, str(builds[1]), "-"], capture_output=True, check=True)
    parts = subprocess.run([*layout, str(builds[jobs]), "-"], capture_output=True, check=True)
    assert parts.stdout.split(b"\f") == whole.stdout.split(b"\f")


@needs_poppler
def test_footers_count_the_pages_of_the_whole_document(builds: dict[int, Path]) -> None:
    pages = pdftotext(builds[3])[:-1]  # the text ends with a form feed
    assert len(pages) == 6
    assert "Page" not in pages[0]  # the cover has no footer
    for number, text in enumerate(pages[1:], start=2):
        assert f"Page {number} of 6" in text, text


def test_parallel_rendering_gives_the_same_bytes_every_time(
    builds: dict[int, Path], site: Path, tmp_path: Path
) -> None:
    again = build(site, tmp_path / "again.pdf", 3)
    assert again.read_bytes() == builds[3].read_bytes()


def test_progress_names_the_parts(site: Path, tmp_path: Path) -> None:
    lines: list[str] = []
    build(site, tmp_path / "out.pdf", 2, lines)
    assert any(re.fullmatch(r"laid out 6 PDF pages in 2 parts at once \(.*\)", x) for x in lines)
    assert any(x.startswith("wrote 3 parts") for x in lines), lines


def test_warnings_of_the_parts_are_logged_once(
    site: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    build(site, tmp_path / "out.pdf", 3)
    messages = [r.getMessage() for r in caplog.records]
    refused = "refused to fetch http://127.0.0.1:9/x.png: http URLs are not fetched"
    assert messages.count(refused) == 1, messages


# --- What the merge keeps -------------------------------------------------------------------


def test_the_stitched_structure_tree_is_one_consistent_tree(builds: dict[int, Path]) -> None:
    with pikepdf.open(builds[3]) as doc:
        pages = {page.obj.objgen: i for i, page in enumerate(doc.pages)}
        root = doc.Root.StructTreeRoot
        assert len(root.K) == 1 and root.K[0].S == "/Document"
        # Every element points at the element it is listed under, on a page of the document.
        stack = [(root.K[0], root)]
        links: dict[tuple[int, int], pikepdf.Dictionary] = {}
        count = 0
        while stack:
            element, parent = stack.pop()
            count += 1
            assert element.P.objgen == parent.objgen
            if "/Pg" in element:
                assert element.Pg.objgen in pages
            kids = element.get("/K", pikepdf.Array())
            for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
                if not isinstance(kid, pikepdf.Dictionary):
                    continue
                if kid.get("/Type") == "/OBJR":
                    links[kid.Obj.objgen] = element
                elif kid.get("/Type", "/StructElem") == "/StructElem" and "/S" in kid:
                    stack.append((kid, element))
        assert count > 100
        nums = root.ParentTree.Nums
        keyed = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
        assert sorted(keyed) == list(range(len(keyed)))
        # Page i is key i; its value lists elements of that page.
        for i, page in enumerate(doc.pages):
            assert int(page.obj.StructParents) == i
            assert all(e.Pg.objgen == page.obj.objgen for e in keyed[i] if e is not None)
        # Every link annotation's key leads to the element that holds it (a Link, or the Span
        # WeasyPrint makes of a link's inline box).
        annotations = [a for page in doc.pages for a in page.obj.get("/Annots", [])]
        assert len(annotations) > 10
        for annotation in annotations:
            element = keyed[int(annotation.StructParent)]
            assert links[annotation.objgen].objgen == element.objgen


def test_links_between_parts_are_internal_links(builds: dict[int, Path]) -> None:
    reader = PdfReader(builds[3])
    destinations = set(reader.named_destinations)
    internal = 0
    for page in reader.pages:
        for ref in page.get("/Annots") or []:
            annotation = ref.get_object()
            action = annotation.get("/A")
            assert action is None or not str(action.get("/URI", "")).startswith(PART_LINK)
            if "/Dest" in annotation:
                internal += 1
                assert str(annotation["/Dest"]) in destinations
                assert str(annotation["/Contents"]) == str(annotation["/Dest"])
    # The contents (front) and the citations (chapters) point into other parts.
    assert internal >= 8


def test_each_font_subset_name_belongs_to_one_subset(builds: dict[int, Path]) -> None:
    with pikepdf.open(builds[3]) as doc:
        programs: dict[str, set[str]] = defaultdict(set)
        for obj in doc.objects:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor":
                font = obj.get("/FontFile2") or obj.get("/FontFile3") or obj.get("/FontFile")
                programs[str(obj.FontName)].add(sha256(font.read_bytes()).hexdigest())
        assert len(programs) > 3
        assert all(len(digests) == 1 for digests in programs.values()), programs


def _tiny(tagged: bool) -> bytes:
    from weasyprint import HTML

    options = {"pdf_variant": "pdf/ua-1", "pdf_tags": True} if tagged else {}
    html = '<html lang="en"><title>t</title><h1>Part</h1><p>Text</p></html>'
    return bytes(HTML(string=html).render(**options).write_pdf(**options))


def test_untagged_parts_make_an_untagged_document_and_mixed_parts_are_refused() -> None:
    marks = [PageMarks((), 1000.0), PageMarks((), 1000.0)]
    untagged = merge([_tiny(False), _tiny(False)], marks, identifier=b"0" * 32)
    with pikepdf.open(io.BytesIO(untagged)) as doc:
        assert len(doc.pages) == 2 and "/StructTreeRoot" not in doc.Root
    with pytest.raises(ValueError, match="some parts are tagged and some are not"):
        merge([_tiny(True), _tiny(False)], marks, identifier=b"0" * 32)


# --- Page numbers and the split ------------------------------------------------------------


@needs_poppler
def test_page_numbers_start_at_the_offset_and_count_the_total(tmp_path: Path) -> None:
    from weasyprint import HTML

    html = (
        "<style>@page { @bottom-center { content: 'Page ' counter(page) ' of ' counter(pages) }}"
        "</style><p>one</p><p style='break-before: page'>two</p>"
    )
    asked: list[int] = []

    def numbers(count: int) -> tuple[int, int]:
        asked.append(count)
        return 10, 99

    with parallel.page_numbers(numbers):
        document = HTML(string=html).render()
    path = tmp_path / "numbered.pdf"
    document.write_pdf(path)
    assert asked == [2]  # once, with the part's page count
    pages = pdftotext(path)
    assert "Page 11 of 99" in pages[0] and "Page 12 of 99" in pages[1]
    # Outside the block WeasyPrint numbers pages as usual again.
    HTML(string=html).render().write_pdf(path)
    assert "Page 1 of 2" in pdftotext(path)[0]


def _blocks(weights: list[int], joined: list[bool]) -> list[Block]:
    return [
        Block(Markup(f"<section>{i}</section>"), weight, joined=flag and i > 0)
        for i, (weight, flag) in enumerate(zip(weights, joined, strict=False))
    ]


@given(
    weights=st.lists(st.integers(1, 1000), min_size=1, max_size=60),
    joined=st.lists(st.booleans(), min_size=60, max_size=60),
    parts=st.integers(1, 8),
)
def test_split_keeps_the_order_never_starts_a_part_with_a_joined_block_and_balances(
    weights: list[int], joined: list[bool], parts: int
) -> None:
    blocks = _blocks(weights, joined)
    cut = parallel.split(blocks, parts)
    assert [b for part in cut for b in part] == blocks
    assert all(part for part in cut)
    assert all(not part[0].joined for part in cut[1:])
    allowed = sum(1 for b in blocks[1:] if not b.joined)
    assert len(cut) == min(parts, allowed + 1)
    # Joined blocks travel together: no part outweighs its share by more than two such runs.
    runs: list[int] = []
    for block in blocks:
        if block.joined:
            runs[-1] += block.weight
        else:
            runs.append(block.weight)
    share = sum(weights) / len(cut)
    assert all(sum(b.weight for b in part) <= share + 2 * max(runs) for part in cut)


def test_split_is_the_same_for_the_same_blocks() -> None:
    blocks = _blocks([5, 1, 7, 3, 3, 9, 2], [False, False, True, False, False, False, True])
    assert parallel.split(blocks, 3) == parallel.split(list(blocks), 3)
    assert [len(part) for part in parallel.split(blocks, 3)] == [3, 2, 2]


# --- Failures ---------------------------------------------------------------------------------


def _in_workers(monkeypatch: pytest.MonkeyPatch, action: object) -> None:
    """Make every worker process run ``action`` instead of laying out its part."""
    parent, real = os.getpid(), parallel._render

    def render(html: str, setup: parallel.Setup, numbers: object) -> object:
        if os.getpid() != parent:
            action()  # type: ignore[operator]
        return real(html, setup, numbers)  # type: ignore[arg-type]

    monkeypatch.setattr(parallel, "_render", render)


def _raise() -> None:
    raise RuntimeError("no layout\nfor this part")


def test_a_failing_part_stops_the_build_with_one_line(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _in_workers(monkeypatch, _raise)
    target = tmp_path / "out.pdf"
    with pytest.raises(pdf.PdfError) as caught:
        build(site, target, 2)
    assert str(caught.value) == "PDF part 1: RuntimeError: no layout for this part"
    assert list(tmp_path.iterdir()) == []  # no PDF and no partial file


def test_a_part_whose_process_dies_is_named(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _in_workers(monkeypatch, lambda: os._exit(3))
    with pytest.raises(
        pdf.PdfError, match=r"^PDF part 1 stopped without a result \(exit code 3\)$"
    ):
        build(site, tmp_path / "out.pdf", 2)


def test_contents_that_change_length_are_laid_out_again(
    builds: dict[int, Path], site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The contents laid out with placeholder numbers take a page more than with the real ones
    # (an extra page stands in for entries wrapped by long numbers): the parts must be laid
    # out again with the front's real page count.
    real_html = PrintDocument.html

    def html(self: PrintDocument, **options: Any) -> str:
        text = real_html(self, **options)
        if parallel.PLACEHOLDER in (options.get("toc_pages") or {}).values():
            text = text.replace("</nav>", '</nav><p style="break-before: page">.</p>', 1)
        return text

    monkeypatch.setattr(PrintDocument, "html", html)
    lines: list[str] = []
    path = build(site, tmp_path / "out.pdf", 2, lines)
    assert any("the contents' page numbers changed its length; again" in x for x in lines), lines
    assert differences(document_facts(PdfReader(builds[1])), document_facts(PdfReader(path))) == []


@pytest.mark.parametrize("value", ["0", "-1", "two", "17"])
def test_jobs_must_be_a_small_whole_number(value: str) -> None:
    script = ROOT / "scripts" / "build_pdf.py"
    result = subprocess.run(
        [sys.executable, str(script), "--jobs", value], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "must be a whole number from 1 to 16" in result.stderr
    assert "Traceback" not in result.stderr


# --- Long documents: more parts than processes, each laid out twice -------------------------


def test_a_long_document_is_rendered_in_bounded_parts_and_is_the_same_document(
    builds: dict[int, Path], site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every block over the limit: as many parts as the body can be cut into, two at a time.
    monkeypatch.setattr(parallel, "PART_WEIGHT", 1)
    lines: list[str] = []
    path = build(site, tmp_path / "bounded.pdf", 2, lines)
    counted = next(x for x in lines if x.startswith("counted the pages of"))
    assert re.match(r"counted the pages of [3-9] parts, 2 at a time", counted), lines
    assert differences(document_facts(PdfReader(builds[1])), document_facts(PdfReader(path))) == []
    again = build(site, tmp_path / "again.pdf", 2)
    assert again.read_bytes() == path.read_bytes()


def test_a_failing_bounded_part_stops_the_build_with_one_line(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "PART_WEIGHT", 1)
    _in_workers(monkeypatch, _raise)
    with pytest.raises(pdf.PdfError, match=r"^PDF part \d: RuntimeError: no layout for this part$"):
        build(site, tmp_path / "out.pdf", 2)
    assert list(tmp_path.iterdir()) == []


def test_contents_that_never_settle_fall_back_to_one_process(
    builds: dict[int, Path],
    site: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def unsettled(*_args: object, **_kwargs: object) -> parallel.Rendered:
        raise parallel.PageCountChanged("the contents' length did not settle")

    monkeypatch.setattr(parallel, "render", unsettled)
    path = build(site, tmp_path / "out.pdf", 2)
    assert "rendering the PDF in one process: the contents' length did not settle" in [
        r.getMessage() for r in caplog.records
    ]
    assert path.read_bytes() == builds[1].read_bytes()
