"""Figures: well-formed, accessible, deterministic SVG with the right numbers, and safe data.

Fixture catalogs are built in memory (tests/factories.py) with the real vocabularies; the
PRISMA tests also load the real ``data/prisma.yaml`` and check it against the real records.
"""

from __future__ import annotations

import itertools
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import markdown
import pytest
from factories import (
    ROOT,
    make_catalog,
    make_effect,
    make_outcome,
    make_rob,
    make_study,
    many_studies,
    vocabularies_with,
)
from livingreview import figures, validate
from livingreview.bibliography import load_bibliography
from livingreview.model import Catalog, Prisma
from livingreview.validate import load_catalog

SVG = "{http://www.w3.org/2000/svg}"
NAMES = ("evidence-map", "timeline", "rob", "forest")
EVIL = "<script>alert(1)</script> & co"


def svgs(text: str) -> list[ET.Element]:
    """Parse every ``<svg>`` in the Markdown as XML (fails on anything not well-formed)."""
    found = re.findall(r"<svg\b.*?</svg>", text, re.S)
    return [ET.fromstring(s) for s in found]


def wide(text: str) -> ET.Element:
    """Return a figure's wide SVG: its only one, or the first of its wide and narrow variants."""
    found = svgs(text)
    assert len(found) == (2 if "review-figure__variant--narrow" in text else 1)
    return found[0]


def words(svg: ET.Element) -> str:
    """Return all text of an SVG (text, title, desc), decoded, one string."""
    return " ".join(t for t in svg.itertext())


def texts(svg: ET.Element) -> list[ET.Element]:
    return list(svg.iter(f"{SVG}text"))


def render(name: str, catalog: Catalog, **filters: str) -> str:
    out = figures.render_figure(name, catalog, filters, "ptsd.md")
    assert out is not None
    return out


@pytest.fixture(scope="module")
def real_catalog() -> Catalog:
    bibliography, problems = load_bibliography(ROOT / "references.bib", ROOT)
    assert not problems
    catalog, problems = load_catalog(ROOT, bibliography)
    assert catalog is not None, [p.format() for p in problems]
    return catalog


@pytest.fixture(scope="module")
def real_prisma() -> Prisma:
    prisma, problems = validate.load_prisma(ROOT)
    assert prisma is not None and not problems, [p.format() for p in problems]
    return prisma


def forest_catalog() -> Catalog:
    """Studies with effects of every measure, pooled and not, between and within groups."""
    return make_catalog(
        [
            make_study(
                "alpha-2019",
                outcomes=(
                    make_outcome("CAPS-5", make_effect("MD", -8.0, -12.0, -4.0), timepoint="Day 7"),
                    make_outcome("PCL-5", make_effect("SMD", 0.5, 0.1, 0.9)),
                ),
            ),
            make_study(
                "beta-2021",
                outcomes=(
                    make_outcome("CAPS-5", make_effect("d", 1.1, 0.4, 1.9)),
                    make_outcome("PCL-5", make_effect("g", 0.3, -0.1, 0.7)),
                ),
            ),
            make_study(
                "gamma-2022",
                design="systematic-review",
                comparator="various",
                outcomes=(
                    make_outcome(
                        "ptsd-incidence",
                        make_effect("RR", 0.81, 0.63, 1.04, pooled=True, studies=3, n=503),
                    ),
                    make_outcome("CAPS-5", make_effect("MD", -3.0, -5.0, -1.0, pooled=True)),
                    make_outcome("PCL-5", make_effect("MD", -1.0, None, None)),
                ),
            ),
            make_study(
                "delta-2023",
                design="open-label",
                comparator="none",
                outcomes=(make_outcome("PCL-5", make_effect("MD", -20.0, -25.0, -15.0)),),
            ),
        ]
    )


def rob_catalog() -> Catalog:
    """Real judgement values for each tool, plus studies without any assessment."""
    return make_catalog(
        [
            make_study(
                "alpha-2019",
                risk_of_bias=(
                    make_rob(
                        "rob2",
                        {
                            "D1": "low",
                            "D2": "some-concerns",
                            "D3": "high",
                            "D4": "no-information",
                            "D5": "low",
                        },
                        "high",
                    ),
                ),
            ),
            make_study(
                "beta-2020",
                design="retrospective-cohort",
                risk_of_bias=(
                    make_rob(
                        "robins-i",
                        {
                            "D1": "critical",
                            "D2": "serious",
                            "D3": "moderate",
                            "D4": "low",
                            "D5": "no-information",
                            "D6": "low",
                            "D7": "moderate",
                        },
                        "critical",
                    ),
                ),
            ),
            make_study(
                "gamma-2021",
                design="case-series",
                condition="eating-disorders",
                diagnoses=("AN",),
                risk_of_bias=(
                    make_rob(
                        "jbi-case-series",
                        {"Q1": "yes", "Q2": "no", "Q3": "unclear", "Q4": "not-applicable"},
                        "unclear",
                    ),
                ),
            ),
            make_study("delta-2022"),
            make_study("epsilon-2023", design="narrative-review", comparator="none", n=None),
        ]
    )


# --- every figure -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 200])
@pytest.mark.parametrize("name", NAMES)
def test_svg_is_well_formed_and_accessible(name: str, size: int) -> None:
    studies = many_studies(size)
    if name == "forest":
        studies = [
            make_study(s.id, outcomes=(make_outcome("CAPS-5", make_effect()),)) for s in studies
        ]
    out = render(name, make_catalog(studies))
    found = svgs(out)
    assert found
    for svg in found:
        assert svg.get("role") == "img"
        title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
        assert title is not None and title.text
        assert desc is not None and desc.text
        assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
        assert float(svg.get("height", 0)) > 0
        assert svg.get("viewBox", "").startswith("0 0 ")
    # A data table follows every figure.
    assert out.count('<details class="review-figure-data"') >= 1


@pytest.mark.parametrize("name", NAMES)
def test_output_is_deterministic(name: str) -> None:
    catalog = rob_catalog() if name == "rob" else forest_catalog()
    if name in ("evidence-map", "timeline"):
        catalog = make_catalog(many_studies(200))
    assert render(name, catalog) == render(name, catalog)
    assert render(name, catalog, condition="ptsd") == render(name, catalog, condition="ptsd")


def test_prisma_is_deterministic(real_catalog: Catalog, real_prisma: Prisma) -> None:
    first = figures.render_figure("prisma", real_catalog, {}, "methods.md", prisma=real_prisma)
    again = figures.render_figure("prisma", real_catalog, {}, "methods.md", prisma=real_prisma)
    assert first == again


def test_unknown_figure_is_none() -> None:
    assert figures.render_figure("pie", make_catalog([make_study()]), {}, "index.md") is None


@pytest.mark.parametrize("name", (*NAMES, "prisma"))
def test_markdown_keeps_the_svg_intact(
    name: str, real_catalog: Catalog, real_prisma: Prisma
) -> None:
    text = figures.render_figure(name, real_catalog, {}, "index.md", prisma=real_prisma)
    assert text is not None
    for line in text.splitlines():
        assert not line.startswith("    "), "an indented line would become a code block"
    for block in re.findall(r"<figure\b.*?</figure>", text, re.S):
        assert "\n\n" not in block, "a blank line would end the raw HTML block"
    page = markdown.markdown(f"Intro.\n\n{text}\n\nAfter.", extensions=["tables", "md_in_html"])
    before = re.findall(r"<svg\b.*?</svg>", text, re.S)
    after = re.findall(r"<svg\b.*?</svg>", page, re.S)
    assert before and after == before
    assert "<pre>" not in page and "<code>" not in page
    assert page.count("<table>") == text.count('<details class="review-figure-data"')
    assert page.rstrip().endswith("<p>After.</p>")


@pytest.mark.parametrize("name", NAMES)
def test_data_is_escaped(name: str) -> None:
    vocabularies = vocabularies_with("designs", "rct", label=f"Trial {EVIL}")
    evil = make_study(
        "evil<script>alert(1)</script>&-2020",
        outcomes=(
            make_outcome("CAPS-5", make_effect(note=EVIL), timepoint=EVIL),
            make_outcome("ptsd-incidence", make_effect("RR", 0.5, 0.25, 1.5), timepoint=EVIL),
        ),
        risk_of_bias=(make_rob("rob2", {"D1": "low"}, "low", ref=EVIL),),
    )
    catalog = make_catalog([evil, make_study("plain-2021")], vocabularies=vocabularies)
    out = render(name, catalog)
    assert "<script" not in out.lower()
    assert "& " not in out  # every ampersand from data is an entity
    found = svgs(out)  # still well-formed XML
    # The parser decodes the references back to the original text: escaped, not lost.
    assert any("<script>alert(1)</script>" in words(svg) for svg in found)


def test_filters_select_studies() -> None:
    catalog = make_catalog(many_studies(40))
    ptsd = render("timeline", catalog, condition="ptsd")
    expected = len(catalog.select(condition="ptsd"))
    svg = wide(ptsd)
    assert len(svg.findall(f".//{SVG}g[@class='rf-timeline-study']")) == expected
    assert 'id="figure-timeline-condition-ptsd"' in ptsd
    empty = render("timeline", catalog, condition="ptsd", design="case-report")
    assert "No included study matches" in empty and "<svg" not in empty


# --- evidence map -------------------------------------------------------------------------------


def test_evidence_map_single_study() -> None:
    svg = wide(render("evidence-map", make_catalog([make_study(n=41)])))
    text = words(svg)
    assert "Randomized controlled trial" in text
    assert "1 study" in text and "n = 41" in text


def test_evidence_map_counts_and_keeps_reviews_apart() -> None:
    studies = many_studies(200)
    catalog = make_catalog(studies)
    out = render("evidence-map", catalog)
    svg = wide(out)
    desc = svg.find(f"{SVG}desc").text
    designs = catalog.vocab("designs")
    for condition in ("ptsd", "eating-disorders"):
        label = catalog.vocab("conditions").label(condition)
        primary = [
            s
            for s in studies
            if s.condition == condition and designs[s.design].get("kind") == "primary"
        ]
        n = sum(s.n or 0 for s in primary)
        assert f"{label}, all primary studies: {len(primary)} studies, n = {n}" in desc
        reviews = [
            s
            for s in studies
            if s.condition == condition and designs[s.design].get("kind") == "review"
        ]
        review_n = sum(s.n or 0 for s in reviews)
        missing = sum(1 for s in reviews if s.n is None)
        assert (
            f"{label}, all reviews: {len(reviews)} reviews, n = {review_n} (not added), "
            f"n not reported: {missing}"
        ) in desc
    assert "not added" in words(svg)
    # Each cell in the data table lists its studies.
    assert out.count("](studies/") == 200


# --- timeline -----------------------------------------------------------------------------------


def test_timeline_one_marker_per_study_and_a_legend() -> None:
    studies = many_studies(200)
    svg = wide(render("timeline", make_catalog(studies)))
    assert len(svg.findall(f".//{SVG}g[@class='rf-timeline-study']")) == 200
    desc = svg.find(f"{SVG}desc").text
    years = sorted({s.year for s in studies})
    for year in years:
        assert f"{year}: {sum(1 for s in studies if s.year == year)}" in desc
    legend = {t.text for t in texts(svg)}
    assert {"Randomized controlled trial", "Case report", "Narrative review"} <= legend


def test_timeline_single_study() -> None:
    svg = wide(render("timeline", make_catalog([make_study("feder-2014")])))
    assert "2014" in {t.text for t in texts(svg)}
    assert "1 study published from 2014 to 2014" in svg.find(f"{SVG}desc").text


def test_timeline_year_labels_do_not_overlap() -> None:
    svg = wide(render("timeline", make_catalog(many_studies(200))))
    labels = sorted(
        float(t.get("x")) for t in texts(svg) if t.text and re.fullmatch(r"\d{4}", t.text)
    )
    assert len(labels) > 3
    assert all(b - a >= 34 for a, b in itertools.pairwise(labels))


# --- risk of bias -------------------------------------------------------------------------------


def test_rob_draws_sourced_judgements_per_tool() -> None:
    out = render("rob", rob_catalog())
    found = {svg.find(f"{SVG}title").text: svg for svg in svgs(out)}
    assert set(found) == {
        "Risk of bias: RoB 2",
        "Risk of bias: ROBINS-I",
        "Risk of bias: JBI case series",
        "Risk of bias: No tool assigned",
    }
    rob2 = found["Risk of bias: RoB 2"]
    classes = {e.get("class") for e in rob2.iter() if e.get("class")}
    for judgement in ("low", "some-concerns", "high", "no-information"):
        assert f"rf-rob rf-rob-{judgement}" in classes
    text = words(rob2)
    assert "Alpha 2019" in text and "Delta 2022" in text
    assert "D4: Measurement of the outcome" in text
    assert "No information" in text and "Not assessed" in text
    # Delta 2022 (an RCT without an assessment) is a hatched "not assessed" row.
    rows = rob2.findall(f".//{SVG}g[@class='rf-rob-row']")
    assert len(rows) == 2
    delta = next(r for r in rows if "Delta 2022" in words(r))
    assert delta.find(f"{SVG}rect[@class='rf-rob-not-assessed']") is not None
    assert not [e for e in delta.iter() if (e.get("class") or "").startswith("rf-rob rf-rob-")]
    robins = words(found["Risk of bias: ROBINS-I"])
    assert "Critical risk" in robins and "D7: Selection of the reported result" in robins
    jbi = found["Risk of bias: JBI case series"]
    symbols = {t.text for t in texts(jbi)}
    assert {"Y", "N", "?", "NA"} <= symbols
    # The summary table states counts and percentages.
    assert "High risk 1 &#40;50%&#41;" in out and "Not assessed 1 &#40;50%&#41;" in out


def test_rob_real_records_are_all_not_assessed(real_catalog: Catalog) -> None:
    out = render("rob", real_catalog)
    rows = 0
    for svg in svgs(out):
        for row in svg.findall(f".//{SVG}g[@class='rf-rob-row']"):
            rows += 1
            assert "Not assessed" in words(row)
        judged = [e for e in svg.iter() if (e.get("class") or "").startswith("rf-rob rf-rob-")]
        legend_only = [e for e in judged if e.tag == f"{SVG}circle"]
        # Coloured discs appear only in the legend; no bar segment shows a judgement.
        assert not [e for e in judged if e.tag == f"{SVG}rect"]
        assert len(legend_only) == len({e.get("class") for e in legend_only})
    assert rows == len(real_catalog.studies)


@pytest.mark.parametrize("size", [1, 200])
def test_rob_rows_have_fixed_height_and_never_overlap(size: int) -> None:
    studies = [make_study(s.id) for s in many_studies(size)]  # all RCTs: one panel
    (svg,) = svgs(render("rob", make_catalog(studies)))
    rows = svg.findall(f".//{SVG}g[@class='rf-rob-row']")
    assert len(rows) == size
    ys = [float(r.find(f"{SVG}text").get("y")) for r in rows]
    assert all(b - a == 24 for a, b in itertools.pairwise(ys))
    assert float(svg.get("height")) > ys[-1]
    if size == 200:
        (one,) = svgs(render("rob", make_catalog(studies[:1])))
        assert float(svg.get("height")) - float(one.get("height")) == pytest.approx(199 * 24)


def test_rob_labels_fit_left_of_the_grid() -> None:
    long_name = "a" * 80
    (svg,) = svgs(render("rob", make_catalog([make_study(f"{long_name}-2020")])))
    row = svg.find(f".//{SVG}g[@class='rf-rob-row']")
    label = row.find(f"{SVG}text")
    assert label.text.endswith("…")
    assert long_name.capitalize() in row.find(f"{SVG}title").text
    assert float(label.get("x")) - figures.text.text_width(label.text, 12) >= 0


def test_rob_tools_vocabulary() -> None:
    tools = {t.id: t for t in make_catalog([]).vocab("rob_tools").terms}
    assert [d["id"] for d in tools["rob2"].get("domains")] == ["D1", "D2", "D3", "D4", "D5"]
    assert len(tools["robins-i"].get("domains")) == 7
    assert len(tools["jbi-case-series"].get("domains")) == 10
    assert len(tools["jbi-case-report"].get("domains")) == 8
    designs = make_catalog([]).vocab("designs")
    for term in designs.terms:
        if term.get("rob_tool"):
            assert term.get("rob_tool") in tools


# --- forest plot --------------------------------------------------------------------------------


def forest_panels(out: str) -> dict[str, ET.Element]:
    return {svg.find(f"{SVG}title").text: svg for svg in svgs(out)}


def test_forest_one_panel_per_measure_and_comparison() -> None:
    out = render("forest", forest_catalog())
    panels = forest_panels(out)
    assert list(panels) == [
        "Forest plot: Mean difference (comparison with comparator)",
        "Forest plot: Mean difference (within-group change from baseline)",
        "Forest plot: Standardized mean difference (comparison with comparator)",
        "Forest plot: Cohen's d (comparison with comparator)",
        "Forest plot: Hedges' g (comparison with comparator)",
        "Forest plot: Risk ratio (comparison with comparator)",
    ]
    rows = {t: len(s.findall(f".//{SVG}g[@class='rf-forest-row']")) for t, s in panels.items()}
    assert sum(rows.values()) == 7  # eight effects, one without a CI
    assert "1 estimate without a confidence interval is not plotted." in out


def test_forest_pools_only_what_the_records_pool() -> None:
    panels = forest_panels(render("forest", forest_catalog()))
    diamonds = {
        title: len(svg.findall(f".//{SVG}polygon[@class='rf-forest-pooled']"))
        for title, svg in panels.items()
    }
    assert diamonds == {
        "Forest plot: Mean difference (comparison with comparator)": 1,
        "Forest plot: Mean difference (within-group change from baseline)": 0,
        "Forest plot: Standardized mean difference (comparison with comparator)": 0,
        "Forest plot: Cohen's d (comparison with comparator)": 0,
        "Forest plot: Hedges' g (comparison with comparator)": 0,
        "Forest plot: Risk ratio (comparison with comparator)": 1,
    }
    squares = sum(
        len(svg.findall(f".//{SVG}rect[@class='rf-forest-estimate']")) for svg in panels.values()
    )
    assert squares == 5


def test_forest_axes_and_direction_labels() -> None:
    panels = forest_panels(render("forest", forest_catalog()))
    md = words(panels["Forest plot: Mean difference (comparison with comparator)"])
    assert "← favours ketamine" in md and "favours comparator →" in md
    assert "no effect = 0" in md
    within = panels["Forest plot: Mean difference (within-group change from baseline)"]
    assert "← lower" in words(within) and "higher →" in words(within)
    assert "within-group changes from baseline" in within.find(f"{SVG}desc").text
    d = panels["Forest plot: Cohen's d (comparison with comparator)"]
    assert "← lower" in words(d) and "favours" not in " ".join(t.text for t in texts(d))
    assert "sign conventions" in d.find(f"{SVG}desc").text
    rr = panels["Forest plot: Risk ratio (comparison with comparator)"]
    ticks = [t.text for t in texts(rr)]
    assert "1" in ticks and "Risk ratio (log scale); no effect = 1" in ticks
    assert "← favours ketamine" in ticks
    # The null line sits at 1 on the log axis: halfway between ticks 0.5 and 2.
    positions = {t.text: float(t.get("x")) for t in texts(rr) if t.text in ("0.5", "1", "2")}
    assert positions["1"] - positions["0.5"] == pytest.approx(positions["2"] - positions["1"])


def test_forest_higher_is_better_outcome_flips_labels() -> None:
    catalog = make_catalog(
        [make_study(outcomes=(make_outcome("response-duration", make_effect("MD", 5, 1, 9)),))]
    )
    (svg,) = svgs(render("forest", catalog))
    assert "← favours comparator" in words(svg) and "favours ketamine →" in words(svg)


def test_forest_without_effects() -> None:
    out = render("forest", make_catalog([make_study()]))
    assert "<svg" not in out and "No effect estimate" in out


def test_forest_real_records(real_catalog: Catalog) -> None:
    panels = forest_panels(render("forest", real_catalog))
    # Du 2022's mean differences are pooled comparisons; Albott 2018's are within-group.
    between = words(panels["Forest plot: Mean difference (comparison with comparator)"])
    assert "Du 2022" in between and "Albott 2018" not in between
    within = words(panels["Forest plot: Mean difference (within-group change from baseline)"])
    assert "Albott 2018" in within


# --- PRISMA -------------------------------------------------------------------------------------


def test_real_prisma_matches_the_records(real_catalog: Catalog, real_prisma: Prisma) -> None:
    assert validate.check_prisma(real_prisma, real_catalog) == []
    assert real_prisma.included.studies == len(real_catalog.studies)
    assert real_prisma.included.ongoing_trials == len(real_catalog.trials)
    out = figures.render_figure("prisma", real_catalog, {}, "methods.md", prisma=real_prisma)
    assert out is not None
    # The wide (PRISMA 2020 layout) and the narrow (stacked, for phones) diagram say the same.
    wide, narrow = svgs(out)
    for svg in (wide, narrow):
        text = " ".join(words(svg).split())  # a heading may wrap onto two lines
        for expected in (
            "Identification of studies via databases and registers",
            "Identification of studies via other methods",
            "Included",
            "Databases (n = 0)",
            f"Studies included in review (n = {len(real_catalog.studies)})",
        ):
            assert expected in text
        description = svg.find(f"{SVG}desc").text
        assert "Reports listed in the Ragnhildstveit 2022 review's Table 1: 5" in description
    assert {"Identification", "Screening"} <= {t.text for t in texts(wide)}


PRISMA_YAML = """\
databases_registers:
  databases: 0
  registers: 0
  duplicates_removed: 0
  automation_removed: 0
  other_removed: 0
  screened: 0
  records_excluded: 0
  sought: 0
  not_retrieved: 0
  assessed: 0
  reports_excluded: []
other_methods:
  sources:
    - {label: Hand search, count: 3}
  duplicates_removed: 0
  not_sought: []
  sought: 3
  not_retrieved: 0
  assessed: 3
  reports_excluded:
    - {reason: Wrong drug, count: 1}
included:
  studies: 2
  reports: 2
updated: "2026-01-01"
"""


def prisma_project(tmp_path: Path, text: str) -> Path:
    (tmp_path / "data" / "schema").mkdir(parents=True)
    shutil.copy(ROOT / "data" / "schema" / "prisma.schema.json", tmp_path / "data" / "schema")
    (tmp_path / "data" / "prisma.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_prisma_count_mismatch_is_a_problem_at_the_included_line(tmp_path: Path) -> None:
    prisma, problems = validate.load_prisma(prisma_project(tmp_path, PRISMA_YAML))
    assert prisma is not None and problems == []
    catalog = make_catalog([make_study("alpha-2020"), make_study("beta-2021")])
    assert validate.check_prisma(prisma, catalog) == []
    catalog = make_catalog([make_study("alpha-2020")])
    (problem,) = validate.check_prisma(prisma, catalog)
    line = PRISMA_YAML.splitlines().index("  studies: 2") + 1
    assert (problem.path, problem.line, problem.field) == (
        "data/prisma.yaml",
        line,
        "included.studies",
    )
    assert "2 studies included, but there are 1 study records" in problem.message
    assert problem.format().startswith(f"data/prisma.yaml:{line}:")


def test_prisma_listed_records_must_exist_and_be_complete(tmp_path: Path) -> None:
    text = PRISMA_YAML.replace(
        "{label: Hand search, count: 3}",
        "{label: Hand search, count: 3, studies: [a-2020, x-1999, a-2020]}",
    )
    prisma, problems = validate.load_prisma(prisma_project(tmp_path, text))
    assert prisma is not None and problems == []
    catalog = make_catalog([make_study("a-2020"), make_study("b-2021")])
    found = {(p.field, p.message) for p in validate.check_prisma(prisma, catalog)}
    assert (
        "other_methods.sources[0].studies[1]",
        "unknown record 'x-1999' (no data/studies/x-1999.yaml)",
    ) in found
    assert any(f == "other_methods.sources[0].studies[2]" and "twice" in m for f, m in found)
    assert any(f == "other_methods.sources" and "b-2021" in m for f, m in found)


def test_prisma_columns_must_add_up(tmp_path: Path) -> None:
    text = PRISMA_YAML.replace("  sought: 3\n", "  sought: 4\n")
    prisma, problems = validate.load_prisma(prisma_project(tmp_path, text))
    assert prisma is not None
    fields = {p.field: p for p in problems}
    assert "other_methods.sought" in fields
    assert fields["other_methods.sought"].line == text.splitlines().index("  sought: 4") + 1
    assert "records identified (3)" in fields["other_methods.sought"].message


def test_prisma_schema_problems_have_lines(tmp_path: Path) -> None:
    text = PRISMA_YAML.replace("  studies: 2\n", "  studies: two\n  extra: 1\n")
    prisma, problems = validate.load_prisma(prisma_project(tmp_path, text))
    assert prisma is None
    fields = {p.field: p.line for p in problems}
    lines = text.splitlines()
    assert fields["included.studies"] == lines.index("  studies: two") + 1
    assert fields["included.extra"] == lines.index("  extra: 1") + 1


def test_prisma_missing_file(tmp_path: Path) -> None:
    prisma, problems = validate.load_prisma(tmp_path)
    assert prisma is None
    assert [(p.path, p.field) for p in problems] == [("data/prisma.yaml", "")]
    out = figures.render_figure("prisma", make_catalog([make_study()]), {}, "index.md")
    assert out is not None and "<svg" not in out and "could not be loaded" in out
