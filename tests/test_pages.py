"""Unit tests of generated Markdown: study pages, effect and quantity text, and the tables.

Pages are checked as a reader sees them: the Markdown is rendered by Python-Markdown with the
site's extensions and tables are read back cell by cell.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import markdown
import pytest
from factories import make_catalog, make_effect, make_outcome, make_study, make_trial
from livingreview import pages
from livingreview.model import (
    AdverseEvents,
    Arm,
    Discrepancy,
    Dose,
    Effect,
    Provenance,
    Quantity,
    Source,
    Study,
)

EXTENSIONS = ["tables", "abbr", "admonition", "attr_list", "md_in_html"]
EDIT = "https://example.org/edit/main/data/studies/ab-cd-2021.yaml"


class _Tables(HTMLParser):
    """Collect every table as rows of cell texts, and the page's visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self.text: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def read(page: str) -> _Tables:
    """Return the tables and visible text of a Markdown page as rendered for readers."""
    parser = _Tables()
    parser.feed(markdown.markdown(page, extensions=EXTENSIONS))
    parser.close()
    return parser


def full_study() -> Study:
    """Return a study with every optional field recorded."""
    return make_study(
        "ab-cd-2021",
        setting="Two university hospitals.",
        country="Norway",
        n=20,
        n_female=12,
        female_percent=60.0,
        age_years=Quantity(mean=33.3, sd=6.5),
        illness_duration_years=Quantity(min=2, max=15, note="self-reported"),
        studies_included=None,
        groups=(("Ketamine", 10), ("Control", 10)),
        comorbidities=("MDD",),
        dose=Dose("mg/kg", value=0.5, note="by body weight"),
        sessions=Quantity(value=6),
        session_minutes=Quantity(value=40),
        schedule="Twice weekly for three weeks.",
        intervention_description="Infusions in a quiet room.",
        co_interventions=(("psychotherapy", "Weekly CBT"),),
        comparator_detail="Midazolam 0.045 mg/kg.",
        follow_up="4 weeks",
        registration="NCT01234567",
        outcomes=(
            make_outcome(
                primary=True,
                timepoint="Day 1",
                arms=(Arm("Ketamine", 10, None, None, 40, 20.5),),
                effect=make_effect(ci_level=95, p_value=0.03, note="adjusted"),
            ),
        ),
        adverse_events=AdverseEvents(
            "reported",
            "Transient dissociation.",
            Source("smith2020", "Abstract"),
            serious="None in either group.",
            dropouts="Two withdrew.",
        ),
        discrepancies=(
            Discrepancy(
                "n", (("20", Source("smith2020", "Table 1")), ("22", Source("b2021", "p. 3")))
            ),
        ),
        provenance=(
            Provenance(
                "smith2020",
                ("design", "outcomes"),
                "partial",
                "Abstract",
                "Numbers unchecked.",
                basis="abstract",
            ),
            Provenance("b2021", ("n",), "verified", "Table 1", basis="full-text"),
        ),
        notes=("Recruitment stopped early.",),
    )


def characteristics(page: str) -> dict[str, str]:
    """Return the 'Study characteristics' table of a study page as {label: value}."""
    table = read(page).tables[0]
    assert table[0] == ["Characteristic", "As reported"]
    return {label: value for label, value in table[1:]}


def test_study_page_shows_every_recorded_field_with_its_label() -> None:
    study = full_study()
    rows = characteristics(pages.study_page(study, make_catalog([study]), EDIT))
    assert rows == {
        "Design": "Randomized controlled trial",
        "Condition": "Post-traumatic stress disorder",
        "Population": "Adults with PTSD.",
        "Setting": "Two university hospitals.",
        "Country": "Norway",
        "Participants": "20",
        "Groups": "Ketamine: 10; Control: 10",
        "Women": "12",
        "Women (%)": "60",
        "Age": "33.3±6.5 years (mean±SD)",
        "Illness duration": "2–15 years — self-reported",
        "Diagnoses": "PTSD",
        "Comorbidities": "MDD",
        "Drug": "Ketamine (racemic)",
        "Route": "Intravenous",
        "Dose per session": "0.5 mg/kg — by body weight",
        "Number of sessions": "6",
        "Session duration": "40 min",
        "Schedule": "Twice weekly for three weeks.",
        "Regimen details": "Infusions in a quiet room.",
        "Co-interventions": "Psychotherapy: Weekly CBT",
        "Comparator": "Midazolam (active placebo)",
        "Comparator details": "Midazolam 0.045 mg/kg.",
        "Follow-up": "4 weeks",
        "Trial registration": "NCT01234567",
    }


def test_study_page_omits_fields_that_are_not_recorded() -> None:
    study = make_study("ab-cd-2021", n=None)
    rows = characteristics(pages.study_page(study, make_catalog([study]), ""))
    assert list(rows) == [
        "Design",
        "Condition",
        "Population",
        "Diagnoses",
        "Drug",
        "Route",
        "Comparator",
    ]


def test_study_page_shows_no_yaml_keys_or_raw_ids() -> None:
    study = full_study()
    page = pages.study_page(study, make_catalog([study]), EDIT)
    text = "".join(read(page).text)
    for key in (
        "n_female",
        "female_percent",
        "age_years",
        "session_minutes",
        "comparator_detail",
        "racemic-ketamine",
        "result_category",
        "co_interventions",
    ):
        assert key not in text, key


def test_study_page_sections_outcome_and_provenance() -> None:
    study = full_study()
    page = pages.study_page(study, make_catalog([study]), EDIT)
    assert page.startswith("# Ab Cd 2021: Randomized controlled trial\n")
    reader = read(page)
    text = "".join(reader.text)
    assert "Clinician-Administered PTSD Scale for DSM-5 (primary outcome)" in text
    assert "Time point: Day 1" in text
    assert "Scores fell. Source: [@smith2020], Abstract." in text
    assert "Effect estimate: Mean difference -2 (95% CI -4 to -0.5), p = 0.03 (adjusted)" in text
    assert "Adverse events: Transient dissociation." in text
    assert "Serious adverse events: None in either group." in text
    assert "Dropouts: Two withdrew." in text
    assert "Source: [@smith2020], Abstract." in text
    assert "Recruitment stopped early." in text
    arms, disagreements, provenance = reader.tables[1:]
    assert arms[1] == ["Ketamine", "10", "—", "—", "40", "20.5"]
    assert disagreements[1:] == [
        ["n", "20", "[@smith2020], Table 1"],
        ["n", "22", "[@b2021], p. 3"],
    ]
    assert provenance[1:] == [
        [
            "[@smith2020]",
            "Abstract",
            "Abstract",
            "design, outcomes",
            "Partly verified",
            "Numbers unchecked.",
        ],
        ["[@b2021]", "Full text", "Table 1", "n", "Verified", "—"],
        ["Bibliographic record", "Bibliographic record", "—", "smith2020", "Verified", "—"],
    ]
    assert f"[`data/studies/ab-cd-2021.yaml`]({EDIT})" in page


def test_study_page_without_edit_url_names_the_record() -> None:
    study = make_study("ab-cd-2021")
    page = pages.study_page(study, make_catalog([study]), "")
    assert page.rstrip().endswith("come from\n`data/studies/ab-cd-2021.yaml`.")
    assert "No outcome with a numeric result is recorded for this study." in page


def test_verified_study_says_what_everything_was_checked_against() -> None:
    study = make_study()
    page = pages.study_page(study, make_catalog([study]), "")
    assert '!!! success "Verification: Checked against the abstract"' in page
    assert (
        "Verified: every part of this record was checked against the abstract of the sources "
        "named below." in "".join(read(page).text)
    )


def test_study_without_adverse_event_data_says_the_checked_sources_report_none() -> None:
    study = make_study()
    text = "".join(read(pages.study_page(study, make_catalog([study]), "")).text)
    assert (
        "Adverse events: not reported by the checked sources. The abstract has no statement "
        "on adverse events." in text
    )
    assert "Source: [@smith2020], Abstract." in text


def test_verification_admonition_lists_what_is_unverified() -> None:
    study = make_study(
        provenance=(
            Provenance("smith2020", ("design",), "verified"),
            Provenance("jones2021", ("outcomes",), "partial", note="Effect sizes not checked."),
            Provenance("lee2022", ("n",), "partial"),
        ),
        bibliographic_status="unverified",
        bibliographic_note="The DOI could not be resolved.",
    )
    page = pages.study_page(study, make_catalog([study]), "")
    # No entry names what it was checked against, so nothing counts as checked.
    assert '!!! danger "Verification: Unverified"' in page
    out = markdown.markdown(page, extensions=EXTENSIONS)
    admonition = out[out.index('<div class="admonition danger">') : out.index("</div>")]
    notes = [html.unescape(li) for li in re.findall(r"<li>(.*?)</li>", admonition)]
    assert notes == [
        "Bibliographic details (unverified): The DOI could not be resolved.",
        "Effect sizes not checked.",
        "Data from lee2022 are partial.",
    ]


def test_partly_verified_study_is_a_warning() -> None:
    study = make_study(
        provenance=(Provenance("smith2020", ("design",), "partial", basis="abstract"),)
    )
    page = pages.study_page(study, make_catalog([study]), "")
    assert '!!! warning "Verification: Checked against the abstract; parts unverified"' in page


def test_note_with_apostrophe_and_markup_renders_once_as_text() -> None:
    study = make_study(
        provenance=(Provenance("smith2020", ("design",), "partial", note="O'Brien's *table*"),)
    )
    text = "".join(read(pages.study_page(study, make_catalog([study]), "")).text)
    assert "O'Brien's *table*" in text
    assert "&#39;" not in text and "&amp;" not in text


def test_summary_starting_with_a_dash_stays_a_paragraph() -> None:
    study = make_study(summary="- 41 adults received one infusion.")
    page = pages.study_page(study, make_catalog([study]), "")
    assert "<ul>" not in markdown.markdown(page, extensions=EXTENSIONS)
    assert "- 41 adults received one infusion." in "".join(read(page).text)


# --- Effects and quantities ----------------------------------------------------------------


def _labels() -> pages.Labels:
    return pages.Labels(make_catalog([]))


@pytest.mark.parametrize(
    ("effect", "text"),
    [
        (make_effect(ci_level=95), "Mean difference -2 (95% CI -4 to -0.5)"),
        (make_effect(ci_level=90.0), "Mean difference -2 (90% CI -4 to -0.5)"),
        (make_effect(ci_level=None), "Mean difference -2 (CI, level not stated -4 to -0.5)"),
        (make_effect(ci_lower=None, ci_upper=None), "Mean difference -2"),
        (
            make_effect(ci_level=95, p_value=0.04),
            "Mean difference -2 (95% CI -4 to -0.5), p = 0.04",
        ),
        (
            make_effect("RR", 0.81, 0.63, 1.04, ci_level=95, pooled=True, studies=3, n=210),
            "Risk ratio 0.81 (95% CI 0.63 to 1.04); pooled estimate (3 studies, n = 210)",
        ),
        (
            make_effect(ci_lower=None, ci_upper=None, pooled=True),
            "Mean difference -2; pooled estimate",
        ),
    ],
)
def test_effect_text(effect: Effect, text: str) -> None:
    assert pages.effect_text(effect, _labels()) == text


def test_unstated_confidence_level_is_never_shown_as_95() -> None:
    text = pages.effect_text(make_effect(ci_level=None, p_value=0.01), _labels())
    assert "95" not in text
    assert "level not stated" in text


def test_small_p_value_is_written_out() -> None:
    assert pages.effect_text(make_effect(p_value=0.00003), _labels()).endswith("p = 0.00003")


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        (
            {"n": 15, "age_years": Quantity(mean=33.3, sd=6.5)},
            "N = 15; age 33.3±6.5 years (mean±SD)",
        ),
        ({"n": 1, "age_years": Quantity(value=29)}, "N = 1; age 29 years"),
        ({"n": 40, "age_years": Quantity(min=18, max=65)}, "N = 40; age 18–65 years"),
        ({"n": None, "studies_included": 4}, "4 studies"),
        ({"n": 503, "studies_included": 7}, "N = 503; 7 studies"),
        ({"n": None}, "Not reported"),
    ],
)
def test_participants_text(changes: dict[str, object], text: str) -> None:
    assert pages.participants_text(make_study(**changes)) == text


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ({}, "IV ketamine (racemic)"),
        (
            {
                "dose": Dose("mg/kg", value=0.5),
                "sessions": Quantity(value=6),
                "session_minutes": Quantity(value=40),
            },
            "IV ketamine (racemic), 0.5 mg/kg, 6 sessions, over 40 min",
        ),
        ({"sessions": Quantity(value=1)}, "IV ketamine (racemic), 1 session"),
        ({"sessions": Quantity(min=2, max=15)}, "IV ketamine (racemic), 2–15 sessions"),
        ({"routes": ("iv", "im")}, "IV/IM ketamine (racemic)"),
    ],
)
def test_regimen_text(changes: dict[str, object], text: str) -> None:
    assert pages.regimen_text(make_study(**changes), _labels()) == text


@pytest.mark.parametrize(("value", "text"), [(None, "—"), (3, "3"), (3.0, "3"), (2.5, "2.5")])
def test_num(value: float | None, text: str) -> None:
    assert pages.num(value) == text


# --- Tables --------------------------------------------------------------------------------


def _three() -> list[Study]:
    return [
        make_study("aa-2020", n=30, age_years=Quantity(mean=40)),
        make_study(
            "bb-2021",
            design="case-report",
            condition="eating-disorders",
            diagnoses=("AN-R",),
            comorbidities=("MDD",),
            comparator="none",
            n=1,
            provenance=(Provenance("bb2021", ("design",), "partial", basis="abstract"),),
            references=("bb2021",),
            result_category="improvement-reported",
        ),
        make_study(
            "cc-2022",
            bibliographic_status="unverified",
            references=("cc2022", "cc2023"),
        ),
    ]


def test_characteristics_table_has_one_row_per_study_with_status_badge() -> None:
    studies = _three()
    table = pages.characteristics_table(studies, make_catalog(studies), "ptsd.md")
    [rows] = read(table).tables
    assert rows[0] == [
        "Study",
        "Design",
        "Participants",
        "Diagnosis",
        "Regimen",
        "Comparator",
        "Outcomes",
        "Result",
        "Verification",
    ]
    assert [r[0] for r in rows[1:]] == [
        "Aa 2020 [@smith2020]",
        "Bb 2021 [@bb2021]",
        "Cc 2022 [@cc2022]",
    ]
    assert [r[-1] for r in rows[1:]] == [
        "Checked against the abstract",
        "Checked against the abstract; parts unverified",
        "Checked against the abstract; parts unverified",
    ]
    assert rows[2][1:8] == [
        "Case report",
        "N = 1",
        "AN-R + MDD",
        "IV ketamine (racemic)",
        "No comparator",
        "—",
        "Improvement reported (no primary outcome named): Symptoms improved.",
    ]
    assert (
        '<span class="review-status review-status--partial">'
        "Checked against the abstract; parts unverified</span>" in table
    )
    assert "Characteristics of 3 included studies." in table


@pytest.mark.parametrize(
    ("page_src", "href"),
    [
        ("ptsd.md", "studies/aa-2020.md"),
        ("studies/index.md", "aa-2020.md"),
        ("topics/sub/page.md", "../../studies/aa-2020.md"),
    ],
)
def test_characteristics_links_are_relative_to_the_page(page_src: str, href: str) -> None:
    study = make_study("aa-2020")
    table = pages.characteristics_table([study], make_catalog([study]), page_src)
    assert f"[Aa 2020]({href}) [@smith2020]" in table
    assert "Characteristics of 1 included study." in table


def test_characteristics_table_for_no_study_says_so() -> None:
    table = pages.characteristics_table([], make_catalog([]), "ptsd.md")
    assert table.strip() == "*No included study matches this selection.*"


def test_characteristics_cells_keep_pipes_in_data() -> None:
    study = make_study("aa-2020", result_summary="Better | worse", population="x")
    [rows] = read(pages.characteristics_table([study], make_catalog([study]), "a.md")).tables
    assert len(rows[1]) == 9
    assert rows[1][7].endswith("Better | worse")


def test_studies_index_groups_by_condition_in_vocabulary_order() -> None:
    studies = _three()
    page = pages.studies_index(make_catalog(studies))
    assert page.startswith("# All study records\n")
    assert page.index("## Eating disorders") < page.index("## Post-traumatic stress disorder")
    tables = read(page).tables
    assert [[r[0] for r in t[1:]] for t in tables] == [
        ["Bb 2021 [@bb2021]"],
        ["Aa 2020 [@smith2020]", "Cc 2022 [@cc2022]"],
    ]
    assert "[Aa 2020](aa-2020.md)" in page


def test_trials_table_links_to_the_registry() -> None:
    trials = [
        make_trial("nct04714541", acronym="KETA", target_n=40, verification_status="partial"),
        make_trial(
            "actrn12618001393246",
            registry_id="ACTRN12618001393246",
            primary_outcome="MADRS <b>score</b>",
        ),
    ]
    table = pages.trials_table(trials, make_catalog([]))
    assert "[NCT04714541](https://clinicaltrials.gov/study/NCT04714541) (KETA)" in table
    assert "(https://www.anzctr.org.au/ACTRN12618001393246.aspx)" in table
    [rows] = read(table).tables
    assert len(rows) == 3
    assert rows[0][:6] == [
        "Registry entry",
        "Design",
        "Population",
        "Intervention",
        "Primary outcome",
        "Target n",
    ]
    # The registered primary outcome as recorded (inert text), or says none was recorded.
    assert rows[1][4] == "Not recorded" and rows[2][4] == "MADRS <b>score</b>"
    assert "<b>" not in table
    assert rows[1][5] == "40" and rows[2][5] == "—"
    assert rows[1][-1].startswith("Partly verified")


def test_trial_whose_registry_record_was_not_found_gets_no_registry_link() -> None:
    trial = make_trial("nct04714541", registry_record="not-found")
    table = pages.trials_table([trial], make_catalog([]))
    assert "clinicaltrials.gov" not in table
    assert "NCT04714541 (no registry record found)" in table


def test_trials_table_has_no_stray_punctuation() -> None:
    trial = make_trial("nct01234567", design="Open label.", verification_note="Seen on a page.")
    [rows] = read(pages.trials_table([trial], make_catalog([]))).tables
    text = " ".join(rows[1])
    assert ".;" not in text and ". :" not in text and ".." not in text


def test_trials_table_for_no_trial_says_so() -> None:
    assert pages.trials_table([], make_catalog([])).strip() == (
        "*No registered trial matches this selection.*"
    )


def test_measures_table_lists_only_used_scales_with_their_studies() -> None:
    studies = [
        make_study("aa-2020", outcomes=(make_outcome("CAPS-5"), make_outcome("CAPS-5"))),
        make_study("bb-2021", outcomes=(make_outcome("CAPS-5"),)),
    ]
    table = pages.measures_table(make_catalog(studies), "outcome-measures.md")
    [rows] = read(table).tables
    assert len(rows) == 2
    assert rows[1] == [
        "CAPS-5 (Clinician-Administered PTSD Scale for DSM-5)",
        "PTSD symptom severity",
        "0–80",
        "Higher is worse",
        "Clinician",
        "Aa 2020, Bb 2021",
    ]
    assert "[Aa 2020](studies/aa-2020.md), [Bb 2021](studies/bb-2021.md)" in table
