"""Tables a phone can show: every data cell is labelled with its column's heading.

On a narrow screen ``docs/assets/review.css`` lays a wide table out as stacked cards, one row
per card, each cell preceded by its column heading (``td::before { content: attr(data-label) }``),
so no column is lost behind a sideways scroll. The headings are only in the ``<thead>``, so
:func:`label_table_cells` copies each heading onto the cells of its column as ``data-label``
and marks the table with ``data-review-cards`` when it has enough columns to need cards.

It works on the HTML of any page (Markdown tables, generated tables, the explorer), so a new
table gets the same behaviour without code of its own. Heading text reaches the attribute as
text: tags are dropped, entities decoded, and the result escaped again.
"""

from __future__ import annotations

import html
import re

#: A table with at least this many columns becomes cards on a phone; fewer fit as they are.
CARD_COLUMNS = 4
#: A table with at least this many columns is set denser, and its words may break anywhere.
DENSE_COLUMNS = 10
#: Longest heading copied into ``data-label`` (longer ones are cut at a word).
_LABEL_LIMIT = 60

_TABLE = re.compile(r"<table\b([^>]*)>(.*?)</table>", re.S | re.I)
_THEAD = re.compile(r"<thead\b[^>]*>(.*?)</thead>", re.S | re.I)
_TH = re.compile(r"<th\b[^>]*>(.*?)</th>", re.S | re.I)
_ROW = re.compile(r"(<tr\b[^>]*>)(.*?)(</tr>)", re.S | re.I)
_TD_OPEN = re.compile(r"<td\b([^>]*)>", re.I)
_TAG = re.compile(r"<[^>]*>")


def _label(cell_html: str) -> str:
    text = " ".join(html.unescape(_TAG.sub(" ", cell_html)).split())
    if len(text) > _LABEL_LIMIT:
        text = text[:_LABEL_LIMIT].rsplit(" ", 1)[0] + "…"
    return text


def _label_row(row: str, labels: list[str]) -> str:
    index = 0

    def one(match: re.Match[str]) -> str:
        nonlocal index
        attrs = match.group(1)
        label = labels[index] if index < len(labels) else ""
        index += 1
        if "data-label=" in attrs or not label:
            return match.group(0)
        return f'<td{attrs} data-label="{html.escape(label, quote=True)}">'

    return _TD_OPEN.sub(one, row)


def _table(match: re.Match[str]) -> str:
    attrs, body = match.group(1), match.group(2)
    if "<table" in body.lower():  # a nested table: leave both as they are
        return match.group(0)
    head = _THEAD.search(body)
    if head is None:
        return match.group(0)
    labels = [_label(h) for h in _TH.findall(head.group(1))]
    rest = body[head.end() :]
    rest = _ROW.sub(lambda m: m.group(1) + _label_row(m.group(2), labels) + m.group(3), rest)
    if len(labels) >= CARD_COLUMNS and "data-review-cards" not in attrs:
        attrs += " data-review-cards"
    if len(labels) >= DENSE_COLUMNS and "data-review-dense" not in attrs:
        attrs += " data-review-dense"
    return f"<table{attrs}>{body[: head.end()]}{rest}</table>"


def label_table_cells(page_html: str) -> str:
    """Return the page's HTML with every table cell labelled by its column heading.

    Args:
        page_html: The rendered HTML of a page's content.

    Returns:
        The same HTML, where each ``<td>`` under a table with a ``<thead>`` carries
        ``data-label="<heading>"``; tables of :data:`CARD_COLUMNS` or more columns carry
        ``data-review-cards``, and of :data:`DENSE_COLUMNS` or more ``data-review-dense``.
        Tables without a header row are left alone.
    """
    if "<table" not in page_html:
        return page_html
    return _TABLE.sub(_table, page_html)
