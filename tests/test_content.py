"""The review's own pages: every factual paragraph is cited.

The check is deliberately simple and strict on the evidence pages: a prose paragraph (not a
heading, table, marker, admonition title or code) without a citation fails, unless it only
frames computed content (a sentence that ends in a colon before a list of markers).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from livingreview.citations import find_citations
from livingreview.markers import MARKER
from livingreview.project import load_project, split_front_matter
from test_build import build

EVIDENCE_PAGES = ("index.md", "eating-disorders.md", "ptsd.md", "methods.md")
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def _paragraphs(page: str) -> list[str]:
    text, _ = split_front_matter((ROOT / "docs" / page).read_text(encoding="utf-8"))
    text = _FENCE.sub("", text)
    return [block.strip() for block in re.split(r"\n\s*\n", text) if block.strip()]


def _needs_citation(block: str) -> bool:
    if block.startswith(("#", "|", "<", "!!!", "???", "[[")):
        return False
    without_markers = MARKER.sub("", block)
    if block.rstrip().endswith(":"):
        return False  # an introduction to the list or table that follows
    if not re.search(r"[A-Za-z]{4,}", without_markers):
        return False
    # One line per list item: continuation lines are indented.
    lines = [ln.strip() for ln in re.sub(r"\n\s{2,}", " ", block).splitlines()]
    # A list whose items are links to other pages, or computed counts, states no finding.
    return not all(
        re.match(r"^(- |\d+\. )?(\[[^\]]+\]\([^)]+\)|[^[]*\[\[count )", ln) for ln in lines
    )


@pytest.mark.parametrize("page", EVIDENCE_PAGES)
def test_every_factual_paragraph_is_cited(page: str) -> None:
    uncited = [
        block[:120]
        for block in _paragraphs(page)
        if _needs_citation(block) and not find_citations(block)
    ]
    # Paragraphs about the review itself (its questions, its checks, how to read it) are
    # not findings; they are listed here by their opening words so that any new uncited
    # paragraph fails until it is cited or consciously added.
    about_the_review = (
        "This page explains",
        "Before the site is built",
        "Each record, and the bibliographic entry",
        "The review is updated whenever",
        "This is version",
        "The last search for new reports",
        "The review is kept up to date in released versions",
        "Cite the review as a whole",
        "1. What clinical evidence exists",
    )
    unexpected = [b for b in uncited if not b.startswith(about_the_review)]
    assert not unexpected, "paragraphs without a citation:\n" + "\n---\n".join(unexpected)


# --- Issue 13: the corrected facts, as a clinician reads them on the built site -------------

#: The standard wording for a fact the checked sources do not give (allowed everywhere).
NOT_REPORTED = re.compile(r"not reported by the checked sources?", re.IGNORECASE)
CONDITION_PAGES = ("ptsd", "eating-disorders", "outcome-measures", "trials")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real site, built once for this module exactly as ``make site`` builds it."""
    out = tmp_path_factory.mktemp("content") / "site"
    result = build(ROOT, out)
    assert result.returncode == 0, result.stderr
    return out


def text_of(site: Path, page: str) -> str:
    """Return the visible text of a built page's article, whitespace collapsed."""
    raw = (site / page / "index.html").read_text(encoding="utf-8")
    article = raw[raw.index("<article") : raw.index("</article>")]
    article = re.sub(r"<(script|style)\b.*?</\1>", " ", article, flags=re.DOTALL)
    # Inline elements (abbreviations, links, emphasis) join their text; others separate it.
    article = re.sub(r"</?(?:abbr|a|span|em|strong|code|sup|sub)\b[^>]*>", "", article)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", article)))


def test_abdallah_2022_pcl5_is_the_only_primary_outcome(site: Path) -> None:
    study = text_of(site, "studies/abdallah-2022")
    assert "PTSD Checklist for DSM-5 (primary outcome)" in study
    assert "Clinician-Administered PTSD Scale for DSM-5 (primary outcome)" not in study
    assert "Montgomery–Åsberg Depression Rating Scale (primary outcome)" not in study
    ptsd = text_of(site, "ptsd")
    assert "primary outcome, the self-reported PCL-5" in ptsd
    assert "CAPS-5, a secondary outcome" in ptsd
    assert "primary PTSD measures, PCL-5 and CAPS-5" not in ptsd
    measures = text_of(site, "outcome-measures")
    assert "only primary outcome of" in measures
    assert "with the PCL-5, of" not in measures


def test_mills_1998_has_no_infusion_discrepancy_and_no_sd_label(site: Path) -> None:
    study = text_of(site, "studies/mills-1998")
    assert "Where the sources disagree" not in study
    assert "2–9" not in study
    assert "33.3±6.5 years (mean; ± not labelled SD or SE)" in study
    assert "mean±SD" not in study
    assert "mean ± SE, as the abstract labels it" in study
    eating = text_of(site, "eating-disorders")
    assert "2–9" not in eating and "2-9" not in eating
    assert "(mean ± SE; p = 0.0016) after two to nine infusions" in eating
    assert "mean±SD" not in text_of(site, "studies/schwartz-2021")


def test_ross_2019_is_observational_without_a_claim_of_prospective(site: Path) -> None:
    study = text_of(site, "studies/ross-2019")
    assert "Observational study (further design details not reported)" in study
    assert "Observational cohort" not in study and "(prospective)" not in study


def test_audited_claims_say_no_more_than_the_sources(site: Path) -> None:
    assert "(primary outcome)" not in text_of(site, "studies/mills-1998")
    trials = text_of(site, "trials")
    assert "quality of life are also measured (not as primary outcomes)" in trials
    ptsd = text_of(site, "ptsd")
    assert "anti-inflammatory" not in ptsd and "adults with chronic PTSD" not in ptsd
    assert "PubMed indexes the article with the publication type Randomized" in ptsd
    assert "come from the medRxiv preprint of the review" in ptsd
    measures = text_of(site, "outcome-measures")
    assert "publishers" not in measures and "clinician-rated items" not in measures
    eating = text_of(site, "eating-disorders")
    assert "Almost all participants" not in eating and "no report in BED" not in eating
    references = text_of(site, "references")
    # The aggregator page is the reference (issue 14: titles in sentence case, as AMA wants).
    assert "trial.medpath.com. Ketamine effects on learning in eating disorders" in references
    assert "King's College London. Ketamine for the treatment" not in references
    methods = text_of(site, "methods")
    assert "targeted look-ups of publisher, PubMed and registry pages" in methods


def test_primary_outcome_categories_only_where_a_primary_outcome_is_marked(site: Path) -> None:
    pages = sorted((site / "studies").glob("*-[0-9][0-9][0-9][0-9]/index.html"))
    assert len(pages) == len(list((ROOT / "data" / "studies").glob("*.yaml")))
    for page in pages:
        text = text_of(site, f"studies/{page.parent.name}")
        if "on the primary outcome" in text:
            assert "(primary outcome)" in text, page.parent.name
    assert "Improvement reported (no primary outcome named)" in text_of(site, "studies/albott-2018")


def test_notes_no_longer_claim_absent_data(site: Path) -> None:
    albott = text_of(site, "studies/albott-2018")
    assert "95% CI 23.0 to 43.5" in albott and "Cohen d of 2.17" in albott
    assert "confidence level is not stated" not in albott
    du = text_of(site, "studies/du-2022")
    assert "3 trials with 65 patients" in du and "3 trials with 91 patients" in du
    assert "does not give the review's totals or the counts" not in du
    almeida = text_of(site, "studies/almeida-2024")
    assert "0.57 to 17.02" in almeida and "not paired as one estimate" in almeida
    assert "no confidence interval" not in almeida
    timek = text_of(site, "studies/timek-2024")
    assert "Acceptance and commitment therapy" in timek and "Number of sessions 7" in timek
    for review in ("du-2022", "almeida-2024", "borgogna-2024", "keeler-2021"):
        assert "Ketamine (form not specified by the source)" in text_of(site, f"studies/{review}")


def test_feder_2014_primary_ies_r_result_with_source_and_locator(site: Path) -> None:
    study = text_of(site, "studies/feder-2014")
    assert "mean difference 12.7 points (95% CI 2.5 to 22.8; P = .02)" in study
    assert "Mean difference -12.7 (95% CI -22.8 to -2.5), p = 0.02" in study
    assert "Abstract (Results)" in study
    assert "12.7 points lower than after midazolam (95% CI 2.5 to 22.8; P = .02)" in text_of(
        site, "ptsd"
    )


def test_every_study_page_states_its_adverse_events(site: Path) -> None:
    for page in sorted((site / "studies").glob("*-[0-9][0-9][0-9][0-9]/index.html")):
        text = text_of(site, f"studies/{page.parent.name}")
        assert 'id="safety"' in page.read_text(encoding="utf-8"), page.parent.name
        assert "Adverse events:" in text and "Source:" in text, page.parent.name
    assert "The infusions were well tolerated overall." in text_of(site, "studies/feder-2021")
    assert "not reported by the checked sources" in text_of(site, "studies/ross-2019")


@pytest.mark.parametrize(
    ("page", "facts"),
    [
        (
            "ptsd",
            [
                "The infusions were well tolerated overall.",
                "Dissociative and psychotomimetic effects were dose-related",
                "Discontinuation did not differ by dose.",
                "Dissociative symptoms increased transiently",
            ],
        ),
        (
            "eating-disorders",
            [
                "All five participants completed the protocol without significant adverse",
                "one patient had nausea and vomiting at one session",
                "The authors describe the treatment as given safely",
                "Dosing was well tolerated.",
                "No serious adverse events.",
            ],
        ),
    ],
)
def test_condition_page_has_a_safety_table_by_study(
    site: Path, page: str, facts: list[str]
) -> None:
    raw = (site / page / "index.html").read_text(encoding="utf-8")
    section = raw[raw.index('id="safety-by-study"') :]
    table = html.unescape(re.sub(r"<[^>]+>", " ", section[: section.index("</table>")]))
    table = re.sub(r"\s+", " ", table)
    assert "Adverse events Serious adverse events Dropouts Source" in table
    for fact in facts:
        assert fact in table
    condition = "ptsd" if page == "ptsd" else "eating-disorders"
    catalog = load_project(ROOT).catalog
    primary = catalog.select(condition=condition, kind="primary")
    assert primary
    for study in primary:  # one row per primary study, each with its source
        assert study.label in table, study.id
    assert table.count("Abstract") + table.count("Methods") + table.count("Table 1") >= len(primary)


def test_bibliographic_only_record_never_reads_as_fully_verified(site: Path) -> None:
    for study in ("keeler-2021", "ragnhildstveit-2023"):
        text = text_of(site, f"studies/{study}")
        assert "Verification: Bibliographic record only" in text
        assert "every part of this record was checked" not in text.lower()
    assert "Verified: every part of this record was checked against the abstract" in text_of(
        site, "studies/feder-2014"
    )


def test_references_page_shows_the_records_labels(site: Path) -> None:
    text = text_of(site, "references")
    assert "Bibliographic record only" in text
    assert "Checked against the abstract; parts unverified" in text


def test_added_studies_and_trials_are_counted_and_shown(site: Path) -> None:
    studies = len(list((ROOT / "data" / "studies").glob("*.yaml")))
    home = text_of(site, "")
    assert f"the review includes {studies} studies" in home
    ptsd = text_of(site, "ptsd")
    for label in ("Dadabayev 2020", "Duek 2023", "Shiroma 2020"):
        assert label in ptsd
    assert "Ketorolac (active comparator" in ptsd
    assert "Robison 2022" in text_of(site, "eating-disorders")
    assert (
        "Amygdala reactivation to trauma scripts (functional brain imaging) (primary outcome)"
        in (text_of(site, "studies/duek-2023"))
    )
    assert "Participants Not found in the checked sources" in text_of(site, "studies/shiroma-2020")
    trials = text_of(site, "trials")
    assert "ISRCTN26462355 (EDEN)" in trials
    raw = (site / "trials" / "index.html").read_text(encoding="utf-8")
    assert "clinicaltrials.gov/study/NCT04714541" not in raw
    assert "NCT04714541 (no registry record found)" in trials
    assert "https://www.isrctn.com/ISRCTN26462355" in raw
    prisma = (site / "methods" / "index.html").read_text(encoding="utf-8")
    assert f"n = {studies}" in html.unescape(prisma)


@pytest.mark.parametrize(
    "page", (*CONDITION_PAGES, "methods", "studies/schwartz-2021", "studies/scolnick-2020")
)
def test_condition_pages_use_no_editing_vocabulary(site: Path, page: str) -> None:
    text = NOT_REPORTED.sub("NR", text_of(site, page))
    for phrase in ("source review", "web article", "checked source", "source article"):
        assert phrase not in text.lower(), f"{page}: {phrase}"
    assert ".;" not in text and ". ." not in text


def test_about_page_states_authorship_funding_interests_corrections_living(site: Path) -> None:
    text = text_of(site, "about")
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["authors"][0]["name"] in text
    for heading in (
        "Funding",
        "Conflicts of interest",
        "Reporting a correction",
        'What "living" means here',
    ):
        assert heading in text
    assert "No funding is declared." in text


def test_every_page_has_its_own_escaped_meta_description(site: Path) -> None:
    default = re.sub(
        r"\s+",
        " ",
        yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8").split("\nsite_url")[0])[
            "site_description"
        ],
    ).strip()
    for page in sorted(site.rglob("index.html")):
        raw = page.read_text(encoding="utf-8")
        found = re.findall(r'<meta name="description" content="([^"]*)">', raw)
        assert len(found) == 1, page
        if page.parent.name in ("404", "assets"):
            continue
        assert html.unescape(found[0]) != default, page


def test_placement_and_population_notes_reach_the_study_pages(site: Path) -> None:
    """Placement notes and an n that includes people without the condition are shown."""
    du = text_of(site, "studies/du-2022")
    assert "Outcome family, as placed by this review: Placed under prevention by this review" in du
    assert "a direction inferred from the same abstract's convention" in du
    mills = text_of(site, "studies/mills-1998")
    assert "describes this outcome as OCD-related eating-disorder symptoms" in mills
    dadabayev = text_of(site, "studies/dadabayev-2020")
    assert "41 (includes participants without the condition: chronic-pain patients" in dadabayev
    albott = text_of(site, "studies/albott-2018")
    assert "(95% CI -43.5 to -23.0)" in albott
