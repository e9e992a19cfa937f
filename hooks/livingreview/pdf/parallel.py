"""Rendering the print document in parts, in parallel processes, and stitching them together.

WeasyPrint lays a document out and writes it on one core. :func:`render` shares the body of
the print document (chapters, the appendix's records, the bibliography) among ``jobs`` worker
processes, in contiguous parts of about equal size cut where a new page starts anyway, and
keeps the cover and contents (the *front*) in this process. What a part cannot know on its own
is agreed on between the layout and the drawing:

1. Every worker lays out its part and reports its page count; the front is laid out here with
   placeholder page numbers in the contents, which gives its page count.
2. Each part is told where its pages start and how many pages the whole document has, so the
   footers read "Page X of Y" exactly as in one document (:func:`page_numbers` sets the page
   counters just before WeasyPrint makes the margin boxes, after the layout).
3. The workers report where their anchors landed; the front is laid out again with the real
   page numbers in the contents while the workers draw and write their PDFs. If the real
   numbers changed the front's page count, everything is done once more with the new count
   (and if that does not settle it, the caller falls back to one process).
4. :func:`livingreview.pdf.merge.merge` stitches the parts into one tagged PDF: one structure
   tree, links between parts as named destinations, one outline.

A document longer than ``jobs`` parts of :data:`PART_WEIGHT` is cut into more parts than
processes and rendered by :func:`_render_bounded` instead: each part laid out once to count its
pages, then again to be drawn, so no process holds more than one part's layout.

The parts are the same for the same inputs and ``jobs`` (never the machine's core count), so
the PDF is byte-identical across runs. Links between parts are written by the workers as URIs
under :data:`~livingreview.pdf.merge.PART_LINK` and turned back into internal links on merging.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import multiprocessing
import multiprocessing.connection
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from .document import Block, PrintDocument
from .errors import PdfError
from .fetcher import SiteFetcher
from .merge import PART_LINK, PageMarks, merge

#: Numbers the contents show while the front is first laid out (the real ones are not known).
PLACEHOLDER = "000"
#: Most estimated layout work (elements outside figures) in one part: about 160 pages of the
#: review. A longer document is cut into more parts than processes and each part laid out
#: twice (:func:`_render_bounded`), so the PDF's memory follows the part, not the document.
PART_WEIGHT = 25_000
#: Seconds to wait for a worker to exit after its last message.
_JOIN_SECONDS = 30


class PageCountChanged(Exception):
    """The front's page count changed once the contents had their real page numbers."""


@dataclass(frozen=True)
class Setup:
    """What every part's rendering needs besides its HTML.

    Attributes:
        site_dir: The built site (the fetcher serves only its files).
        base_url: Base URL of the print document.
        fonts: Font files the fetcher may serve besides the site's.
        options: WeasyPrint's rendering and writing options (tags, PDF variant).
    """

    site_dir: Path
    base_url: str
    fonts: tuple[Path, ...]
    options: Mapping[str, Any]


@dataclass(frozen=True)
class Rendered:
    """The stitched PDF and what the parts reported.

    Attributes:
        pdf: The PDF's bytes.
        pages: Its page count.
        refused: URLs the fetchers refused, in order, each once.
    """

    pdf: bytes
    pages: int
    refused: tuple[str, ...]


def split(blocks: Sequence[Block], parts: int) -> list[list[Block]]:
    """Cut the body into at most ``parts`` contiguous parts of about equal weight.

    A part never starts with a block joined to the one before it, so every part starts on a
    new page exactly where the whole document would.
    """
    cuts = [i for i in range(1, len(blocks)) if not blocks[i].joined]
    total = sum(block.weight for block in blocks)
    before = [0]
    for block in blocks:
        before.append(before[-1] + block.weight)
    wanted = min(parts - 1, len(cuts))
    chosen: list[int] = []  # indexes into cuts
    for k in range(1, wanted + 1):
        target = total * k / parts
        # After the previous cut, and leaving a cut for each part still to come.
        low = chosen[-1] + 1 if chosen else 0
        high = len(cuts) - (wanted - k)
        chosen.append(min(range(low, high), key=lambda i: (abs(before[cuts[i]] - target), i)))
    edges = [0, *(cuts[i] for i in chosen), len(blocks)]
    return [list(blocks[a:b]) for a, b in itertools.pairwise(edges) if b > a]


@contextlib.contextmanager
def page_numbers(numbers: Callable[[int], tuple[int, int]]) -> Iterator[None]:
    """Within the block, WeasyPrint numbers pages from an offset and counts a given total.

    ``numbers`` is called once, with the part's page count, after the layout and before the
    first margin box is made; it returns ``(offset, total)``: the number of pages before the
    part, and the whole document's page count. Only the margin boxes (the footer's "Page X of
    Y") use the page counters in the print stylesheet, so nothing else changes.

    WeasyPrint has no option for this: the wrapped function is ``make_margin_boxes`` as
    ``weasyprint.layout.layout_document`` calls it, pinned in the lock file and covered by a
    test that reads the footers of a rendered part.
    """
    import weasyprint.layout as layout

    original = layout.make_margin_boxes
    agreed: list[tuple[int, int]] = []

    def margin_boxes(context: Any, page: Any, state: Any) -> Any:
        counters = state[1]
        if not agreed:
            agreed.append(numbers(counters["pages"][0]))
        offset, total = agreed[0]
        renumbered = dict(counters)
        renumbered["page"] = [counters["page"][0] + offset]
        renumbered["pages"] = [total]
        new_state = list(state)
        new_state[1] = renumbered
        return original(context, page, type(state)(new_state))

    layout.make_margin_boxes = margin_boxes
    try:
        yield
    finally:
        layout.make_margin_boxes = original


def _render(html: str, setup: Setup, numbers: Callable[[int], tuple[int, int]]) -> Any:
    from weasyprint import HTML

    fetcher = SiteFetcher(setup.site_dir, extra_files=setup.fonts)
    with page_numbers(numbers):
        document = HTML(string=html, base_url=setup.base_url, url_fetcher=fetcher).render(
            **setup.options
        )
    return document, fetcher


def _anchors(document: Any, offset: int) -> dict[str, int]:
    """Return each anchor's page number (1-based, in the whole document); the first wins."""
    found: dict[str, int] = {}
    for index, page in enumerate(document.pages):
        for name in page.anchors:
            found.setdefault(name, offset + index + 1)
    return found


def _marks(document: Any) -> list[PageMarks]:
    return [PageMarks(tuple(page.bookmarks), page.height) for page in document.pages]


def _point_links_outside(document: Any) -> None:
    """Write links to anchors in other parts as :data:`PART_LINK` URIs (see the merge)."""
    local = {name for page in document.pages for name in page.anchors}
    for page in document.pages:
        page.links = [
            ("external", PART_LINK + target, rect, box)
            if kind == "internal" and target not in local
            else (kind, target, rect, box)
            for kind, target, rect, box in page.links
        ]


def _write(document: Any, setup: Setup) -> bytes:
    _point_links_outside(document)
    return bytes(document.write_pdf(**setup.options))


class _Collect(logging.Handler):
    """Keeps a worker's warnings for the parent to log (once, and where it is captured)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, record.getMessage()))


def _task(conn: Connection, task: Callable[[Connection], Any]) -> None:
    """A worker process: run ``task`` and send its result, or one line on why it failed."""
    collect = _Collect()
    # The handlers came with the fork; the parent logs what the worker reports instead.
    logging.root.handlers = [collect]
    try:
        result = task(conn)
        conn.send(("done", result, collect.records))
    except BaseException as exc:  # reported by the parent as one line
        message = " ".join(f"{type(exc).__name__}: {exc}".split())
        with contextlib.suppress(OSError):
            conn.send(("error", message, collect.records))
    finally:
        conn.close()


def _start(context: Any, index: int, task: Callable[[Connection], Any]) -> _Worker:
    """Fork a worker for part ``index`` running ``task``."""
    parent, child = context.Pipe()
    process = context.Process(target=_task, args=(child, task), name=f"pdf-part-{index + 1}")
    process.start()
    child.close()
    return _Worker(index, process, parent)


def _agreed_part(html: str, setup: Setup) -> Callable[[Connection], Any]:
    """Lay out one part, agree on its page numbers with the parent, write it."""

    def task(conn: Connection) -> tuple[bytes, tuple[str, ...]]:
        agreed: list[int] = []

        def numbers(count: int) -> tuple[int, int]:
            conn.send(("count", count))
            offset, total = conn.recv()
            agreed.append(offset)
            return offset, total

        document, fetcher = _render(html, setup, numbers)
        conn.send(("laid out", _anchors(document, agreed[0]), _marks(document)))
        return _write(document, setup), tuple(fetcher.refused)

    return task


@dataclass
class _Worker:
    index: int
    process: Any
    conn: Connection

    def expect(self, kind: str) -> tuple[Any, ...]:
        try:
            message = self.conn.recv()
        except EOFError:
            self.process.join(_JOIN_SECONDS)
            raise PdfError(
                f"PDF part {self.index + 1} stopped without a result "
                f"(exit code {self.process.exitcode})"
            ) from None
        if message[0] == "error":
            _relog(message[2], set())
            raise PdfError(f"PDF part {self.index + 1}: {message[1]}")
        if message[0] != kind:
            raise PdfError(f"PDF part {self.index + 1} sent {message[0]!r}, not {kind!r}")
        return tuple(message[1:])


def _relog(records: list[tuple[str, int, str]], logged: set[tuple[str, int, str]]) -> None:
    """Log a worker's warnings here, each once across the parts (as one process would)."""
    for record in records:
        if record not in logged:
            logged.add(record)
            logging.getLogger(record[0]).log(record[1], "%s", record[2])


def render(
    document: PrintDocument,
    setup: Setup,
    *,
    jobs: int,
    identifier: bytes,
    say: Callable[[str], None],
) -> Rendered:
    """Render ``document`` in ``jobs`` parts at once and return the stitched PDF.

    Raises:
        PdfError: A worker failed or stopped (its one-line reason is in the message).
        PageCountChanged: The contents' real page numbers changed the front's page count
            twice; the caller renders in one process instead.
    """
    wanted = max(jobs, math.ceil(sum(block.weight for block in document.blocks) / PART_WEIGHT))
    parts = split(document.blocks, wanted)
    if len(parts) > jobs:
        return _render_bounded(document, setup, parts, jobs, identifier, say)
    guess: Mapping[str, str] = {target: PLACEHOLDER for target in document.toc_targets()}
    for _attempt in range(2):
        try:
            return _render_parts(document, setup, parts, guess, identifier, say)
        except PageCountChanged as changed:
            say(f"the contents' page numbers changed its length; again ({changed})")
            guess = changed.args[1]
    raise PageCountChanged("the contents' length did not settle")


def _run_all(
    tasks: Sequence[Callable[[Connection], Any]], jobs: int, logged: set[tuple[str, int, str]]
) -> list[Any]:
    """Run each task in a forked process, at most ``jobs`` at once; return results in order.

    The tasks are closures: with ``fork`` nothing but their results is pickled.
    """
    context = multiprocessing.get_context("fork")
    results: dict[int, Any] = {}
    running: dict[Connection, _Worker] = {}
    pending = list(enumerate(tasks))
    try:
        while pending or running:
            while pending and len(running) < jobs:
                index, task = pending.pop(0)
                worker = _start(context, index, task)
                running[worker.conn] = worker
            for conn in multiprocessing.connection.wait(list(running)):
                worker = running.pop(conn)  # type: ignore[index]
                result, records = worker.expect("done")
                _relog(records, logged)
                results[worker.index] = result
                worker.process.join(_JOIN_SECONDS)
                conn.close()  # type: ignore[union-attr]
    finally:
        for worker in running.values():
            worker.process.kill()
            worker.process.join()
            worker.conn.close()
    return [results[index] for index in range(len(tasks))]


def _render_bounded(
    document: PrintDocument,
    setup: Setup,
    parts: list[list[Block]],
    jobs: int,
    identifier: bytes,
    say: Callable[[str], None],
) -> Rendered:
    """Render a long document in more parts than processes, so memory follows the part.

    A part cannot wait, laid out, for the others' page counts without holding its layout, so
    each part is laid out twice: first only to count its pages and find its anchors (the
    process then exits and frees the layout), then again with its page numbers known, and
    drawn. The front is settled in between, here: its page count given the contents' real
    numbers, repeated until it no longer changes.
    """
    started = time.perf_counter()
    logged: set[tuple[str, int, str]] = set()
    htmls = [document.html(front=False, blocks=blocks) for blocks in parts]

    def count(html: str) -> Callable[[Connection], tuple[int, dict[str, int]]]:
        def task(_conn: Connection) -> tuple[int, dict[str, int]]:
            laid_out, _ = _render(html, setup, lambda pages: (0, pages))
            return len(laid_out.pages), _anchors(laid_out, 0)

        return task

    counted = _run_all([count(html) for html in htmls], jobs, logged)
    counts = [pages for pages, _ in counted]
    say(
        f"counted the pages of {len(parts)} parts, {jobs} at a time "
        f"({', '.join(str(c) for c in counts)} pages; {time.perf_counter() - started:.1f} s)"
    )
    guess: Mapping[str, Any] = {target: PLACEHOLDER for target in document.toc_targets()}
    front_pages = len(_render(document.html(blocks=[], toc_pages=guess), setup, _same)[0].pages)
    for _attempt in range(3):
        offsets = list(itertools.accumulate([front_pages, *counts[:-1]]))
        total = front_pages + sum(counts)
        anchors: dict[str, int] = {}
        for offset, (_, found) in zip(offsets, counted, strict=True):
            for name, number in found.items():
                anchors.setdefault(name, offset + number)
        toc_pages = {target: anchors[target] for target in document.toc_targets()}
        front_html = document.html(blocks=[], toc_pages=toc_pages)
        front, front_fetcher = _render(front_html, setup, lambda _pages, total=total: (0, total))
        if len(front.pages) == front_pages:
            break
        say(f"the contents' page numbers changed its length ({front_pages} -> {len(front.pages)})")
        front_pages = len(front.pages)
    else:
        raise PageCountChanged("the contents' length did not settle")
    front_pdf = _write(front, setup)

    def draw(index: int) -> Callable[[Connection], tuple[bytes, list[PageMarks], tuple[str, ...]]]:
        def numbers(pages: int) -> tuple[int, int]:
            if pages != counts[index]:
                raise PdfError(f"laid out in {pages} pages, not the {counts[index]} counted")
            return offsets[index], total

        def task(_conn: Connection) -> tuple[bytes, list[PageMarks], tuple[str, ...]]:
            laid_out, fetcher = _render(htmls[index], setup, numbers)
            return _write(laid_out, setup), _marks(laid_out), tuple(fetcher.refused)

        return task

    drawn = _run_all([draw(index) for index in range(len(parts))], jobs, logged)
    seconds = time.perf_counter() - started
    say(f"laid out and wrote {total} PDF pages in {len(parts) + 1} parts ({seconds:.1f} s)")
    pdf = merge(
        [front_pdf, *(data for data, _, _ in drawn)],
        [*_marks(front), *(mark for _, marks, _ in drawn for mark in marks)],
        identifier=identifier,
    )
    refused: dict[str, None] = dict.fromkeys(front_fetcher.refused)
    for _, _, part_refused in drawn:
        refused.update(dict.fromkeys(part_refused))
    return Rendered(pdf=pdf, pages=total, refused=tuple(refused))


def _same(pages: int) -> tuple[int, int]:
    return 0, pages


def _render_parts(
    document: PrintDocument,
    setup: Setup,
    parts: list[list[Block]],
    guess: Mapping[str, Any],
    identifier: bytes,
    say: Callable[[str], None],
) -> Rendered:
    started = time.perf_counter()
    context = multiprocessing.get_context("fork")
    workers: list[_Worker] = []
    finished = False
    try:
        for index, blocks in enumerate(parts):
            html = document.html(front=False, blocks=blocks)
            workers.append(_start(context, index, _agreed_part(html, setup)))
        # The front, with placeholder numbers: only its page count is wanted.
        front_html = document.html(blocks=[], toc_pages=guess)
        front_pages = len(_render(front_html, setup, lambda count: (0, count))[0].pages)
        counts = [worker.expect("count")[0] for worker in workers]
        total = front_pages + sum(counts)
        offset = front_pages
        for worker, count in zip(workers, counts, strict=True):
            worker.conn.send((offset, total))
            offset += count
        say(
            f"laid out {total} PDF pages in {len(parts)} parts at once "
            f"({', '.join(str(c) for c in [front_pages, *counts])} pages; "
            f"{time.perf_counter() - started:.1f} s)"
        )
        anchors: dict[str, int] = {}
        marks: list[PageMarks] = []
        for worker in workers:
            found, part_marks = worker.expect("laid out")
            for name, number in found.items():
                anchors.setdefault(name, number)
            marks += part_marks
        toc_pages = {target: anchors[target] for target in document.toc_targets()}
        front_html = document.html(blocks=[], toc_pages=toc_pages)

        def front_numbers(count: int) -> tuple[int, int]:
            if count != front_pages:
                raise PageCountChanged(f"{front_pages} -> {count} pages", toc_pages)
            return 0, total

        front, front_fetcher = _render(front_html, setup, front_numbers)
        front_pdf = _write(front, setup)
        results = [worker.expect("done") for worker in workers]
        finished = True
    finally:
        for worker in workers:
            worker.conn.close()
            if not finished:
                worker.process.kill()  # its work is of no use now
            worker.process.join(_JOIN_SECONDS)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
    say(f"wrote {len(parts) + 1} parts ({time.perf_counter() - started:.1f} s)")
    pdf = merge(
        [front_pdf, *(data for (data, _), _ in results)],
        [*_marks(front), *marks],
        identifier=identifier,
    )
    refused: dict[str, None] = dict.fromkeys(front_fetcher.refused)
    logged: set[tuple[str, int, str]] = set()
    for (_, part_refused), records in results:
        refused.update(dict.fromkeys(part_refused))
        _relog(records, logged)
    return Rendered(pdf=pdf, pages=total, refused=tuple(refused))
