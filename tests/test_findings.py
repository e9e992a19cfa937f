"""The findings layer: outcome families, directions, the summary of findings and its validation.

Summary rows are rendered from in-memory catalogs with the real vocabularies
(tests/factories.py); the validation tests write a small project (tests/test_validate.py's
helpers) and assert the exact one-line problems.
"""

from __future__ import annotations

import html
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import pytest
from factories import (
    ROOT,
    make_catalog,
    make_effect,
    make_outcome,
    make_study,
    real_vocabularies,
)
from livingreview import findings
from livingreview.bibliography import load_bibliography
from livingreview.model import AdverseEvents, Catalog, Source, Vocabulary
from livingreview.validate import load_catalog
from test_validate import KEYS, check, make_project, only, study

PTSD_ROWS = (
    "PTSD symptom severity in people with PTSD (treatment)",
    "PTSD after trauma exposure (prevention)",
    "Depression",
)


def rows(catalog: Catalog, condition: str = "ptsd") -> dict[str, list[str]]:
    """Return the summary table's body rows by outcome family: cell texts, family first."""
    out = findings.findings_table(catalog, {"condition": condition}, "ptsd.md")
    table = {}
    for line in out.splitlines():
        if line.startswith("| **"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            family = cells[0].strip("*").replace("&#40;", "(").replace("&#41;", ")")
            # The direction is the estimate cell's last, italic line.
            estimate, _, direction = cells[2].rpartition("<br>*")
            table[family] = [cells[1], estimate, direction.rstrip("*"), *cells[3:]]
    return table


@pytest.fixture(scope="module")
def real_catalog() -> Catalog:
    bibliography, problems = load_bibliography(ROOT / "references.bib", ROOT)
    assert not problems
    catalog, problems = load_catalog(ROOT, bibliography)
    assert catalog is not None, [p.format() for p in problems]
    return catalog


def rct(study_id: str, n: int, effect: float, lower: float, upper: float, **changes: object):
    """Return an RCT with one CAPS-5 mean difference (ketamine minus comparator)."""
    outcome = make_outcome("CAPS-5", make_effect("MD", effect, lower, upper))
    return make_study(study_id, n=n, outcomes=(outcome,), **changes)


# --- summary of findings --------------------------------------------------------------------


def test_one_row_per_family_of_the_condition_in_vocabulary_order() -> None:
    catalog = make_catalog([rct("alpha-2020", 30, -5, -9, -1)])
    assert list(rows(catalog)) == list(PTSD_ROWS)
    assert list(rows(catalog, "eating-disorders")) == [
        "Eating-disorder psychopathology",
        "Depression",
        "Weight",
    ]


def test_adding_a_study_changes_the_row() -> None:
    one = make_catalog([rct("alpha-2020", 30, -5, -9, -1)])
    before = rows(one)[PTSD_ROWS[0]]
    assert before[0] == "Randomized controlled trial: 1 study, 30 participants"
    assert "[Alpha 2020](studies/alpha-2020.md), n = 30" in before[1]
    assert before[2] == "Favours ketamine; the interval excludes no effect."
    # A larger trial whose interval includes no effect: counts, estimate and direction follow.
    two = make_catalog([*one.studies, rct("beta-2022", 200, -1, -3, 1)])
    after = rows(two)[PTSD_ROWS[0]]
    assert after[0] == "Randomized controlled trial: 2 studies, 230 participants"
    assert "[Beta 2022](studies/beta-2022.md), n = 200" in after[1]
    assert after[2].startswith("No clear difference")
    # A review's pooled estimate comes first, labelled as the review's.
    pooled = make_study(
        "gamma-2023",
        design="systematic-review",
        comparator="various",
        n=None,
        outcomes=(
            make_outcome("PCL-5", make_effect("MD", -4, -6, -2, pooled=True, studies=5, n=400)),
        ),
    )
    third = rows(make_catalog([*two.studies, pooled]))[PTSD_ROWS[0]]
    assert "Systematic review and meta-analysis: 1 study" in third[0]
    assert "pooled, as reported by [Gamma 2023](studies/gamma-2023.md) (5 studies" in third[1]


def test_direction_follows_the_scale_and_the_comparison() -> None:
    within = make_study(
        "open-2020",
        design="open-label",
        comparator="none",
        outcomes=(make_outcome("MADRS", make_effect("MD", -10, -14, -6)),),
    )
    better = make_study(
        outcomes=(make_outcome("response-duration", make_effect("MD", 10, 2, 18)),),
    )
    catalog = make_catalog([within, better])
    assert rows(catalog)["Depression"][2] == (
        "Improvement from baseline; the interval excludes no effect. No control group."
    )
    placed = findings.place(catalog, [better])[0]
    # Longer response is better: a positive difference favours ketamine.
    assert findings.plain_direction(catalog, placed).startswith("Favours ketamine")
    unsigned = make_study(outcomes=(make_outcome("CAPS-5", make_effect("g", 0.4, 0.1, 0.7)),))
    placed = findings.place(make_catalog([unsigned]), [unsigned])[0]
    assert findings.plain_direction(make_catalog([unsigned]), placed).startswith(
        "Which direction is better is not recorded"
    )


def test_certainty_is_not_rated_without_a_published_rating() -> None:
    vocabularies = dict(real_vocabularies())
    bare = tuple(
        replace(t, extra=MappingProxyType({k: v for k, v in t.extra.items() if k != "certainty"}))
        for t in vocabularies["outcome_families"].terms
    )
    vocabularies["outcome_families"] = Vocabulary("outcome_families", bare)
    catalog = make_catalog([rct("alpha-2020", 30, -5, -9, -1)], vocabularies=vocabularies)
    assert {cells[-1] for cells in rows(catalog).values()} == {"Not rated"}


def test_certainty_shows_the_published_rating_with_its_source() -> None:
    catalog = make_catalog([rct("alpha-2020", 30, -5, -9, -1)])
    table = rows(catalog)
    chronic = table[PTSD_ROWS[0]][-1]
    assert chronic.startswith("Not rated by this review.")
    assert (
        "**very low** (GRADE) for ketamine on its own, for comorbid PTSD and depression" in chronic
    )
    assert "**low** (GRADE) for ketamine combined with psychotherapy" in chronic
    assert "as published by Varker et al. 2021 [@varker2021] (Abstract)" in chronic
    assert table["Depression"][-1] == "Not rated"


def test_adverse_events_come_from_the_records() -> None:
    reported = AdverseEvents("reported", "Transient dissociation.", Source("smith2020", "Abstract"))
    catalog = make_catalog(
        [
            rct("alpha-2020", 30, -5, -9, -1, adverse_events=reported),
            rct("beta-2021", 20, -5, -9, -1),
        ]
    )
    cell = rows(catalog)[PTSD_ROWS[0]][3]
    assert cell == (
        "[Alpha 2020](studies/alpha-2020.md): Transient dissociation. [@smith2020]<br>"
        "Not reported by the checked sources for 1 study."
    )


def test_family_without_estimates_quotes_the_findings_and_lists_other_outcomes() -> None:
    catalog = make_catalog(
        [
            make_study(
                "alpha-2020",
                outcomes=(make_outcome("PHQ-9"), make_outcome("GAD-7", finding="Less anxiety.")),
            )
        ]
    )
    depression = rows(catalog)["Depression"]
    assert depression[1] == (
        "No numerical estimate is recorded. As reported:<br>"
        "[Alpha 2020](studies/alpha-2020.md) (PHQ-9): Scores fell. [@smith2020]"
    )
    assert depression[2] == "Not estimable from the records; see the findings."
    out = findings.findings_table(catalog, {"condition": "ptsd"}, "ptsd.md")
    assert "Outcomes outside these rows" in out and "(GAD-7)" in out


def test_real_ptsd_summary(real_catalog: Catalog) -> None:
    table = rows(real_catalog)
    assert list(table) == list(PTSD_ROWS)
    chronic = table[PTSD_ROWS[0]]
    assert "Randomized crossover trial: 1 study, 41 participants" in chronic[0]
    assert "Hedges&#39; g 0.27" in chronic[1] and "[Borgogna 2024]" in chronic[1]
    prevention = table[PTSD_ROWS[1]]
    assert "Retrospective cohort: 2 studies, 421 participants" in prevention[0]
    assert "Risk ratio 0.81" in prevention[1] and prevention[2].startswith("No clear difference")


def test_data_in_the_summary_is_escaped() -> None:
    evil = "<script>alert(1)</script> | [x](javascript:alert(1))"
    ae = AdverseEvents("reported", evil, Source("smith2020", "Abstract"))
    catalog = make_catalog(
        [
            make_study(
                "alpha-2020",
                adverse_events=ae,
                outcomes=(make_outcome("PHQ-9", finding=evil, timepoint=evil),),
            )
        ]
    )
    out = findings.findings_table(catalog, {"condition": "ptsd"}, "ptsd.md")
    assert "<script" not in out and "](javascript" not in out
    assert "&lt;script&gt;" in out


# --- validation -----------------------------------------------------------------------------


def test_unknown_family_of_a_measure_is_one_positioned_line(tmp_path: Path) -> None:
    root = make_project(tmp_path, [study()])
    path = root / "data" / "vocabularies" / "outcome_measures.yaml"
    text = path.read_text("utf-8")
    path.write_text(text.replace("family: depression", "family: mood", 1), "utf-8")
    catalog, problems = check(root)
    assert catalog is None
    problem = only(problems, "terms[5].family")
    line = text.splitlines().index("    family: depression") + 1
    allowed = ", ".join(real_vocabularies()["outcome_families"].ids())
    assert problem.format() == (
        f"data/vocabularies/outcome_measures.yaml:{line}:13: error: terms[5].family: "
        f"'mood' is not in vocabularies/outcome_families.yaml; allowed: {allowed}"
    )


def test_outcome_family_must_be_known_and_shown_for_the_condition(tmp_path: Path) -> None:
    unknown = study(**{"outcomes[0].family": "ptsd-chronik"})
    problem = only(check(make_project(tmp_path / "a", [unknown]))[1], "outcomes[0].family")
    assert "'ptsd-chronik' is not in vocabularies/outcome_families.yaml" in problem.message
    assert "(did you mean 'ptsd-chronic'?)" in problem.message
    assert problem.line is not None and problem.column is not None
    wrong = study(**{"outcomes[0].family": "weight"})
    problem = only(check(make_project(tmp_path / "b", [wrong]))[1], "outcomes[0].family")
    assert problem.message == (
        "family 'weight' is not shown for condition 'ptsd'; "
        "allowed: ptsd-chronic, ptsd-prevention, depression"
    )


def test_certainty_needs_a_known_source_and_a_grade_level(tmp_path: Path) -> None:
    root = make_project(tmp_path, [study()])
    path = root / "data" / "vocabularies" / "outcome_families.yaml"
    text = path.read_text("utf-8")
    path.write_text(text.replace("rating: low", "rating: fair", 1), "utf-8")
    catalog, problems = check(root)
    assert catalog is None and len(problems) == 1
    assert problems[0].field == "terms[0].certainty[1].rating"
    assert "high, moderate, low, very-low" in problems[0].message
    path.write_text(text, "utf-8")
    catalog, problems = check(root, keys=type(KEYS)("smith2020", "jones2021", "brown2019"))
    assert catalog is None
    assert [p.field for p in problems if p.path.endswith("outcome_families.yaml")] == [
        "terms[0].certainty[0].source.ref",
        "terms[0].certainty[1].source.ref",
    ]
    assert problems[0].message == "unknown reference key 'varker2021' (not in references.bib)"


# --- rules added after the second reader's audit (audit 15) ---------------------------------


def flat(cells: list[str]) -> str:
    """Return a row's cells as one string of plain text (character references resolved)."""
    return html.unescape(" ".join(cells))


def test_n_including_participants_without_the_condition_is_named_not_summed() -> None:
    plain = rct("alpha-2020", 30, -5, -9, -1)
    mixed = rct(
        "mixed-2020",
        41,
        -1,
        -3,
        1,
        n_includes_without_condition="chronic-pain patients with and without PTSD",
    )
    cell = html.unescape(rows(make_catalog([plain, mixed]))[PTSD_ROWS[0]][0])
    assert cell.startswith("Randomized controlled trial: 2 studies, 30 participants; ")
    assert (
        "not summed: 41 in Mixed 2020, which includes participants without the condition "
        "(chronic-pain patients with and without PTSD)"
    ) in cell
    # Without the field the same study is summed as before.
    unmarked = rct("mixed-2020", 41, -1, -3, 1)
    assert rows(make_catalog([plain, unmarked]))[PTSD_ROWS[0]][0] == (
        "Randomized controlled trial: 2 studies, 71 participants"
    )


def _review(*outcomes):
    return make_study(
        "review-2024", design="systematic-review", comparator="various", n=None, outcomes=outcomes
    )


def test_the_same_reviews_other_pooled_estimates_are_shown_beside_the_one_picked() -> None:
    overall = make_outcome(
        "PCL-5", make_effect("MD", -4, -6, -2, pooled=True, studies=6, n=221, label="overall")
    )
    adjusted = make_outcome(
        "PCL-5", make_effect("MD", -2, -5, 1, pooled=True, label="bias-adjusted")
    )
    cell = rows(make_catalog([_review(overall, adjusted)]))[PTSD_ROWS[0]]
    text = flat(cell)
    assert "(PCL-5, overall): pooled, as reported by" in text
    assert "Also reported by the same review:" in text
    assert "(PCL-5, bias-adjusted): No clear difference" in text
    # Another study's estimate is not "the same review's".
    alone = rows(make_catalog([_review(overall), rct("alpha-2020", 30, -5, -9, -1)]))
    assert "Also reported by the same review" not in flat(alone[PTSD_ROWS[0]])


def test_a_controlled_finding_without_a_number_is_quoted_beside_a_change_from_baseline() -> None:
    uncontrolled = make_study(
        "open-2018",
        design="open-label",
        comparator="none",
        n=15,
        outcomes=(make_outcome("MADRS", make_effect("MD", -26.6, -30.2, -23.0, decimals=1)),),
    )
    controlled = make_study(
        "trial-2022",
        n=158,
        outcomes=(make_outcome("MADRS", None, finding="Depression improved more than placebo."),),
    )
    text = flat(rows(make_catalog([uncontrolled, controlled]))["Depression"])
    assert "−26.6 (CI −30.2 to −23.0)" in text  # the source's decimal places are kept
    assert "Controlled findings without a recorded number, as reported:" in text
    assert "(MADRS, n = 158): Depression improved more than placebo." in text
    # Beside a controlled estimate nothing is added: the rule is about uncontrolled numbers.
    alone = flat(rows(make_catalog([uncontrolled]))["Depression"])
    assert "Controlled findings" not in alone


def test_serious_adverse_events_are_shown_and_family_notes_reach_the_reader() -> None:
    ae = AdverseEvents(
        "reported", "Well tolerated.", Source("feder2021", "Abstract"), "None reported."
    )
    noted = make_outcome(
        "PCL-5",
        make_effect("MD", 2, 1, 3, pooled=True, studies=3),
        family="ptsd-prevention",
        family_note="Placed under prevention by this review.",
    )
    catalog = make_catalog([rct("alpha-2020", 30, -5, -9, -1, adverse_events=ae), _review(noted)])
    table = rows(catalog)
    assert "Well tolerated. Serious adverse events: None reported." in flat(
        table[PTSD_ROWS[0]][3:4]
    )
    assert "Placed under prevention by this review." in flat(table[PTSD_ROWS[1]][1:2])


def test_real_summary_keeps_the_audited_caveats(real_catalog: Catalog) -> None:
    table = rows(real_catalog)
    chronic = flat(table[PTSD_ROWS[0]])
    assert "not summed: 41 in Dadabayev 2020" in chronic
    assert "(PTSD symptom severity, bias-adjusted)" in chronic
    assert "not a rating of the estimate shown" in chronic
    depression = flat(table["Depression"])
    assert "[Abdallah 2022](studies/abdallah-2022.md) (MADRS, n = 158)" in depression
