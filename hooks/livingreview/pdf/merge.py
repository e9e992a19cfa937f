"""Stitching PDF parts rendered on their own into one tagged PDF.

:mod:`livingreview.pdf.parallel` renders the print document in parts, each a complete tagged
PDF from WeasyPrint. This module puts them back together with pikepdf (qpdf), keeping what a
plain page merge drops:

* **The structure tree.** Each part has a ``StructTreeRoot`` with one ``Document`` element and
  a ``ParentTree`` keyed by page (the marked content of page *i* is key *i*) and then by link
  annotation. The merged tree has one ``Document`` whose children are every part's children in
  order (their parents re-pointed), and a parent tree numbered as WeasyPrint numbers a whole
  document: every page first
  (key = page index), then every annotation in page order; the pages' ``StructParents`` and
  the annotations' ``StructParent`` are renumbered to match.
* **Links between parts.** A part cannot point at an anchor in another part, so the renderer
  writes such a link as a URI under :data:`PART_LINK`; here it becomes the named destination
  WeasyPrint would have written (``/Dest (name)``, ``/Contents (name)``).
* **Named destinations** of every part, merged into one sorted name tree.
* **Bookmarks**, rebuilt from every page's bookmarks with WeasyPrint's own nesting, so a study
  in the second part still nests under the appendix heading of the first.
* **Font subsets.** WeasyPrint names a font's subset after the font, so two parts' different
  subsets of one font share a name, which the PDF standard forbids; the later parts' subsets
  are renamed (a tag derived from the part and the old name).
* **The catalogue** (language, ``MarkInfo``, viewer preferences, XMP metadata) and the document
  information of the first part; the first ``/ID`` entry from the caller.

qpdf writes only what the catalogue reaches (each part's own tree root and outline are left
behind), in compressed object streams as WeasyPrint does, with an ``/ID`` computed from the
content: the same parts give the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import string
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name

#: Links from one part to an anchor in another are written as this URI + the anchor's name.
PART_LINK = "https://pdf-part.invalid/#"
#: Points per CSS pixel: WeasyPrint's PDF scale at zoom 1.
SCALE = 0.75
#: Catalogue entries the merge writes itself rather than copying from the first part.
_OWN_ENTRIES = frozenset({"/Type", "/Pages", "/StructTreeRoot", "/Names", "/Outlines"})


@dataclass(frozen=True)
class PageMarks:
    """What a rendered page says about bookmarks (from ``weasyprint.Page``).

    Attributes:
        bookmarks: ``(level, label, (x, y), state)`` per bookmark, in CSS pixels.
        height: The page's height in CSS pixels (bookmark positions are measured from the top).
    """

    bookmarks: tuple[tuple[int, str, tuple[float, float], str], ...]
    height: float


def merge(parts: Sequence[bytes], marks: Sequence[PageMarks], *, identifier: bytes) -> bytes:
    """Return the PDF made of ``parts`` in order, tagged, linked and bookmarked as one.

    Args:
        parts: Tagged (or all untagged) PDFs from WeasyPrint, in reading order.
        marks: Every page's bookmarks, in the order of the merged pages.
        identifier: The first ``/ID`` entry (qpdf computes the second from the content).

    Raises:
        ValueError: The parts do not match ``marks``, or only some of them are tagged.
    """
    sources = [pikepdf.Pdf.open(io.BytesIO(data)) for data in parts]
    pdf = pikepdf.Pdf.new()
    for index, source in enumerate(sources[1:], start=1):
        _rename_subsets(source, index)
    with warnings.catch_warnings():
        # pikepdf warns that named destinations are not carried over: _destinations does it.
        warnings.filterwarnings("ignore", category=pikepdf.PageCopyWarning)
        for source in sources:
            pdf.pages.extend(source.pages)
    pages = [page.obj for page in pdf.pages]
    if len(marks) != len(pages):
        raise ValueError(f"{len(marks)} pages of bookmarks for {len(pages)} pages")
    _link_parts(pages)
    _structure(pdf, sources)
    _destinations(pdf, sources)
    _outline(pdf, marks, pages)
    first = sources[0]
    for key, value in first.Root.items():
        if key not in _OWN_ENTRIES:
            pdf.Root[key] = pdf.copy_foreign(_indirect(first, value))
    for key, value in first.docinfo.items():
        pdf.docinfo[key] = value
    pdf.trailer.ID = Array([pikepdf.String(identifier), pikepdf.String(identifier)])
    out = io.BytesIO()
    pdf.save(
        out,
        min_version=max(source.pdf_version for source in sources),
        object_stream_mode=pikepdf.ObjectStreamMode.generate,
        fix_metadata_version=False,
        deterministic_id=True,
    )
    return out.getvalue()


def _indirect(pdf: pikepdf.Pdf, value: Any) -> Any:
    return value if getattr(value, "is_indirect", False) else pdf.make_indirect(value)


def _rename_subsets(source: pikepdf.Pdf, part: int) -> None:
    """Give every font subset of a later part a tag of its own (``ABCDEF+Name``)."""
    renamed: dict[str, str] = {}
    for obj in source.objects:
        if not isinstance(obj, Dictionary):
            continue
        kind = obj.get("/Type")
        key = "/BaseFont" if kind == "/Font" else "/FontName" if kind == "/FontDescriptor" else ""
        name = str(obj.get(key, "")) if key else ""
        if len(name) < 9 or name[7] != "+" or not name[1:7].isupper():
            continue
        if name not in renamed:
            digest = hashlib.sha256(f"{part}{name}".encode()).digest()
            tag = "".join(string.ascii_uppercase[b % 26] for b in digest[:6])
            renamed[name] = f"/{tag}{name[7:]}"
        obj[key] = Name(renamed[name])


def _link_parts(pages: list[Dictionary]) -> None:
    """Turn the links between parts back into named destinations."""
    for page in pages:
        for annotation in page.get("/Annots", Array()):
            action = annotation.get("/A")
            if action is None or action.get("/S") != "/URI":
                continue
            uri = str(action.get("/URI", ""))
            if not uri.startswith(PART_LINK):
                continue
            name = pikepdf.String(uri[len(PART_LINK) :])
            del annotation["/A"]
            annotation.Dest = name
            if "/Contents" in annotation:  # tagged: the link's text for assistive technology
                annotation.Contents = name


def _structure(pdf: pikepdf.Pdf, sources: Sequence[pikepdf.Pdf]) -> None:
    """Give the merged document one structure tree (see the module docstring)."""
    trees = [source.Root.get("/StructTreeRoot") for source in sources]
    if all(tree is None for tree in trees):
        return  # untagged parts: an untagged whole
    if any(tree is None for tree in trees):
        raise ValueError("some parts are tagged and some are not")
    root = pdf.make_indirect(Dictionary(Type=Name.StructTreeRoot))
    kids: list[Any] = []
    document = pdf.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Document, P=root))
    root.K = Array([document])
    page_nums: list[Any] = []
    annotation_nums: list[Any] = []
    first_page = 0
    for source, tree in zip(sources, trees, strict=True):
        # Copied whole (qpdf maps the pages and annotations to the ones already copied);
        # the part's own root and Document element are then left unreachable.
        copied = pdf.copy_foreign(tree)
        for kid in copied.K[0].K:
            kid.P = document
            kids.append(kid)
        nums = copied.ParentTree.Nums
        count = len(source.pages)
        # A part numbers its annotations from its page count; the whole from its own.
        shift = len(pdf.pages) + len(annotation_nums) - count
        for index in range(0, len(nums), 2):
            (page_nums if int(nums[index]) < count else annotation_nums).append(nums[index + 1])
        for page in pdf.pages[first_page : first_page + count]:
            for annotation in page.obj.get("/Annots", Array()):
                if "/StructParent" in annotation:
                    annotation.StructParent = int(annotation.StructParent) + shift
        first_page += count
    entries: list[Any] = []
    for key, (page, value) in enumerate(zip(pdf.pages, page_nums, strict=True)):
        page.obj.StructParents = key
        entries += [key, value]
    for key, element in enumerate(annotation_nums, start=len(pdf.pages)):
        entries += [key, element]  # the structure element of the annotation
    # Built in one go: growing a pikepdf Array item by item takes quadratic time.
    merged = Array(entries)
    document.K = Array(kids)
    root.ParentTree = pdf.make_indirect(Dictionary(Nums=merged))
    pdf.Root.StructTreeRoot = root


def _destinations(pdf: pikepdf.Pdf, sources: Sequence[pikepdf.Pdf]) -> None:
    """Merge the parts' named destinations into one name tree."""
    merged: pikepdf.NameTree | None = None
    for source in sources:
        names = source.Root.get("/Names")
        if names is None or "/Dests" not in names:
            continue
        if merged is None:
            merged = pikepdf.NameTree.new(pdf)
        for name, destination in pikepdf.NameTree(names.Dests).items():
            if name not in merged:  # the first anchor of a name wins, as in WeasyPrint
                merged[name] = pdf.copy_foreign(_indirect(source, destination))
    if merged is not None:
        pdf.Root.Names = Dictionary(Dests=merged.obj)


def _outline(pdf: pikepdf.Pdf, marks: Sequence[PageMarks], pages: list[Dictionary]) -> None:
    """Write the bookmarks of all pages as one outline, nested as WeasyPrint nests them."""
    from weasyprint.anchors import make_page_bookmark_tree
    from weasyprint.matrix import Matrix

    tree: list[Any] = []
    skipped: list[int] = []
    last_by_depth: list[list[Any]] = [tree]
    previous = 0
    for number, page in enumerate(marks):
        matrix = Matrix(a=SCALE, d=-SCALE, f=page.height * SCALE)
        previous = make_page_bookmark_tree(page, skipped, last_by_depth, previous, number, matrix)
    if not tree:
        return
    outlines = pdf.make_indirect(Dictionary())
    first, last, count = _outline_items(pdf, tree, pages, outlines)
    outlines.Count = len(tree) + count
    outlines.First = first
    outlines.Last = last
    pdf.Root.Outlines = outlines


def _outline_items(
    pdf: pikepdf.Pdf, subtrees: list[Any], pages: list[Dictionary], parent: Dictionary
) -> tuple[Dictionary, Dictionary, int]:
    """Write one level of the outline; return its first and last item and open descendants."""
    items: list[Dictionary] = []
    open_count = 0
    for title, (page, x, y), children, state in subtrees:
        item = pdf.make_indirect(
            Dictionary(
                Title=pikepdf.String(title),
                Dest=Array([pages[page], Name.XYZ, x, y, 0]),
                Parent=parent,
            )
        )
        count = 0
        if children:
            item.First, item.Last, descendants = _outline_items(pdf, children, pages, item)
            count = len(children) + descendants
        item.Count = -count if state == "closed" else count
        if state != "closed":
            open_count += count
        if items:
            item.Prev = items[-1]
            items[-1].Next = item
        items.append(item)
    return items[0], items[-1], open_count
