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
