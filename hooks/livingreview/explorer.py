"""The study explorer page: every study in one table, filtered and sorted in the browser.

:func:`explorer_page` returns the Markdown of ``explorer.md`` (URL ``explorer/``): a short
introduction, then one raw-HTML block holding a filter form and the table, then the script
``assets/explorer.js``. Without JavaScript the form stays ``hidden`` and the full table shows;
the script reveals the form, filters rows, sorts columns and keeps the state in the query
string (``?condition=ptsd&text=feder&sort=year&dir=desc``, via ``history.replaceState``; the
text filter is ``text``, not ``q``, which Material reads as a search query).

Stable DOM hooks, for ``explorer.js`` and for browser tests:

* ``#explorer``: wrapper ``div``; ``data-total`` is the number of studies, and the script sets
  ``data-ready="true"`` once it has started (it runs once per page).
* ``#explorer-filters``: the ``<form role="search">``, ``hidden`` until the script runs.
* ``#explorer-filter-condition``, ``#explorer-filter-design``, ``#explorer-filter-route``,
  ``#explorer-filter-comparator``, ``#explorer-filter-year``: ``<select>`` elements whose
  option values are vocabulary ids (or the year); ``""`` means all.
* ``#explorer-filter-q``: free-text ``<input type="search">``; every word must match the row's
  text or its ``data-search`` (case and accents ignored).
* ``#explorer-reset``: button that clears filters and sorting; ``#explorer-reset-empty`` does
  the same from the message shown when no row matches.
* ``#explorer-count``: "Showing X of Y studies", ``aria-live="polite"``.
* ``#explorer-table``: the table, with a ``<caption>``; ``#explorer-empty``: paragraph shown
  when no row matches.
* ``th[data-sort-key]``: sortable headers (``data-sort-type`` is ``text`` or ``number``); the
  script moves each header's text into a ``<button>`` and sets ``aria-sort`` on the sorted one.
  Cells carry ``data-col`` (the sort key) and, where the text is not the sort order,
  ``data-sort-value``.
* ``tr[data-study="<id>"]``: one row per study, with ``data-condition``, ``data-design``,
  ``data-route`` (space-separated ids), ``data-comparator``, ``data-year``, ``data-n``,
  ``data-status`` and ``data-search``.
"""

from __future__ import annotations

from collections.abc import Iterable

from .exports import download_markdown
from .figures import inert
from .model import STATUS_LABELS, Catalog, Study
from .pages import study_url
from .verification import verification_label

#: Source path and URL of the generated page.
EXPLORER_SRC = "explorer.md"
EXPLORER_URL = "explorer/"
#: The script, relative to ``docs/``; the page links it as ``../assets/explorer.js``.
SCRIPT = "assets/explorer.js"

#: Filter controls: (name, label) in display order; ``year`` and ``q`` are handled apart.
FILTERS = (
    ("condition", "Condition"),
    ("design", "Design"),
    ("route", "Route"),
    ("comparator", "Comparator"),
    ("year", "Year"),
)

#: Columns: (sort key, header, sort type).
COLUMNS = (
    ("study", "Study", "text"),
    ("year", "Year", "number"),
    ("condition", "Condition", "text"),
    ("design", "Design", "text"),
    ("route", "Route", "text"),
    ("comparator", "Comparator", "text"),
    ("n", "N", "number"),
    ("result", "Result", "text"),
    ("status", "Verification", "text"),
)

#: Sort order of verification statuses: best first, as in the rest of the site.
_STATUS_RANK = {status: i for i, status in enumerate(STATUS_LABELS)}


def _attr(value: object) -> str:
    """Return a value for a double-quoted attribute (inert to Markdown and citations too)."""
    return inert(value)


def _label(catalog: Catalog, vocab: str, term_id: str, short: bool = False) -> str:
    try:
        term = catalog.vocab(vocab)[term_id]
    except KeyError:
        return term_id
    return (term.abbreviation or term.label) if short else term.label


def _options(name: str, label: str, choices: Iterable[tuple[str, str]]) -> str:
    """Return one labelled ``<select>`` with an "All" option first."""
    control = f"explorer-filter-{name}"
    options = ['<option value="">All</option>']
    options += [f'<option value="{_attr(v)}">{inert(text)}</option>' for v, text in choices]
    return (
        f'<div class="review-explorer__control">'
        f'<label for="{control}">{inert(label)}</label>'
        f'<select id="{control}" name="{name}">{"".join(options)}</select>'
        "</div>"
    )


def _choices(catalog: Catalog, vocab: str, used: set[str]) -> list[tuple[str, str]]:
    """Return (id, label) for the terms the studies use, in vocabulary order."""
    terms = catalog.vocab(vocab).terms
    known = [(t.id, t.label) for t in terms if t.id in used]
    return known + [(u, u) for u in sorted(used - {t.id for t in terms})]


def _search_text(study: Study, catalog: Catalog) -> str:
    """Return words a reader may search for that are not in the visible columns."""
    parts = [
        study.summary,
        study.population,
        study.result_summary,
        study.country,
        study.registration,
        *(_label(catalog, "diagnoses", d) for d in study.diagnoses),
        *(_label(catalog, "outcome_measures", o.measure) for o in study.outcomes),
        *(_label(catalog, "outcome_measures", o.measure, short=True) for o in study.outcomes),
    ]
    return " ".join(p for p in parts if p)


def _row(study: Study, catalog: Catalog) -> str:
    designs = catalog.vocab("designs")
    kind = designs[study.design].get("kind") if study.design in designs else None
    review = kind == "review"
    n_text = "—" if study.n is None else str(study.n)
    if review and study.studies_included:
        n_text += f" ({study.studies_included} studies)"
    elif review:
        n_text += " (review)"
    routes = " ".join(study.routes)
    derived = verification_label(study)
    status = derived.level
    cells = [
        ("study", f'<a href="../{_attr(study_url(study.id))}">{inert(study.label)}</a>', None),
        ("year", inert(study.year), str(study.year)),
        ("condition", inert(_label(catalog, "conditions", study.condition, short=True)), None),
        ("design", inert(_label(catalog, "designs", study.design)), None),
        (
            "route",
            inert(", ".join(_label(catalog, "routes", r, short=True) for r in study.routes)),
            None,
        ),
        ("comparator", inert(_label(catalog, "comparators", study.comparator)), None),
        ("n", inert(n_text), "" if study.n is None else str(study.n)),
        ("result", inert(_label(catalog, "result_categories", study.result_category)), None),
        (
            "status",
            f'<span class="review-status review-status--{_attr(status)}">'
            f"{inert(derived.short)}</span>",
            str(_STATUS_RANK.get(status, len(_STATUS_RANK))),
        ),
    ]
    tds = "".join(
        f'<td data-col="{key}"'
        + ("" if value is None else f' data-sort-value="{_attr(value)}"')
        + f">{html}</td>"
        for key, html, value in cells
    )
    attrs = {
        "data-study": study.id,
        "data-condition": study.condition,
        "data-design": study.design,
        "data-route": routes,
        "data-comparator": study.comparator,
        "data-year": str(study.year),
        "data-n": "" if study.n is None else str(study.n),
        "data-status": status,
        "data-search": _search_text(study, catalog),
    }
    return "<tr" + "".join(f' {k}="{_attr(v)}"' for k, v in attrs.items()) + f">{tds}</tr>"


def explorer_page(catalog: Catalog) -> str:
    """Return the Markdown of the study explorer page (``explorer.md``, URL ``explorer/``).

    Args:
        catalog: The validated records.

    Returns:
        Markdown: a heading and introduction, then raw HTML with no blank or indented lines
        (so Python-Markdown keeps it as one block), then the script tag.
    """
    studies = catalog.studies
    total = len(studies)
    used = {
        "condition": {s.condition for s in studies},
        "design": {s.design for s in studies},
        "route": {r for s in studies for r in s.routes},
        "comparator": {s.comparator for s in studies},
    }
    vocab_of = {
        "condition": "conditions",
        "design": "designs",
        "route": "routes",
        "comparator": "comparators",
    }
    # The search box first and widest: it is the control most readers reach for.
    controls = [
        '<div class="review-explorer__control review-explorer__control--search">'
        '<label for="explorer-filter-q">Search the records</label>'
        '<input type="search" id="explorer-filter-q" name="q" autocomplete="off" '
        'placeholder="Author, scale, population…">'
        "</div>"
    ]
    for name, label in FILTERS:
        if name == "year":
            years = sorted({str(s.year) for s in studies})
            controls.append(_options(name, label, [(y, y) for y in years]))
        else:
            controls.append(_options(name, label, _choices(catalog, vocab_of[name], used[name])))
    controls.append(
        '<div class="review-explorer__control">'
        '<button type="button" id="explorer-reset" class="review-explorer__button">'
        "Clear filters</button>"
        "</div>"
    )
    noun = "study" if total == 1 else "studies"
    headers = "".join(
        f'<th scope="col" data-sort-key="{key}" data-sort-type="{kind}">{inert(label)}</th>'
        for key, label, kind in COLUMNS
    )
    lines = [
        f'<div id="explorer" class="review-explorer" data-total="{total}">',
        '<form id="explorer-filters" class="review-explorer__filters" role="search" '
        'aria-label="Filter studies" hidden>',
        '<div class="review-explorer__controls">',
        *controls,
        "</div>",
        f'<p id="explorer-count" class="review-explorer__count" aria-live="polite">'
        f"Showing {total} of {total} {noun}</p>",
        "</form>",
        '<table id="explorer-table">',
        f"<caption>All {total} {noun} in the review, one row per record, in order of "
        "publication year. Select a study to open its record.</caption>",
        f"<thead><tr>{headers}</tr></thead>",
        "<tbody>",
        *(_row(s, catalog) for s in studies),
        "</tbody>",
        "</table>",
        '<p id="explorer-empty" class="review-explorer__empty" hidden>No study matches these '
        'filters. <button type="button" id="explorer-reset-empty" '
        'class="review-explorer__button">Clear filters</button></p>',
        "</div>",
    ]
    intro = (
        "# Study explorer\n\n"
        "Every study record in the review in one table. Choose a condition, design, route, "
        "comparator or year, or type words to search the records; select a column heading to "
        "sort. The address of the page keeps your selection, so a link to it shows the same "
        "rows. Without JavaScript the full table is shown.\n\n"
        f"Download the study data: {download_markdown('data', EXPLORER_SRC)}.\n\n"
    )
    script = f'<script src="../{SCRIPT}" defer></script>'
    return intro + "\n".join(lines) + "\n\n" + script + "\n"
