"""Figures: well-formed, accessible, deterministic SVG with the right numbers, and safe data.

Fixture catalogs are built in memory (tests/factories.py) with the real vocabularies; the
PRISMA tests also load the real ``data/prisma.yaml`` and check it against the real records.
"""

from __future__ import annotations

import html
import itertools
import re
import shutil
import xml.etree.ElementTree as ET
from dataclasses import replace
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
from livingreview.figures import rob
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


def variant_figures(out: str) -> dict[str, tuple[ET.Element, ET.Element]]:
    """Return each figure's (wide, narrow) SVGs by title; every figure must have both."""
    found = {}
    for block in re.findall(r"<figure\b.*?</figure>", out, re.S):
        wide = re.search(r"variant--wide\">\n(<svg\b.*?</svg>)", block, re.S)
        narrow = re.search(r"variant--narrow\">\n(<svg\b.*?</svg>)", block, re.S)
        assert wide and narrow, "every figure here has a wide and a narrow variant"
        w, n = ET.fromstring(wide.group(1)), ET.fromstring(narrow.group(1))
        found[w.find(f"{SVG}title").text] = (w, n)
    return found


#: Content-column width (CSS px) at a 1,280 px and a 390 px viewport, measured in the built
#: site, and the smallest text each must show (issue 16).
DESKTOP, PHONE = (688.0, 12.0), (350.0, 11.0)


def smallest_rendered_text(svg: ET.Element, column: float) -> float:
    """Return the smallest text of an SVG in CSS px when shown in a column ``column`` px wide.

    The SVG is as wide as its viewBox and no wider than the column (``max-width: 100%``), so
    it scales by ``min(1, column / viewBox width)``; a text's size is its own ``font-size`` or
    the SVG's.
    """
    scale = min(1.0, column / float(svg.get("viewBox").split()[2]))
    sizes = [float(t.get("font-size") or svg.get("font-size")) for t in texts(svg)]
    assert sizes
    return min(sizes) * scale


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
    if name == "rob":
        # One judgement is enough for the figures (without any, a note replaces them).
        studies[0] = replace(studies[0], risk_of_bias=(make_rob("rob2", {"D1": "low"}, "low"),))
    out = render(name, make_catalog(studies))
    found = svgs(out)
    assert found
    for svg in found:
        assert svg.get("role") == ("group" if name == "forest" else "img")
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
    # The real records hold no risk-of-bias judgement: the fixture with judgements stands in.
    catalog = rob_catalog() if name == "rob" else real_catalog
    text = figures.render_figure(name, catalog, {}, "index.md", prisma=real_prisma)
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
    pairs = variant_figures(out)
    assert set(pairs) == {
        "Risk of bias: RoB 2",
        "Risk of bias: ROBINS-I",
        "Risk of bias: JBI case series",
        "Risk of bias: No tool assigned",
    }
    for layout in (0, 1):
        check_rob_layout(out, {title: pair[layout] for title, pair in pairs.items()})
    # The summary table states counts and percentages.
    assert "High risk 1 &#40;50%&#41;" in out and "Not assessed 1 &#40;50%&#41;" in out


def check_rob_layout(out: str, found: dict[str, ET.Element]) -> None:
    """Both layouts draw the same judgements, symbols, rows and domain key."""
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


def test_rob_without_any_judgement_is_one_cited_note(real_catalog: Catalog) -> None:
    out = render("rob", real_catalog)
    assert "<svg" not in out and "<figure" not in out
    assert (
        f"No published risk-of-bias judgement was found for these {len(real_catalog.studies)}"
        in out
    )
    # The systematic reviews, which could hold judgements, are named, linked and cited with
    # what of them was checked; narrative reviews and primary studies are not.
    for review in ("du-2022", "almeida-2024", "borgogna-2024"):
        study = real_catalog.study(review)
        assert f"[{study.label}](studies/{review}.md) (abstract) [@{study.references[0]}]" in out
    assert "keeler-2021" not in out and "feder-2014" not in out
    one = render("rob", make_catalog([make_study()]))
    assert "for this 1 study" in one and "systematic reviews" not in one


def test_rob_one_judgement_brings_the_figures_back() -> None:
    studies = [make_study("alpha-2020"), make_study("beta-2021")]
    assert "<svg" not in render("rob", make_catalog(studies))
    studies[1] = replace(studies[1], risk_of_bias=(make_rob("rob2", {"D1": "high"}, "high"),))
    out = render("rob", make_catalog(studies))
    rows = wide(out).findall(f".//{SVG}g[@class='rf-rob-row']")
    assert len(rows) == 2  # the study without a judgement is still shown, as not assessed
    assert "No published risk-of-bias judgement" not in out


def rob_fixture(size: int) -> Catalog:
    """``size`` RCTs (one panel), the first with a judgement, the rest not assessed."""
    studies = [make_study(s.id) for s in many_studies(size)]
    studies[0] = replace(studies[0], risk_of_bias=(make_rob("rob2", {"D1": "low"}, "low"),))
    return make_catalog(studies)


def row_tops(svg: ET.Element) -> list[float]:
    """Return the baseline of each traffic-light row's label, in row order."""
    rows = svg.findall(f".//{SVG}g[@class='rf-rob-row']")
    return [float(r.find(f"{SVG}text").get("y")) for r in rows]


@pytest.mark.parametrize("size", [1, 200])
def test_rob_rows_have_fixed_height_and_never_overlap(size: int) -> None:
    ((wide_svg, narrow_svg),) = variant_figures(render("rob", rob_fixture(size))).values()
    for svg, step in ((wide_svg, rob.ROW_HEIGHT), (narrow_svg, rob.BLOCK_HEIGHT)):
        ys = row_tops(svg)
        assert len(ys) == size
        # Every step is the row height; on a phone the column headings repeat in some.
        assert all(b - a >= step for a, b in itertools.pairwise(ys))
        assert float(svg.get("height")) > ys[-1] + step
    assert all(b - a == rob.ROW_HEIGHT for a, b in itertools.pairwise(row_tops(wide_svg)))
    headings = narrow_svg.findall(f".//{SVG}text[@class='rf-rob-heading']")
    assert len(headings) == 6 * -(-size // rob.HEADER_EVERY)  # D1-D5, Overall; per 10 studies
    if size == 200:
        ((one, _),) = variant_figures(render("rob", rob_fixture(1))).values()
        grown = float(wide_svg.get("height")) - float(one.get("height"))
        assert grown == pytest.approx(199 * rob.ROW_HEIGHT)


def test_rob_labels_fit_their_space() -> None:
    long_name = "a" * 80
    judged = (make_rob("rob2", {"D1": "low"}, "low"),)
    study = make_study(f"{long_name}-2020", risk_of_bias=judged)
    ((wide_svg, narrow_svg),) = variant_figures(render("rob", make_catalog([study]))).values()
    for svg in (wide_svg, narrow_svg):
        row = svg.find(f".//{SVG}g[@class='rf-rob-row']")
        label = row.find(f"{SVG}text")
        assert label.text.endswith("…")
        assert long_name.capitalize() in row.find(f"{SVG}title").text
    # Wide: right-aligned left of the grid; narrow: on its own line over the judgements.
    label = wide_svg.find(f".//{SVG}g[@class='rf-rob-row']/{SVG}text")
    assert float(label.get("x")) - figures.text.text_width(label.text, rob.FONT) >= 0
    label = narrow_svg.find(f".//{SVG}g[@class='rf-rob-row']/{SVG}text")
    right = float(label.get("x")) + figures.text.text_width(label.text, rob.FONT, bold=True)
    assert right <= rob.NARROW_WIDTH


def test_rob_domain_names_are_never_cut_short() -> None:
    # JBI case series has names too long to sit beside the bars: they go over them, whole.
    for wide_svg, narrow_svg in variant_figures(render("rob", rob_catalog())).values():
        for svg in (wide_svg, narrow_svg):
            for bar in svg.iter(f"{SVG}g"):
                if bar.get("class") != "rf-rob-bar":
                    continue
                name = bar.find(f"{SVG}title").text.split(": ")[0]
                shown = [t.text for t in bar.findall(f"{SVG}text") if not t.text.endswith("%")]
                assert " ".join(shown) == name


def text_extent(t: ET.Element, size: float) -> tuple[float, float]:
    """Return the estimated left and right edge of a text from its anchor and width."""
    bold = t.get("font-weight") in ("600", "700")
    w = figures.text.text_width(t.text or "", size, bold=bold)
    x = float(t.get("x"))
    anchor = t.get("text-anchor", "start")
    return {"start": (x, x + w), "middle": (x - w / 2, x + w / 2), "end": (x - w, x)}[anchor]


@pytest.mark.parametrize("case", ["one-study", "200-studies", "every-tool"])
def test_rob_text_size_fits_the_responsive_contract(case: str) -> None:
    """Wide text renders at 12 px or more at 1,280 px, narrow text at 11 px or more at 390 px.

    Neither layout draws text outside its width, whichever tool (up to 10 domains).
    """
    catalog = {
        "one-study": lambda: rob_fixture(1),
        "200-studies": lambda: rob_fixture(200),
        "every-tool": rob_catalog,
    }[case]()
    out = render("rob", catalog)
    pairs = variant_figures(out)
    assert pairs
    for wide_svg, narrow_svg in pairs.values():
        assert smallest_rendered_text(wide_svg, DESKTOP[0]) >= DESKTOP[1]
        assert smallest_rendered_text(narrow_svg, PHONE[0]) >= PHONE[1]
        # Print and the PDF use the wide layout: it too fits the desktop column unscaled.
        assert float(wide_svg.get("viewBox").split()[2]) <= DESKTOP[0]
        for svg in (wide_svg, narrow_svg):
            width = float(svg.get("viewBox").split()[2])
            for t in texts(svg):
                left, right = text_extent(t, float(t.get("font-size") or svg.get("font-size")))
                assert left >= 0 and right <= width + 0.5, t.text
    # Element ids stay unique with both variants on the page, and each variant's hatch
    # pattern is its own.
    ids = re.findall(r' id="([^"]+)"', out)
    assert len(ids) == len(set(ids))
    for wide_svg, narrow_svg in pairs.values():
        for svg in (wide_svg, narrow_svg):
            own = {e.get("id") for e in svg.iter() if e.get("id")}
            used = {
                m for e in svg.iter() for m in re.findall(r"url\(#([^)]+)\)", e.get("fill", ""))
            }
            assert used and used <= own


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


def linked_ids(svg: ET.Element) -> list[str]:
    """Return the study ids the rows of a plot link to, in row order."""
    ids = []
    for a in svg.iter(f"{SVG}a"):
        match = re.fullmatch(r"\.\./studies/([a-z0-9-]+)/", a.get("href", ""))
        assert match, a.get("href")
        assert a.find(f"{SVG}g[@class='rf-forest-row']") is not None
        ids.append(match.group(1))
    return ids


CHRONIC = "PTSD symptom severity in people with PTSD (treatment)"
PREVENTION = "PTSD after trauma exposure (prevention)"
BETWEEN_T = "comparison with a control group"
WITHIN_T = "change from baseline, no control group"


def test_forest_one_figure_per_family_and_comparison() -> None:
    out = render("forest", forest_catalog())
    assert list(variant_figures(out)) == [
        f"Forest plot: {CHRONIC}, {BETWEEN_T}",
        f"Forest plot: {CHRONIC}, {WITHIN_T}",
        f"Forest plot: {PREVENTION}, {BETWEEN_T}",
    ]
    # Element ids stay unique with both variants on the page.
    ids = re.findall(r' id="([^"]+)"', out)
    assert len(ids) == len(set(ids))
    assert out.count('<details class="review-figure-data"') == 3


def test_forest_never_mixes_comparison_types_or_families() -> None:
    catalog = forest_catalog()
    for title, (wide, narrow) in variant_figures(render("forest", catalog)).items():
        ids = linked_ids(wide)
        assert ids == linked_ids(narrow)
        comparators = {catalog.study(i).comparator == "none" for i in ids}
        assert comparators == {title.endswith(WITHIN_T)}
        rows = [
            g.find(f"{SVG}title").text
            for g in wide.iter(f"{SVG}g")
            if g.get("class") == "rf-forest-row"
        ]
        # Prevention after trauma and treatment of chronic PTSD never share a figure.
        assert all(("PTSD incidence" in r) == (PREVENTION in title) for r in rows)
    # An early-symptom estimate the record places in the prevention family moves there.
    early = make_study(
        "early-2020",
        outcomes=(
            make_outcome(
                "ptsd-symptoms", make_effect("MD", 2.0, 1.0, 3.0), family="ptsd-prevention"
            ),
        ),
    )
    found = variant_figures(render("forest", make_catalog([early])))
    assert list(found) == [f"Forest plot: {PREVENTION}, {BETWEEN_T}"]


def test_forest_every_plotted_row_links_to_its_study() -> None:
    catalog = forest_catalog()
    out = render("forest", catalog)
    plotted = sorted(
        s.id
        for s in catalog.studies
        for o in s.outcomes
        if o.effect is not None and o.effect.ci_lower is not None
    )
    figures_found = variant_figures(out)
    assert sorted(i for w, _ in figures_found.values() for i in linked_ids(w)) == plotted
    for wide, _ in figures_found.values():
        for a in wide.iter(f"{SVG}a"):
            study = catalog.study(a.get("href").split("/")[2])
            assert a.find(f".//{SVG}title").text.startswith((study.label, "Pooled, as reported by"))
    # The data tables link every row too.
    for study_id in plotted:
        assert f"](studies/{study_id}.md)" in out


def test_forest_axes_say_which_side_favours_ketamine() -> None:
    found = variant_figures(render("forest", forest_catalog()))
    wide, narrow = found[f"Forest plot: {CHRONIC}, {BETWEEN_T}"]
    for svg in (wide, narrow):
        text = [t.text for t in texts(svg)]
        # Mean differences on higher-is-worse scales: lower favours ketamine.
        assert "← favours ketamine" in text and "favours comparator →" in text
        # d, g and SMD without a stated sign convention stay neutral, and say why.
        assert "← lower" in text and "higher →" in text
    within = words(found[f"Forest plot: {CHRONIC}, {WITHIN_T}"][0])
    assert "← improvement" in within and "worsening →" in within and "favours" not in within
    rr = found[f"Forest plot: {PREVENTION}, {BETWEEN_T}"][0]
    ticks = [t.text for t in texts(rr)]
    assert "Risk ratio (log scale); no effect = 1" in ticks and "← favours ketamine" in ticks
    positions = {t.text: float(t.get("x")) for t in texts(rr) if t.text in ("0.5", "1", "2")}
    assert positions["1"] - positions["0.5"] == pytest.approx(positions["2"] - positions["1"])
    # The source's sign convention turns a standardized effect's axis the right way round.
    signed = make_study(
        outcomes=(
            make_outcome(
                "CAPS-5", make_effect("g", 0.3, 0.1, 0.5, positive_means="favours-ketamine")
            ),
        )
    )
    ((wide, _),) = variant_figures(render("forest", make_catalog([signed]))).values()
    assert [t.text for t in texts(wide) if t.get("class") == "rf-forest-direction"] == [
        "← favours comparator",
        "favours ketamine →",
    ]
    better = make_study(outcomes=(make_outcome("response-duration", make_effect("MD", 5, 1, 9)),))
    ((wide, _),) = variant_figures(render("forest", make_catalog([better]))).values()
    assert "← favours comparator" in words(wide) and "favours ketamine →" in words(wide)


def test_forest_pooled_estimates_are_diamonds_labelled_with_their_review() -> None:
    found = variant_figures(render("forest", forest_catalog()))
    diamonds = {
        title: len(w.findall(f".//{SVG}polygon[@class='rf-forest-pooled']"))
        for title, (w, _) in found.items()
    }
    assert diamonds == {
        f"Forest plot: {CHRONIC}, {BETWEEN_T}": 1,
        f"Forest plot: {CHRONIC}, {WITHIN_T}": 0,
        f"Forest plot: {PREVENTION}, {BETWEEN_T}": 1,
    }
    for wide, _ in found.values():
        for row in wide.iter(f"{SVG}g"):
            if row.get("class") != "rf-forest-row":
                continue
            pooled = row.find(f"{SVG}polygon[@class='rf-forest-pooled']") is not None
            label = " ".join(t.text for t in row.findall(f"{SVG}text"))
            assert label.startswith("Pooled, as reported by Gamma 2022") == pooled


def test_forest_lists_what_it_cannot_plot() -> None:
    out = render("forest", forest_catalog())
    # Gamma 2022's PCL-5 estimate has no interval: listed, not dropped.
    assert (
        "Estimate without an interval, not plotted: [Gamma 2022](studies/gamma-2022.md) (PCL-5)."
        in out
    )
    results_only = make_study("zeta-2024", outcomes=(make_outcome("PCL-5"),))
    out = render("forest", make_catalog([*forest_catalog().studies, results_only]))
    assert (
        "With a result but no estimate" in out
        and "[Zeta 2024](studies/zeta-2024.md) (PCL-5)" in out
    )


def test_forest_without_effects() -> None:
    out = render("forest", make_catalog([make_study()]))
    assert "<svg" not in out and "No effect estimate" in out


def test_forest_real_records(real_catalog: Catalog) -> None:
    out = render("forest", real_catalog, condition="ptsd")
    found = variant_figures(out)
    chronic = found[f"Forest plot: {CHRONIC}, {BETWEEN_T}"][0]
    assert {"feder-2014", "feder-2021", "du-2022", "borgogna-2024"} == set(linked_ids(chronic))
    feder = next(r for r in chronic.iter(f"{SVG}g") if "Feder 2014 · IES-R" in words(r))
    assert "n = 41" in words(feder) and "−12.7 (−22.8 to −2.5)" in words(feder)
    assert linked_ids(found[f"Forest plot: {CHRONIC}, {WITHIN_T}"][0]) == ["albott-2018"]
    prevention = found[f"Forest plot: {PREVENTION}, {BETWEEN_T}"][0]
    assert linked_ids(prevention) == ["du-2022", "du-2022"]
    # Results without an estimate are listed under their family's plots.
    assert "[Abdallah 2022](studies/abdallah-2022.md) (PCL-5, CAPS-5)" in out
    assert "[McGhee 2008](studies/mcghee-2008.md) (PTSD incidence)" in out


def test_forest_text_size_fits_the_responsive_contract(real_catalog: Catalog) -> None:
    """Wide text renders at 12 px or more at 1,280 px, narrow text at 11 px or more at 390 px.

    Measured after the SVG scales to the content column.
    """
    for wide, narrow in variant_figures(render("forest", real_catalog, condition="ptsd")).values():
        for svg, (column, target) in ((wide, DESKTOP), (narrow, PHONE)):
            assert smallest_rendered_text(svg, column) >= target
        # Narrow: the estimate is on the line under the row's label.
        row = next(g for g in narrow.iter(f"{SVG}g") if g.get("class") == "rf-forest-row")
        lines = row.findall(f"{SVG}text")
        assert float(lines[-1].get("y")) > float(lines[0].get("y"))
        assert float(lines[-1].get("x")) == float(lines[0].get("x"))


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
        # Only NCT04714541 is named in the March 2022 review; EDEN (registered 2025) is not.
        assert "Registered trials named in the 2022 review by Ragnhildstveit and colleagues: 1" in (
            description
        )
        # Duplicates are not a reason for not seeking a report: the box heading names both.
        assert "Records removed, or not sought for retrieval:" in text
        assert "Records not sought for retrieval: Duplicates" not in text
        assert "Not sought: Registered trials without published results" in text
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


def _captions(out: str) -> list[str]:
    return [html.unescape(c) for c in re.findall(r"<figcaption>(.*?)</figcaption>", out, re.S)]


def test_forest_caption_warns_when_panels_favour_opposite_sides_or_mix_scales() -> None:
    raw = make_outcome("IES-R", make_effect("MD", -12.7, -22.8, -2.5))
    pooled = make_outcome("ptsd-symptoms", make_effect("MD", -3.66, -7.05, -0.27, pooled=True))
    standardized = make_outcome(
        "CAPS-5", make_effect("d", 1.13, 0.36, 1.91, positive_means="favours-ketamine")
    )
    out = render("forest", make_catalog([make_study(outcomes=(raw, pooled, standardized))]))
    (caption,) = [c for c in _captions(out) if c.startswith(CHRONIC)]
    assert "the side favouring ketamine differs between panels" in caption
    assert "Mean difference: left; Cohen's d: right" in caption
    assert "axis holds different scales (IES-R, PTSD symptom severity)" in caption
    # One scale, one side: no warning.
    plain = render("forest", make_catalog([make_study(outcomes=(raw,))]))
    (caption,) = [c for c in _captions(plain) if c.startswith(CHRONIC)]
    assert "differs between panels" not in caption and "different scales" not in caption


def test_forest_rows_carry_the_estimates_label_and_source_decimals() -> None:
    overall = make_outcome("PCL-5", make_effect("g", 0.27, 0.03, 0.51, label="overall"))
    adjusted = make_outcome(
        "PCL-5", make_effect("g", 0.20, -0.08, 0.48, label="bias-adjusted", decimals=2)
    )
    out = html.unescape(render("forest", make_catalog([make_study(outcomes=(overall, adjusted))])))
    assert "Smith 2020 · PCL-5 · overall" in out
    assert "Smith 2020 · PCL-5 · bias-adjusted: 0.20 (−0.08 to 0.48)" in out
    assert "(1)" not in out and "(2)" not in out
