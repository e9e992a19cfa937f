"""Study explorer page: table, data attributes, filter controls, escaping, and the script.

Browser behaviour (filtering, sorting, the query string) is left to browser tests; these check
the HTML contract the script relies on (the ids documented in ``livingreview.explorer``).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import markdown
from factories import ROOT, make_catalog, make_study, many_studies
from livingreview import explorer
from livingreview.model import Catalog

SCRIPT = ROOT / "docs" / "assets" / "explorer.js"


class Elements(HTMLParser):
    """Collect every element as (tag, attributes, text inside it)."""

    VOID = frozenset({"input", "br", "img", "meta", "link", "hr"})

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None], list[str]]] = []
        self._open: list[int] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs), []))
        if tag not in self.VOID:
            self._open.append(len(self.elements) - 1)

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            index = self._open.pop()
            if self.elements[index][0] == tag:
                break

    def handle_data(self, data: str) -> None:
        for index in self._open:
            self.elements[index][2].append(data)

    def find(self, tag: str | None = None, **attrs: str) -> list[tuple[str, dict, str]]:
        out = []
        for t, a, text in self.elements:
            if tag not in (None, t):
                continue
            if all(a.get(k.replace("_", "-")) == v for k, v in attrs.items()):
                out.append((t, a, "".join(text)))
        return out

    def by_id(self, element_id: str) -> tuple[str, dict, str]:
        (found,) = self.find(id=element_id)
        return found


def page(catalog: Catalog) -> Elements:
    return Elements(explorer.explorer_page(catalog))


def rows(elements: Elements) -> list[tuple[str, dict, str]]:
    return [e for e in elements.find("tr") if "data-study" in e[1]]


def test_one_row_per_study_with_filter_attributes() -> None:
    studies = [
        make_study("feder-2014", design="randomized-crossover", n=41, routes=("iv",)),
        make_study(
            "keeler-2023",
            condition="eating-disorders",
            design="case-series",
            comparator="none",
            routes=("im", "intranasal"),
            diagnoses=("AN",),
            n=4,
        ),
        make_study(
            "du-2022",
            design="systematic-review",
            comparator="not-reported",
            n=None,
            studies_included=3,
            routes=("not-reported",),
        ),
    ]
    elements = page(make_catalog(studies))
    found = {a["data-study"]: (a, text) for _, a, text in rows(elements)}
    assert list(found) == ["feder-2014", "du-2022", "keeler-2023"]  # year, then id
    attrs, text = found["keeler-2023"]
    assert attrs["data-condition"] == "eating-disorders"
    assert attrs["data-design"] == "case-series"
    assert attrs["data-route"] == "im intranasal"
    assert attrs["data-comparator"] == "none"
    assert attrs["data-year"] == "2023"
    assert attrs["data-n"] == "4"
    assert attrs["data-status"] == "verified"
    assert "Case series" in text and "IM, Intranasal" in text
    assert "Checked against the abstract" in text
    assert found["du-2022"][0]["data-n"] == ""
    assert "(3 studies)" in found["du-2022"][1]
    links = [a["href"] for _, a, _ in elements.find("a")]
    assert links == ["../studies/feder-2014/", "../studies/du-2022/", "../studies/keeler-2023/"]
    cells = elements.find("td", data_col="n")
    assert [a.get("data-sort-value") for _, a, _ in cells] == ["41", "", "4"]


def test_controls_are_labelled_hidden_without_js_and_stable() -> None:
    catalog = make_catalog(many_studies(30))
    elements = page(catalog)
    form = elements.by_id("explorer-filters")
    assert form[0] == "form" and "hidden" in form[1] and form[1]["role"] == "search"
    labels = {a["for"]: text for _, a, text in elements.find("label")}
    for name in ("condition", "design", "route", "comparator", "year", "q"):
        control = elements.by_id(f"explorer-filter-{name}")
        assert control[0] == ("input" if name == "q" else "select")
        assert labels[f"explorer-filter-{name}"]
    count = elements.by_id("explorer-count")
    assert count[1]["aria-live"] == "polite"
    assert count[2] == "Showing 30 of 30 studies"
    assert elements.by_id("explorer-reset")[0] == "button"
    assert "hidden" in elements.by_id("explorer-empty")[1]
    assert elements.by_id("explorer")[1]["data-total"] == "30"
    table = elements.by_id("explorer-table")
    assert table[0] == "table"
    (caption,) = elements.find("caption")
    assert "30 studies" in caption[2]
    keys = [a["data-sort-key"] for _, a, _ in elements.find("th")]
    assert keys == [key for key, _, _ in explorer.COLUMNS]
    assert all(a["scope"] == "col" for _, a, _ in elements.find("th"))


def test_options_list_only_values_in_use_in_vocabulary_order() -> None:
    studies = [
        make_study("b-2010", design="case-report", comparator="none"),
        make_study("a-2012", design="rct"),
        make_study("c-2012", design="case-report", comparator="none"),
    ]
    elements = page(make_catalog(studies))
    text = explorer.explorer_page(make_catalog(studies))
    select = re.search(r'<select id="explorer-filter-design".*?</select>', text).group(0)
    values = re.findall(r'value="([^"]*)"', select)
    assert values == ["", "rct", "case-report"]
    years = re.search(r'<select id="explorer-filter-year".*?</select>', text).group(0)
    assert re.findall(r'value="([^"]*)"', years) == ["", "2010", "2012"]
    assert elements.by_id("explorer-filter-design")


def test_data_is_escaped() -> None:
    evil = "<script>alert(1)</script> & [@key]"
    study = make_study("evil<script>-2020", summary=evil, population=evil, result_summary=evil)
    text = explorer.explorer_page(make_catalog([study, make_study()]))
    assert "<script>alert" not in text
    assert "[@key]" not in text  # no citation syntax reaches the citation stage
    assert text.count("<script") == 1  # only the page's own script tag
    elements = Elements(text)
    (row,) = [a for _, a, _ in rows(elements) if a["data-study"].startswith("evil")]
    assert row["data-search"].startswith(evil)  # decoded by the parser: kept, not lost


def test_many_studies_survive_markdown() -> None:
    catalog = make_catalog(many_studies(200))
    text = explorer.explorer_page(catalog)
    for line in text.splitlines():
        assert not line.startswith("    ")
    block = text[text.index('<div id="explorer"') : text.index("</div>\n\n<script") + 6]
    assert "\n\n" not in block
    html = markdown.markdown(text, extensions=["tables", "md_in_html"])
    assert html.count("<tr data-study=") == 200
    assert '<form id="explorer-filters"' in html and "<pre>" not in html
    assert '<script src="../assets/explorer.js" defer></script>' in html
    assert html.startswith("<h1")


def test_deterministic() -> None:
    catalog = make_catalog(many_studies(50))
    assert explorer.explorer_page(catalog) == explorer.explorer_page(catalog)


def test_script_uses_the_documented_hooks() -> None:
    script = SCRIPT.read_text(encoding="utf-8")
    for hook in (
        '"explorer"',
        '"explorer-filters"',
        '"explorer-table"',
        '"explorer-count"',
        '"explorer-empty"',
        '"explorer-filter-q"',
        '"explorer-reset"',
        '"explorer-filter-"',
        "tr[data-study]",
        "th[data-sort-key]",
        "data-sort-type",
        "data-sort-value",
        "td[data-col=",
        "aria-sort",
        "history.replaceState",
        "URLSearchParams",
        "DOMContentLoaded",
        "document$",
    ):
        assert hook in script, hook
    names = re.search(r"var FILTERS = \[(.*?)\];", script).group(1)
    assert re.findall(r'"([a-z]+)"', names) == [name for name, _ in explorer.FILTERS]
    # No library or network access: the page must work offline.
    assert "http" not in script and "import " not in script and "require(" not in script


def test_script_path_exists() -> None:
    assert (ROOT / "docs" / explorer.SCRIPT) == SCRIPT and SCRIPT.is_file()
    assert Path(explorer.SCRIPT).name == "explorer.js"
