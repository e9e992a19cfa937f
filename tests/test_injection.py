"""Data cannot inject anything: payloads in records, trials, the glossary and references.bib.

The fixture ``tests/fixtures/injection/`` is laid over a copy of the real project with the
overlay convention of ``tests/test_bad_input.py`` (whole files replace the real ones):

* ``site/``: the record ``feder-2014`` (same id, condition and design, so every page, table,
  figure and count still builds), the trial ``nct04714541`` and the glossary, with every text
  field set to ``"<field>: " + PAYLOAD``; the glossary gains the abbreviation ``INJ``, which
  the record's summary uses;
* the ``vocabularies`` layer, made at test time by :func:`hostile_data_layer` from the
  project's own files so that it never goes stale: every vocabulary in
  ``data/vocabularies/``, ``data/versions.yaml`` and ``data/prisma.yaml`` with every text
  field (labels, abbreviations, descriptions, notes, reasons, summaries, triggers, the
  living-mode plan) set to ``"<file>.<field>: " + PAYLOAD``: vocabulary labels reach page
  titles (``<title>``, where the theme's ``striptags`` un-escapes), headings, tables,
  filters and figures;
* ``bibliography/``: ``references.bib`` whose ``feder2014`` entry holds the payloads in its
  title, journal and note and in its first author (a corporate name, which the narrative
  citations ``@feder2014`` of the real pages show), with a ``javascript:`` URL and a quote in
  the DOI.

:data:`PAYLOAD` joins every payload: raw HTML (``<script>``, an ``onerror`` image, an
attribute break-out), Markdown (a ``javascript:`` link, a ``data:`` image, ``**bold**``,
backticks, a ``|`` table cell, an ``{: attr_list }``), an HTML comment, Jinja syntax
(``{{ 7*7 }}``, ``{% raw %}``) and citation syntax (``@feder2014``, ``[@feder2014]``), which
must not become a citation. Each site is built once (strictly) and shared by the tests.

:func:`scan_for_payloads` is the one scanner for built output; the PDF checks import it.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import FIXTURES
from test_bad_input import overlay

INJECTION = FIXTURES / "injection"
MKDOCS_BUILD = [sys.executable, "-m", "mkdocs", "build", "--strict"]

#: Every payload, in the order they appear in :data:`PAYLOAD`.
PAYLOADS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '" onmouseover="alert(1)',
    "[click](javascript:alert(1))",
    "![x](data:text/html;base64,PHNjcmlwdD4=)",
    "tpl:{{ 7*7 }}:tpl",
    "{% raw %}",
    "{: onclick=alert(1) }",
    "| pipe | cell |",
    "`tick`",
    "<!-- comment -->",
    "**bold**",
    "@feder2014",
    "[@feder2014]",
)
#: The text after ``"<field>: "`` in every text field of the fixture record and trial.
PAYLOAD = " ".join(PAYLOADS)

#: Fields of the fixture record shown on its study page (each as ``"<field>: " + PAYLOAD``).
STUDY_PAGE_FIELDS = (
    "population.description",
    "population.setting",
    "population.country",
    "participants.age_years.note",
    "participants.groups[0].name",
    "intervention.dose.note",
    "intervention.sessions.note",
    "intervention.schedule",
    "intervention.description",
    "co_interventions[0].description",
    "comparator_detail",
    "follow_up",
    "outcomes[0].timepoint",
    "outcomes[0].finding",
    "outcomes[0].arms[0].name",
    "outcomes[0].effect.note",
    "outcomes[0].source.locator",
    "result.summary",
    "adverse_events.summary",
    "adverse_events.serious",
    "adverse_events.dropouts",
    "adverse_events.source.locator",
    "discrepancies[0].field",
    "discrepancies[0].values[0].value",
    "discrepancies[0].values[0].source.locator",
    "discrepancies[0].values[1].value",
    "notes[0]",
    "provenance[0].locator",
    "provenance[0].note",
    "bibliographic.note",
)
#: Fields of the fixture trial shown in the registered-trials table.
TRIAL_TABLE_FIELDS = (
    "acronym",
    "design",
    "population",
    "intervention",
    "source.description",
    "verification.note",
)

# --- the scanner --------------------------------------------------------------------------

#: Attributes whose value is a URL a browser may load or follow.
_URL_ATTRIBUTES = frozenset(
    {"href", "src", "srcset", "action", "formaction", "xlink:href", "data", "poster", "background"}
)
_BAD_SCHEMES = ("javascript:", "vbscript:", "data:")
#: What the Markdown payloads become if they are rendered instead of shown.
_RENDERED_MARKUP = ("<strong>bold</strong>", "<em>bold</em>", "<code>tick</code>")
_EVALUATED_TEMPLATE = "tpl:49:tpl"


class _PayloadScanner(HTMLParser):
    """Collect live payloads from HTML: event handlers, bad URLs, scripts, comments."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.findings: list[str] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check_attributes(tag, attrs)
        self._in_script = tag == "script"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check_attributes(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            if "alert(" in data:
                self.findings.append(f"a <script> runs {data.strip()[:60]!r}")
        else:
            self.text.append(data)

    def handle_comment(self, data: str) -> None:
        if "comment" in data:
            self.findings.append(f"a live HTML comment <!--{data}-->")

    def _check_attributes(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("on"):
                self.findings.append(f"<{tag}> has an event handler {name}={value!r}")
            # Browsers ignore whitespace and control characters inside a URL's scheme.
            url = re.sub(r"[\x00-\x20]+", "", value or "").lower()
            if name in _URL_ATTRIBUTES and url.startswith(_BAD_SCHEMES):
                self.findings.append(f"<{tag}> has {name}={value!r}")


def scan_for_payloads(text: str) -> list[str]:
    """Return every payload of :data:`PAYLOADS` that is live in ``text``; ``[]`` when clean.

    Args:
        text: HTML (a built page, an SVG, the HTML a PDF is made from, a search-index entry)
            or plain text (extracted from a PDF; then only the checks on text can fire).

    Returns:
        One line per finding: an ``on*`` event-handler attribute (the theme uses none), a
        ``javascript:``/``vbscript:``/``data:`` URL in a URL attribute, a ``<script>`` that
        calls ``alert``, the payload's HTML comment as a real comment, Markdown from data
        rendered (``<strong>bold</strong>``, ``<code>tick</code>``), and ``{{ 7*7 }}``
        evaluated (``tpl:49:tpl``).
    """
    scanner = _PayloadScanner()
    scanner.feed(text)
    scanner.close()
    findings = list(scanner.findings)
    findings += [f"data rendered as markup: {m}" for m in _RENDERED_MARKUP if m in text]
    if _EVALUATED_TEMPLATE in html.unescape("".join(scanner.text)) + text:
        findings.append("template syntax from data was evaluated: {{ 7*7 }} became 49")
    return findings


# --- reading built pages --------------------------------------------------------------------


class _Text(HTMLParser):
    """The text of an HTML document (character references resolved), scripts left out."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def page_text(page: str) -> str:
    """Return the text of the ``<article>`` of a built page (or of the whole page)."""
    start = page.find("<article")
    end = page.rfind("</article>")
    parser = _Text()
    parser.feed(page[start:end] if start >= 0 and end > start else page)
    parser.close()
    return "".join(parser.parts)


class _Tables(HTMLParser):
    """Cells per row of every table: ``tables[i][j]`` is the cell count of row ``j``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[int]] = []
        self.headers: list[list[str]] = []
        self._depth = 0
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._depth += 1
            self.tables.append([])
            self.headers.append([])
        elif tag == "tr" and self._depth:
            self.tables[-1].append(0)
        elif tag in ("td", "th") and self._depth and self.tables[-1]:
            self.tables[-1][-1] += 1
            if tag == "th":
                self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._depth -= 1
        elif tag == "th" and self._cell is not None:
            self.headers[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables_of(page: str) -> _Tables:
    """Return the tables of a built page."""
    parser = _Tables()
    parser.feed(page)
    parser.close()
    return parser


# --- building the fixture sites -------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """A strictly built fixture site."""

    root: Path
    site: Path
    result: subprocess.CompletedProcess[str]

    def pages(self) -> list[Path]:
        """Every built HTML file."""
        return sorted(self.site.rglob("*.html"))

    def read(self, url: str) -> str:
        """Return the HTML of the page at ``url`` (``studies/feder-2014/``)."""
        return (self.site / url / "index.html").read_text(encoding="utf-8")


#: Keys whose values are free text in vocabularies, ``versions.yaml`` and ``prisma.yaml``.
HOSTILE_TEXT_KEYS = frozenset(
    {
        "label",
        "abbreviation",
        "description",
        "measures",
        "note",
        "reason",
        "summary",
        "trigger",
        "search_schedule",
        "search_method",
        "triggers",
        "retirement",
        # outcome_families.yaml: a published certainty rating's scope, who published it, where.
        "scope",
        "by",
        "locator",
    }
)


def _hostile(value: object, where: str) -> object:
    """Return ``value`` with every free-text string set to ``"<where>: " + PAYLOAD``."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            here = f"{where}.{key}"
            if key in HOSTILE_TEXT_KEYS and isinstance(item, str):
                out[key] = f"{here}: {PAYLOAD}"
            else:
                out[key] = _hostile(item, here)
        return out
    if isinstance(value, list):
        return [_hostile(item, f"{where}[{i}]") for i, item in enumerate(value)]
    return value


def hostile_data_layer(root: Path) -> None:
    """Rewrite the vocabularies, ``versions.yaml`` and ``prisma.yaml`` of ``root`` with payloads.

    Made from the project's current files (not a stored copy), so a new term, field or study
    in the real data is covered and the fixture cannot go stale.
    """
    import yaml

    data = root / "data"
    files = [*sorted((data / "vocabularies").glob("*.yaml")), data / "versions.yaml"]
    files.append(data / "prisma.yaml")
    for path in files:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        prefix = path.stem
        hostile = _hostile(doc, prefix)
        text = "# Every text field holds the injection payloads (tests/test_injection.py).\n"
        text += yaml.safe_dump(hostile, allow_unicode=True, sort_keys=False, width=10_000)
        path.write_text(text, encoding="utf-8")


_SITES: dict[str, Site] = {}


def _site(name: str, layers: tuple[str, ...], make: Callable[..., Path], tmp_path: Path) -> Site:
    """Build a fixture site once per session; later tests reuse it (``make`` is lazy)."""
    if name not in _SITES:
        root = make(site=True)
        for layer in layers:
            if layer == "vocabularies":
                hostile_data_layer(root)
            else:
                overlay(root, INJECTION / layer)
        site = tmp_path / "site"
        result = subprocess.run(
            [*MKDOCS_BUILD, "--site-dir", str(site)],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        _SITES[name] = Site(root, site, result)
    return _SITES[name]


@pytest.fixture
def data_site(project_copy: Callable[..., Path], tmp_path: Path) -> Site:
    """The site with payloads in the record, the trial and the glossary."""
    return _site("data", ("site",), project_copy, tmp_path)


@pytest.fixture
def bib_site(project_copy: Callable[..., Path], tmp_path: Path) -> Site:
    """The site with payloads in the record, the trial, the glossary and references.bib."""
    return _site("bib", ("site", "bibliography"), project_copy, tmp_path)


@pytest.fixture
def all_site(project_copy: Callable[..., Path], tmp_path: Path) -> Site:
    """The site with payloads in every data file.

    Records, trials, the glossary, vocabularies, versions, PRISMA and references.bib.
    """
    return _site("all", ("site", "bibliography", "vocabularies"), project_copy, tmp_path)


def _scan_site(site: Site) -> list[str]:
    findings = []
    for page in site.pages():
        for finding in scan_for_payloads(page.read_text(encoding="utf-8")):
            findings.append(f"{page.relative_to(site.site)}: {finding}")
    index = json.loads((site.site / "search" / "search_index.json").read_text(encoding="utf-8"))
    for doc in index["docs"]:
        for key in ("title", "text"):
            for finding in scan_for_payloads(doc.get(key, "")):
                findings.append(f"search index {doc['location']} {key}: {finding}")
    return findings


# --- the fixture itself ---------------------------------------------------------------------


def test_fixture_holds_every_payload_in_every_field() -> None:
    record = (INJECTION / "site" / "data" / "studies" / "feder-2014.yaml").read_text("utf-8")
    for field in STUDY_PAGE_FIELDS:
        assert f"'{field}: {PAYLOAD}'" in record, field
    trial = (INJECTION / "site" / "data" / "trials" / "nct04714541.yaml").read_text("utf-8")
    for field in TRIAL_TABLE_FIELDS:
        assert f"{field.split('.')[-1]}: '{field}: {PAYLOAD}'" in trial, field
    assert "javascript:" not in record.split("url:")[1].splitlines()[0]


# --- record, trial and glossary payloads ----------------------------------------------------


def test_data_site_builds_strictly_without_warnings(data_site: Site) -> None:
    warnings = re.findall(r"^(?:WARNING|ERROR) +- .*$", data_site.result.stderr, re.MULTILINE)
    assert not warnings, "\n".join(warnings)


def test_no_payload_is_live_in_any_page_or_the_search_index(data_site: Site) -> None:
    findings = _scan_site(data_site)
    assert not findings, "\n".join(findings)


def test_study_page_shows_every_field_as_literal_text(data_site: Site) -> None:
    text = page_text(data_site.read("studies/feder-2014"))
    absent = [field for field in STUDY_PAGE_FIELDS if f"{field}: {PAYLOAD}" not in text]
    assert not absent, f"not shown literally: {absent}"
    # The summary is shown literally too, after the glossary's INJ abbreviation.
    assert f"summary INJ: {PAYLOAD}" in text


def test_trial_table_shows_every_field_as_literal_text(data_site: Site) -> None:
    text = page_text(data_site.read("trials"))
    absent = [field for field in TRIAL_TABLE_FIELDS if f"{field}: {PAYLOAD}" not in text]
    assert not absent, f"not shown literally: {absent}"


def test_template_and_citation_syntax_in_data_stay_text(data_site: Site) -> None:
    text = page_text(data_site.read("studies/feder-2014"))
    assert text.count("tpl:{{ 7*7 }}:tpl") >= len(STUDY_PAGE_FIELDS)
    assert text.count("[@feder2014]") >= len(STUDY_PAGE_FIELDS)
    for page in data_site.pages():
        assert "tpl:49:tpl" not in html.unescape(page.read_text(encoding="utf-8")), page


def test_every_table_keeps_its_shape(data_site: Site) -> None:
    for page in data_site.pages():
        tables = tables_of(page.read_text(encoding="utf-8"))
        for i, rows in enumerate(tables.tables):
            assert len(set(rows)) <= 1, f"{page}: table {i} has rows of {sorted(set(rows))} cells"


def test_characteristics_tables_have_one_row_per_record(data_site: Site) -> None:
    records = sorted((data_site.root / "data" / "studies").glob("*.yaml"))
    ptsd = [p for p in records if "\ncondition: ptsd\n" in p.read_text(encoding="utf-8")]

    def body_rows(url: str, first_header: str) -> int:
        tables = tables_of(data_site.read(url))
        return sum(
            len(rows) - 1
            for rows, headers in zip(tables.tables, tables.headers, strict=True)
            if headers[:1] == [first_header] and "Verification" in headers
        )

    assert body_rows("studies", "Study") == len(records)
    assert body_rows("ptsd", "Study") == len(ptsd)


def test_study_page_title_and_meta_hold_no_data(data_site: Site) -> None:
    page = data_site.read("studies/feder-2014")
    title = re.search(r"<title>(.*?)</title>", page, re.DOTALL)
    assert title is not None
    assert html.unescape(title.group(1)).startswith("Feder 2014: Randomized crossover trial")
    assert "<" not in title.group(1) and "alert" not in title.group(1)
    for content in re.findall(r'<meta [^>]*content="([^"]*)"', page):
        assert "alert" not in content and "<" not in content, content


def test_glossary_definition_is_an_escaped_tooltip(data_site: Site) -> None:
    page = data_site.read("studies/feder-2014")
    titles = re.findall(r'<abbr title="([^"]*)">INJ</abbr>', page)
    assert titles, "the INJ abbreviation is not applied"
    # site.py writes the definition into `*[INJ]: ...`, turning "]" into ")".
    assert html.unescape(titles[0]) == f"glossary INJ: {PAYLOAD}".replace("]", ")")


def test_feed_is_well_formed_and_carries_data_as_text(data_site: Site) -> None:
    feed = data_site.site / "feed.xml"
    assert feed.is_file(), "the build writes feed.xml"
    tree = ET.parse(feed)
    for element in tree.iter():
        if element.get("type") in ("html", "xhtml"):
            assert not scan_for_payloads(element.text or ""), element.text
        assert "tpl:49:tpl" not in (element.text or "")


#: Text fields of the fixture's data/versions.yaml and the pages that show them.
RELEASE_FIELDS = {
    "whats-new": ("versions[0].trigger", "versions[0].summary"),
    "methods": (
        "living.search_schedule",
        "living.search_method",
        "living.triggers",
        "living.retirement",
    ),
}


def test_release_texts_show_as_literal_text(data_site: Site) -> None:
    for url, fields in RELEASE_FIELDS.items():
        text = page_text(data_site.read(url))
        absent = [field for field in fields if f"{field}: {PAYLOAD}" not in text]
        assert not absent, f"{url}: not shown literally: {absent}"
    # The "cite this version" line at the foot of every page: title and author from
    # CITATION.cff, as text.
    for page in data_site.pages():
        raw = page.read_text(encoding="utf-8")
        start = raw.find('<aside class="review-version')
        if page.name == "404.html" and start < 0:
            continue
        assert start >= 0, page
        footer = page_text(raw[start : raw.index("</aside>", start)])
        assert f"authors[0].name: {PAYLOAD}. title: {PAYLOAD}. Version 0.1.0." in footer, page
    entries = ET.parse(data_site.site / "feed.xml").getroot()
    titles = [e.findtext("{http://www.w3.org/2005/Atom}title", "") for e in entries]
    assert f"Version 0.1.0: versions[0].trigger: {PAYLOAD}" in titles


# --- references.bib payloads ----------------------------------------------------------------

#: The payloads as the ``feder2014`` entry holds them after LaTeX decoding (``\\{`` is ``{``,
#: ``-{}-`` is ``--``); backticks are left out, as LaTeX reads them as quotation marks.
BIB_PAYLOAD = (
    '<script>alert(1)</script> <img src=x onerror=alert(1)> " onmouseover="alert(1) '
    "[click](javascript:alert(1)) ![x](data:text/html;base64,PHNjcmlwdD4=) tpl:{{ 7*7 }}:tpl "
    "{% raw %} {: onclick=alert(1) } | pipe | cell | <!-- comment --> **bold** @feder2014 "
    "[@feder2014]"
)


#: The title as CSL gets it: in sentence case, as Pandoc converts BibTeX titles (the first word
#: and a word after ": " are raised); the payload is otherwise unchanged text.
BIB_TITLE = "Title: " + BIB_PAYLOAD.replace("{: onclick", "{: Onclick")


def test_bib_payloads_show_as_literal_text_on_the_references_page(bib_site: Site) -> None:
    text = page_text(bib_site.read("references"))
    assert BIB_TITLE in text, "title"
    assert f"journal: {BIB_PAYLOAD}" in text, "journal"


def test_bib_payloads_are_not_live_anywhere(bib_site: Site) -> None:
    findings = _scan_site(bib_site)
    assert not findings, "\n".join(findings[:20])


# --- the url field ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("https://example.org/study", True),
        ("http://example.org/study?id=1", True),
        ("doi:10.1001/jamapsychiatry.2014.62", True),
        ("javascript:alert(1)", False),
        ("JAVASCRIPT:alert(1)", False),
        ("JavaScript:alert(1)", False),
        ("data:text/html;base64,PHNjcmlwdD4=", False),
        ("vbscript:msgbox(1)", False),
        (" https://example.org", False),
        ("https://example.org/<script>", False),
        ('https://example.org/" onmouseover="alert(1)', False),
        ("//example.org", False),
        ("HTTPS://example.org", False),
    ],
)
def test_url_field_accepts_only_web_and_doi_addresses(
    url: str, accepted: bool, project_copy: Callable[..., Path]
) -> None:
    from livingreview.bibliography import load_bibliography
    from livingreview.validate import load_catalog

    root = project_copy(["feder-2014"])
    record = root / "data" / "studies" / "feder-2014.yaml"
    text = record.read_text(encoding="utf-8")
    record.write_text(text + f"url: {json.dumps(url)}\n", encoding="utf-8")
    keys, _ = load_bibliography(root / "references.bib", root)
    catalog, problems = load_catalog(root, keys)
    url_problems = [p for p in problems if p.field == "url"]
    assert (catalog is not None and not url_problems) is accepted, problems
    if not accepted:
        assert "has the wrong form" in url_problems[0].message


@pytest.mark.parametrize(
    "study_id",
    [
        "<script>alert(1)</script>-2014",
        "feder-2014<img src=x onerror=alert(1)>",
        'feder-2014" onmouseover="alert(1)',
        "feder-2014](javascript:alert(1))",
        "feder-{{ 7*7 }}",
        "Feder-2014",
        "feder-2014\n# Heading",
    ],
)
def test_ids_cannot_carry_markup(study_id: str, project_copy: Callable[..., Path]) -> None:
    """Page titles, URLs and links are built from ids, so the id pattern is the defence."""
    from livingreview.bibliography import load_bibliography
    from livingreview.validate import load_catalog

    root = project_copy(["feder-2014"])
    record = root / "data" / "studies" / "feder-2014.yaml"
    text = record.read_text(encoding="utf-8")
    record.write_text(text.replace("id: feder-2014\n", f"id: {json.dumps(study_id)}\n"), "utf-8")
    keys, _ = load_bibliography(root / "references.bib", root)
    catalog, problems = load_catalog(root, keys)
    assert catalog is None
    shown = study_id if len(study_id) <= 60 else study_id[:57] + "..."
    messages = [p.message for p in problems if p.field == "id"]
    assert len(messages) == 1 and messages[0].startswith(f"text '{shown}' has the wrong form")


# --- every data file, every output, the head included (issue 12) ----------------------------

#: The head of a page: ``<title>`` and ``<meta>`` are where the theme puts page titles.
_HEAD = re.compile(r"<head>(.*?)</head>", re.DOTALL)


def test_all_site_builds_strictly_without_warnings(all_site: Site) -> None:
    warnings = re.findall(r"^(?:WARNING|ERROR) +- .*$", all_site.result.stderr, re.MULTILINE)
    assert not warnings, "\n".join(warnings)


def test_no_payload_from_any_data_file_is_live(all_site: Site) -> None:
    findings = _scan_site(all_site)
    assert not findings, "\n".join(findings[:20])


def test_page_titles_are_inert_plain_text_in_every_head(all_site: Site) -> None:
    """Page titles in ``<title>`` and ``<meta>`` are inert plain text.

    A vocabulary label reaches every study page's ``<title>``, which the theme fills with
    ``page.title | striptags`` (un-escaping ``&lt;``); the adapter hands it plain text.
    """
    checked = 0
    for page in all_site.pages():
        head = _HEAD.search(page.read_text(encoding="utf-8"))
        assert head is not None, page
        for finding in scan_for_payloads(head.group(1)):
            pytest.fail(f"{page.relative_to(all_site.site)}: {finding}")
        title = re.search(r"<title>(.*?)</title>", head.group(1), re.DOTALL)
        assert title is not None, page
        # Raw, escaped or un-escaped, nothing in the title can open or close a tag.
        assert not set(html.unescape(title.group(1))) & set("<>&\"'"), title.group(1)
        # Meta values are escaped text in a double-quoted attribute (Material prints
        # page.meta.description raw, without striptags): nothing may break out of it.
        for tag in re.findall(r"<meta [^>]*>", head.group(1)):
            content = re.search(r'content="([^"]*)"', tag)
            assert content is None or "<" not in content.group(1), tag
        checked += "alert(1)" in title.group(1)
    # Every study page's title holds its design label, payload and all (made inert).
    assert checked >= len(list((all_site.site / "studies").glob("*/index.html")))
    title = re.search(r"<title>(.*?)</title>", all_site.read("studies/feder-2014"))
    assert title is not None
    assert title.group(1).startswith(
        "Feder 2014: designs.terms[1].label: \u2039script\u203aalert(1)\u2039/script\u203a"
    )


def test_vocabulary_versions_and_prisma_text_is_shown_literally(all_site: Site) -> None:
    study = page_text(all_site.read("studies/feder-2014"))
    assert f"designs.terms[1].label: {PAYLOAD}" in study
    methods = page_text(all_site.read("methods"))
    assert f"prisma.other_methods.sources[0].label: {PAYLOAD}" in methods
    news = page_text(all_site.read("whats-new"))
    assert f"versions.versions[0].summary: {PAYLOAD}" in news
    # The summary of findings and the forest plots show outcome families and certainty.
    ptsd = page_text(all_site.read("ptsd"))
    for field in ("terms[0].label", "terms[0].certainty[0].scope", "terms[0].certainty[0].by"):
        assert f"outcome_families.{field}: {PAYLOAD}" in ptsd, field


def test_downloads_carry_payloads_as_data(all_site: Site) -> None:
    """CSL JSON stays JSON, RIS one tag per line, BibTeX the same entries: text, not syntax."""
    import bibtexparser

    downloads = all_site.site / "downloads"
    items = json.loads((downloads / "references.json").read_text(encoding="utf-8"))
    titles = [item.get("title", "") for item in items]
    assert any("<script>alert(1)</script>" in title for title in titles), titles[:3]
    ris = (downloads / "references.ris").read_text(encoding="utf-8")
    bad = [ln for ln in ris.splitlines() if ln and not re.match(r"^[A-Z][A-Z0-9]  - ", ln)]
    assert not bad, bad[:5]
    assert ris.count("ER  - ") == len(items)
    library = bibtexparser.parse_string((downloads / "references.bib").read_text("utf-8"))
    assert not library.failed_blocks
    assert len(library.entries) == len(items)


def test_feed_carries_every_data_file_as_text(all_site: Site) -> None:
    feed = all_site.site / "feed.xml"
    tree = ET.parse(feed)  # well-formed, whatever the data held
    texts = 0
    for element in tree.iter():
        kind = element.get("type", "text")
        if kind in ("html", "xhtml"):
            # Content a feed reader renders as HTML: nothing in it may be live.
            assert not scan_for_payloads(element.text or ""), element.text
        elif "alert(1)" in (element.text or ""):
            texts += 1  # plain text (Atom's default type): shown as written
    assert texts, "no data reached the feed"


def test_print_document_for_the_pdf_has_no_live_payload(all_site: Site) -> None:
    """The HTML document the PDF is laid out from holds no live payload.

    It is combined from the built pages: every data string reaches it (studies, figures,
    references).
    """
    from livingreview import pdf

    config = pdf.load_config(all_site.root / "mkdocs.yml")
    meta = pdf.review_metadata(config, all_site.root, 1_700_000_000)
    document, pages = pdf.combine(all_site.site, config, meta)
    assert len(pages) > 20
    findings = scan_for_payloads(document)
    assert not findings, findings[:10]
    text = page_text(document)
    assert f"designs.terms[1].label: {PAYLOAD}" in text
    assert f"prisma.other_methods.sources[0].label: {PAYLOAD}" in text
    # The PDF's metadata comes from mkdocs.yml and CITATION.cff (the fixture puts payloads in
    # CITATION.cff's authors): what reaches the cover is the same text, shown literally.
    hostile = [f for f in (*meta.authors, meta.cite_title) if "alert(1)" in f]
    assert hostile, "the fixture's CITATION.cff payload did not reach the PDF metadata"
    for field in hostile:
        assert field in text, field
