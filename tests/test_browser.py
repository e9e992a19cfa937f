"""Real-browser checks of the built site: Debian's chromium driven by Playwright.

The real site is built once per test session as ``make site`` does (``mkdocs build --strict``
and the PDF; the build is shared with ``test_links.py``) and served on ``127.0.0.1`` from a
thread. Every test records what the browser does and checks what a reader
sees: no console errors, no request to any other host, no serious or critical axe-core
violation in either colour scheme, search by an author's surname, citation tooltips, the
colour-scheme toggle and the study explorer (with and without JavaScript).

Playwright never downloads a browser here: chromium is launched from ``/usr/bin/chromium``;
the tests are skipped, with the reason, only when that file is missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from browser_support import (
    LOCAL_HOSTS,
    chromium,
    chromium_missing_reason,
    serve,
    shared_site,
)
from conftest import needs
from playwright.sync_api import Browser, BrowserContext, Page, expect

_MISSING = chromium_missing_reason()
pytestmark = [
    pytest.mark.browser,
    needs(_MISSING),
]

#: Pages checked for errors, outside requests and accessibility (URLs relative to the site).
PAGES = [
    "",
    "eating-disorders/",
    "ptsd/",
    "studies/",
    "studies/feder-2014/",
    "explorer/",
    "references/",
]
#: Colour schemes, as Playwright emulates ``prefers-color-scheme``, and Material's name for each.
SCHEMES = {"light": "default", "dark": "slate"}
#: axe-core impacts that fail a test; "minor" and "moderate" ones are reported by axe only.
FAILING_IMPACTS = {"serious", "critical"}
TIMEOUT_MS = 15_000


@dataclass
class Watch:
    """What one browser context did: every request, console error and failed response."""

    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def outside(self) -> list[str]:
        """Return the requested URLs whose host is not the local test server."""
        return sorted(
            {
                url
                for url in self.requests
                if not url.startswith(("data:", "blob:", "about:"))
                and urlsplit(url).hostname not in LOCAL_HOSTS
            }
        )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real site, built as ``make site`` does (with the PDF), shared with other modules."""
    return shared_site(tmp_path_factory.mktemp)


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    """Serve the built site on 127.0.0.1; yield its base URL (ending with ``/``)."""
    with serve(site) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Launch Debian's chromium once for this module."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def open_context(browser: Browser) -> Iterator[Any]:
    """Return a function that opens a watched browser context; all are closed after the test.

    The function takes Playwright's ``new_context`` keyword arguments and returns the context
    and its :class:`Watch`.
    """
    contexts: list[BrowserContext] = []

    def make(**options: Any) -> tuple[BrowserContext, Watch]:
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        watch = Watch()
        context.on("request", lambda request: watch.requests.append(request.url))
        context.on(
            "requestfailed",
            lambda request: watch.failures.append(f"{request.url}: {request.failure}"),
        )
        context.on(
            "response",
            lambda response: (
                watch.failures.append(f"{response.url}: HTTP {response.status}")
                if response.status >= 400
                else None
            ),
        )

        def on_page(page: Page) -> None:
            page.on(
                "console",
                lambda message: (
                    watch.errors.append(f"console: {message.text} ({message.location})")
                    if message.type == "error"
                    else None
                ),
            )
            page.on("pageerror", lambda error: watch.errors.append(f"pageerror: {error}"))

        context.on("page", on_page)
        contexts.append(context)
        return context, watch

    yield make
    for context in contexts:
        context.close()


def goto(page: Page, url: str) -> None:
    """Load ``url`` and wait until the network is idle (Material's scripts have run)."""
    response = page.goto(url, wait_until="networkidle")
    assert response is not None and response.ok, f"{url}: {response and response.status}"


def axe_problems(page: Page) -> list[str]:
    """Run axe-core on the page; return one line per serious or critical violation."""
    results = Axe().run(page)
    lines = []
    for violation in results.response["violations"]:
        if violation["impact"] not in FAILING_IMPACTS:
            continue
        for node in violation["nodes"]:
            checks = node.get("any", []) + node.get("all", []) + node.get("none", [])
            message = checks[0]["message"] if checks else violation["help"]
            lines.append(
                f"{violation['id']} ({violation['impact']}) at {', '.join(node['target'])}: "
                f"{message}"
            )
    return lines


def visible_rows(page: Page) -> list[str]:
    """Return the ``data-study`` ids of the explorer rows a reader sees, in display order."""
    return page.eval_on_selector_all(
        "#explorer-table tr[data-study]",
        "rows => rows.filter(r => r.offsetParent !== null).map(r => r.dataset.study)",
    )


# --- Every page: errors, outside requests, accessibility ---------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("path", PAGES, ids=lambda p: p or "home")
def test_page_is_clean_local_and_accessible(
    open_context: Any, base_url: str, path: str, scheme: str
) -> None:
    context, watch = open_context(color_scheme=scheme)
    page = context.new_page()
    goto(page, base_url + path)
    # The scheme really is the one emulated, so the contrast check covers both palettes.
    assert page.eval_on_selector("body", "b => b.dataset.mdColorScheme") == SCHEMES[scheme]
    problems = axe_problems(page)
    assert not watch.outside(), f"requests leaving localhost: {watch.outside()}"
    assert not watch.errors, "\n".join(watch.errors)
    assert not watch.failures, "\n".join(watch.failures)
    assert not problems, "axe-core violations:\n" + "\n".join(problems)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_search_finds_a_study_by_author_surname(
    open_context: Any, base_url: str, scheme: str
) -> None:
    context, watch = open_context(color_scheme=scheme)
    page = context.new_page()
    goto(page, base_url + "ptsd/")
    query = page.locator("input.md-search__input")
    query.click()
    query.press_sequentially("Albott", delay=20)
    result = page.locator('.md-search-result__list a[href*="studies/albott-2018/"]').first
    expect(result).to_be_visible()
    # The open search dialog, with its results, is accessible in both schemes too.
    problems = axe_problems(page)
    assert not problems, "axe-core violations with search open:\n" + "\n".join(problems)
    result.click()
    page.wait_for_url(re.compile(r"/studies/albott-2018/"))
    expect(page.locator("h1").first).to_contain_text("Albott")
    assert not watch.outside(), f"requests leaving localhost: {watch.outside()}"
    assert not watch.errors, "\n".join(watch.errors)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_citation_shows_its_reference_on_hover(
    open_context: Any, base_url: str, scheme: str
) -> None:
    context, watch = open_context(color_scheme=scheme)
    page = context.new_page()
    goto(page, base_url)
    citation = page.locator("article a.citation-ref").first
    reference = citation.get_attribute("title") or ""
    # The title is the formatted reference: authors, title, a year.
    assert re.search(r"\b(19|20)\d\d\b", reference) and len(reference) > 40, reference
    citation.hover()
    # Material's content.tooltips replaces the title by a role="tooltip" element that the
    # link points to with aria-describedby.
    expect(citation).to_have_attribute("aria-describedby", re.compile(r"\S"))
    tooltip = page.locator(f"#{citation.get_attribute('aria-describedby')}")
    expect(tooltip).to_have_attribute("role", "tooltip")
    expect(tooltip).to_be_visible()
    expect(tooltip).to_have_text(reference, use_inner_text=True)
    expect(citation).to_have_accessible_description(reference)
    problems = axe_problems(page)
    assert not problems, "axe-core violations with a tooltip shown:\n" + "\n".join(problems)
    assert not watch.errors, "\n".join(watch.errors)


def test_colour_scheme_toggle_switches_and_persists(open_context: Any, base_url: str) -> None:
    context, watch = open_context(color_scheme="light")
    page = context.new_page()
    goto(page, base_url)
    body = page.locator("body")
    toggle = page.locator('form[data-md-component="palette"] label:visible')
    expect(body).to_have_attribute("data-md-color-scheme", "default")
    toggle.click()
    expect(body).to_have_attribute("data-md-color-scheme", "slate")
    # The choice is remembered on the next page.
    goto(page, base_url + "ptsd/")
    expect(body).to_have_attribute("data-md-color-scheme", "slate")
    toggle.click()
    expect(body).to_have_attribute("data-md-color-scheme", "default")
    assert not watch.errors, "\n".join(watch.errors)


# --- The study explorer --------------------------------------------------------------------


def row_texts(page: Page) -> dict[str, str]:
    """Return every explorer row's searchable text (lower case), by study id."""
    return page.eval_on_selector_all(
        "#explorer-table tr[data-study]",
        """rows => Object.fromEntries(rows.map(r => [r.dataset.study,
            (r.textContent + ' ' + (r.dataset.search || '')).toLowerCase()]))""",
    )


def click(locator: Any) -> None:
    """Click ``locator`` after scrolling it to the middle of the window.

    Scrolled only "into view", an element can end under Material's sticky header, which
    would take the click.
    """
    locator.evaluate("el => el.scrollIntoView({block: 'center'})")
    locator.click()


def visible_years(page: Page) -> list[int]:
    """Return the year column of the visible rows, in display order."""
    return page.eval_on_selector_all(
        "#explorer-table tr[data-study]",
        "rows => rows.filter(r => r.offsetParent !== null).map(r => Number(r.dataset.year))",
    )


def test_explorer_filters_sorts_and_keeps_state_in_the_url(
    open_context: Any, base_url: str
) -> None:
    context, watch = open_context()
    page = context.new_page()
    goto(page, base_url + "explorer/")
    expect(page.locator("#explorer")).to_have_attribute("data-ready", "true")
    expect(page.locator("#explorer-filters")).to_be_visible()
    total = int(page.locator("#explorer").get_attribute("data-total") or 0)
    texts = row_texts(page)
    assert total == len(texts) > 1
    expect(page.locator("#explorer-count")).to_have_text(f"Showing {total} of {total} studies")

    # Free text: only rows that mention the surname remain, and the count says so.
    page.locator("#explorer-filter-q").fill("feder")
    feder = sorted(study for study, text in texts.items() if "feder" in text)
    assert "feder-2014" in feder and len(feder) < total
    expect(page.locator("#explorer-count")).to_have_text(f"Showing {len(feder)} of {total} studies")
    assert sorted(visible_rows(page)) == feder

    # A condition filter narrows further; every visible row has that condition.
    page.locator("#explorer-filter-condition").select_option("ptsd")
    conditions = page.eval_on_selector_all(
        "#explorer-table tr[data-study]",
        """rows => Object.fromEntries(rows.map(r => [r.dataset.study, r.dataset.condition]))""",
    )
    expected = sorted(s for s in feder if conditions[s] == "ptsd")
    assert expected
    assert sorted(visible_rows(page)) == expected
    expect(page.locator("#explorer-count")).to_have_text(
        f"Showing {len(expected)} of {total} studies"
    )

    # Sorting: clear the text filter to see more rows; then Year descending, then ascending.
    page.locator("#explorer-filter-q").fill("")
    year = page.locator('th[data-sort-key="year"] button')
    years = visible_years(page)
    assert len(years) > 2
    assert years == sorted(years)  # the default order
    click(year)
    expect(page.locator('th[data-sort-key="year"]')).to_have_attribute("aria-sort", "descending")
    assert visible_years(page) == sorted(years, reverse=True)
    click(year)
    expect(page.locator('th[data-sort-key="year"]')).to_have_attribute("aria-sort", "ascending")
    assert visible_years(page) == sorted(years)
    click(year)
    page.locator("#explorer-filter-q").fill("ketamine")

    # The state is in the query string, and loading that URL shows the same rows in order.
    shown = visible_rows(page)
    assert shown
    state = parse_qs(urlsplit(page.url).query)
    assert state.get("condition") == ["ptsd"], page.url
    assert state.get("sort") == ["year"] and state.get("dir") == ["desc"], page.url
    text_params = [name for name, values in state.items() if values == ["ketamine"]]
    assert text_params, f"the free-text filter is not in the URL: {page.url}"
    fresh = context.new_page()
    goto(fresh, page.url)
    expect(fresh.locator("#explorer")).to_have_attribute("data-ready", "true")
    # Material opens its search dialog over the page when the URL has a "q" parameter (and
    # deletes "q" from the URL when the dialog closes), so the explorer must not use that name.
    assert not fresh.locator("#__search").is_checked(), (
        f"loading {page.url} opens Material's site search over the explorer: Material reads "
        f"'?q=' as a search query; the explorer's parameter {text_params} collides with it"
    )
    assert visible_rows(fresh) == shown
    expect(fresh.locator("#explorer-filter-q")).to_have_value("ketamine")
    expect(fresh.locator("#explorer-filter-condition")).to_have_value("ptsd")
    expect(fresh.locator("#explorer-count")).to_have_text(
        f"Showing {len(shown)} of {total} studies"
    )
    fresh.reload(wait_until="networkidle")
    assert visible_rows(fresh) == shown

    # Clearing restores every row in the default order and empties the query string.
    click(fresh.locator("#explorer-reset"))
    assert len(visible_rows(fresh)) == total
    assert urlsplit(fresh.url).query == ""
    assert not watch.errors, "\n".join(watch.errors)
    assert not watch.outside(), f"requests leaving localhost: {watch.outside()}"


def test_explorer_without_javascript_shows_the_full_table(open_context: Any, base_url: str) -> None:
    context, _ = open_context(java_script_enabled=False)
    page = context.new_page()
    # With a filter in the URL too: without the script it cannot apply, so nothing is hidden.
    goto(page, base_url + "explorer/?condition=ptsd&sort=year&dir=desc")
    total = int(page.locator("#explorer").get_attribute("data-total") or 0)
    rows = page.locator("#explorer-table tr[data-study]")
    expect(rows).to_have_count(total)
    for index in range(total):
        expect(rows.nth(index)).to_be_visible()
    expect(page.locator("#explorer-filters")).to_be_hidden()
