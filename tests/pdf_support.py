"""Reading a PDF's structure and drawn text with pypdf, for the tests of the PDF.

Tagged-PDF checks walk the structure tree (``/StructTreeRoot``); the size of drawn text comes
from the content streams (``Tf`` scaled by the text and graphics matrices), matched to the
structure through marked-content ids (MCIDs).
"""

from __future__ import annotations

from pypdf import PdfReader


def _matrix(m: tuple[float, ...], n: tuple[float, ...]) -> tuple[float, ...]:
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return (
        a * p + b * r,
        a * q + b * s,
        c * p + d * r,
        c * q + d * s,
        e * p + f * r + t,
        e * q + f * s + u,
    )


def structure_elements(reader: PdfReader, kinds: set[str]) -> list[dict]:
    """Return the structure elements of the given kinds (``/Figure``, ``/TD``), in any order."""
    from pypdf.generic import DictionaryObject, IndirectObject

    found: list[dict] = []
    stack: list = [reader.trailer["/Root"]["/StructTreeRoot"]]
    while stack:
        node = stack.pop()
        if isinstance(node, IndirectObject):
            node = node.get_object()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, DictionaryObject) and node.get("/Type") not in ("/MCR", "/OBJR"):
            if node.get("/S") in kinds:
                found.append(node)
            if "/K" in node:
                stack.append(node.raw_get("/K"))
    return found


def marked_content(
    reader: PdfReader, kinds: set[str], root: dict | None = None
) -> set[tuple[int, int]]:
    """Return (page index, MCID) of the content under structure elements of the given kinds.

    ``root`` limits the search to one element's subtree (default: the whole structure tree).
    """
    from pypdf.generic import DictionaryObject, IndirectObject

    pages = {page.indirect_reference.idnum: i for i, page in enumerate(reader.pages)}
    found: set[tuple[int, int]] = set()
    start = reader.trailer["/Root"]["/StructTreeRoot"] if root is None else root
    stack: list = [(start, None, False)]
    while stack:
        node, page, inside = stack.pop()
        if isinstance(node, IndirectObject):
            node = node.get_object()
        if isinstance(node, int):
            if inside and page is not None:
                found.add((page, int(node)))
        elif isinstance(node, list):
            stack.extend((kid, page, inside) for kid in node)
        elif isinstance(node, DictionaryObject):
            if "/Pg" in node:
                page = pages.get(node.raw_get("/Pg").idnum, page)
            if node.get("/Type") == "/MCR":
                if inside and page is not None:
                    found.add((page, int(node["/MCID"])))
            elif node.get("/Type") != "/OBJR" and "/K" in node:
                stack.append((node.raw_get("/K"), page, inside or node.get("/S") in kinds))
    return found


def text_sizes(reader: PdfReader, index: int) -> list[tuple[int | None, float]]:
    """Return (MCID, font size in pt as drawn) of every text-showing operator on a page.

    The size is the font size of ``Tf`` scaled by the text and graphics matrices, so it is
    the height of the text on paper whatever the page's transformations.
    """
    from pypdf.generic import ContentStream, DictionaryObject

    page = reader.pages[index]
    ctm: tuple[float, ...] = (1, 0, 0, 1, 0, 0)
    tm: tuple[float, ...] = ctm
    saved: list[tuple[float, ...]] = []
    marks: list[int | None] = []
    size = 0.0
    out: list[tuple[int | None, float]] = []
    for operands, operator in ContentStream(page.get_contents(), reader).operations:
        if operator == b"q":
            saved.append(ctm)
        elif operator == b"Q":
            ctm = saved.pop()
        elif operator == b"cm":
            ctm = _matrix(tuple(float(x) for x in operands), ctm)
        elif operator == b"BT":
            tm = (1, 0, 0, 1, 0, 0)
        elif operator == b"Tm":
            tm = tuple(float(x) for x in operands)
        elif operator == b"Tf":
            size = float(operands[1])
        elif operator == b"BDC":
            props = operands[1]
            is_dict = isinstance(props, DictionaryObject)
            marks.append(int(props["/MCID"]) if is_dict and "/MCID" in props else None)
        elif operator == b"BMC":
            marks.append(None)
        elif operator == b"EMC" and marks:
            marks.pop()
        elif operator in (b"Tj", b"TJ", b"'", b'"'):
            m = _matrix(tm, ctm)
            mcid = next((x for x in reversed(marks) if x is not None), None)
            out.append((mcid, size * (m[2] ** 2 + m[3] ** 2) ** 0.5))
    return out


def link_uris(reader: PdfReader) -> list[str]:
    """Return the URI of every link annotation."""
    uris = []
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            if action is not None and action.get("/S") == "/URI":
                uris.append(str(action["/URI"]))
    return uris


def document_facts(reader: PdfReader) -> dict[str, object]:
    """Return what a reader of the PDF meets, independent of how the file is laid out.

    Two PDFs with the same facts show the same pages: page sizes, every link (its page,
    rectangle, target and spoken text), the outline (level, title, page, position), the named
    destinations, the structure tree as element kinds in reading order with their pages and
    marked-content ids, each page's and annotation's place in the parent tree, the catalogue's
    entries, the document information and the XMP metadata. Object numbers, font subset names
    and the ``/ID`` are not facts.
    """
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    page_of = {page.indirect_reference.idnum: i for i, page in enumerate(reader.pages)}

    def index(ref: object) -> int | None:
        return page_of.get(ref.idnum) if isinstance(ref, IndirectObject) else None

    def number(value: object) -> float:
        return round(float(value), 1)  # type: ignore[arg-type]

    sizes = [tuple(number(v) for v in page.mediabox) for page in reader.pages]
    links = []
    for i, page in enumerate(reader.pages):
        for ref in page.get("/Annots") or []:
            annotation = ref.get_object()
            action = annotation.get("/A")
            target = (
                ("dest", str(annotation["/Dest"]))
                if "/Dest" in annotation
                else ("uri", str(action.get("/URI")) if action is not None else None)
            )
            rect = tuple(number(v) for v in annotation["/Rect"])
            links.append((i, rect, target, str(annotation.get("/Contents"))))
    marks: list[tuple[int, str, int | None, float]] = []

    def walk(items: list, level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
            else:
                top = number(item.top) if item.top is not None else 0.0
                marks.append(
                    (level, str(item.title), reader.get_destination_page_number(item), top)
                )

    walk(reader.outline, 1)
    destinations = {
        name: (reader.get_destination_page_number(dest), number(dest.top or 0))
        for name, dest in reader.named_destinations.items()
    }
    root = reader.trailer["/Root"]
    tree = root.get("/StructTreeRoot")
    elements: list[tuple[object, ...]] = []
    parent_tree: list[tuple[int, object]] = []
    if tree is not None:
        stack: list = [(tree["/K"], 0)]
        while stack:
            node, depth = stack.pop()
            if isinstance(node, IndirectObject):
                node = node.get_object()
            if isinstance(node, ArrayObject):
                stack.extend((kid, depth) for kid in reversed(node))
            elif isinstance(node, DictionaryObject) and node.get("/Type") == "/OBJR":
                elements.append((depth, "OBJR", index(node.raw_get("/Obj"))))
            elif isinstance(node, DictionaryObject):
                page = index(node.raw_get("/Pg")) if "/Pg" in node else None
                elements.append((depth, str(node.get("/S")), page))
                if "/K" in node:
                    stack.append((node.raw_get("/K"), depth + 1))
            else:
                elements.append((depth, "MCID", int(node)))
        nums = tree["/ParentTree"]["/Nums"]
        for k in range(0, len(nums), 2):
            value = nums[k + 1].get_object()
            kind = len(value) if isinstance(value, ArrayObject) else str(value.get("/S"))
            parent_tree.append((int(nums[k]), kind))
    struct_parents = [page.get("/StructParents") for page in reader.pages]
    annotation_keys = [
        ref.get_object().get("/StructParent")
        for page in reader.pages
        for ref in page.get("/Annots") or []
    ]
    metadata = root.get("/Metadata")
    return {
        "pages": len(reader.pages),
        "sizes": sizes,
        "links": links,
        "outline": marks,
        "destinations": destinations,
        "structure": elements,
        "parent tree": parent_tree,
        "struct parents": struct_parents,
        "annotation keys": annotation_keys,
        "catalogue": sorted(str(key) for key in root),
        "information": {str(k): str(v) for k, v in (reader.metadata or {}).items()},
        "xmp": metadata.get_object().get_data() if metadata is not None else None,
    }


def differences(a: dict[str, object], b: dict[str, object]) -> list[str]:
    """Return one line per fact that differs, with the first differing item."""
    out = []
    for key in a:
        x, y = a[key], b.get(key)
        if x == y:
            continue
        if isinstance(x, list) and isinstance(y, list):
            first = next(
                (i for i, (u, v) in enumerate(zip(x, y, strict=False)) if u != v),
                min(len(x), len(y)),
            )
            shown = (x[first] if first < len(x) else None, y[first] if first < len(y) else None)
            out.append(f"{key}: {len(x)} vs {len(y)} items; item {first}: {shown}")
        else:
            out.append(f"{key}: {str(x)[:200]} vs {str(y)[:200]}")
    return out
