"""Unit tests of the project: counts, marker expansion in pages, and checks of hand-written pages.

Counts and markers run on catalogs from :mod:`factories`; loading and ``check_docs`` run on a
scratch copy of the real project (``project_copy``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest
from conftest import ROOT, snapshot
from factories import make_catalog, make_study, make_trial
from livingreview.bibliography import Bibliography, load_bibliography
from livingreview.citations import cited_keys
from livingreview.errors import ProblemsFound
from livingreview.model import Catalog
from livingreview.project import (
    Project,
    check_docs,
    count,
    expand_page,
    generated_sources,
    load_project,
    split_front_matter,
)


@cache
def bibliography() -> Bibliography:
    """Return the real ``references.bib`` (parsed once)."""
    bib, problems = load_bibliography(ROOT / "references.bib", ROOT)
    assert problems == []
    return bib


def catalog() -> Catalog:
    """Return a small catalog: three primary studies, two reviews and two trials."""
    return make_catalog(
        [
            make_study("aa-2018", design="rct", condition="ptsd", n=30),
            make_study("bb-2019", design="rct", condition="ptsd", n=None),
            make_study(
                "cc-2020",
                design="case-series",
                condition="eating-disorders",
                diagnoses=("AN-R",),
                comparator="none",
                n=4,
                population_group="veterans",
            ),
            make_study("dd-2021", design="systematic-review", condition="ptsd", n=500),
            make_study("ee-2022", design="narrative-review", condition="eating-disorders", n=None),
        ],
        [
            make_trial("nct00000001", condition="ptsd"),
            make_trial("nct00000002", condition="eating-disorders"),
            make_trial("nct00000003", condition="eating-disorders"),
        ],
    )


def project(root: Path, cat: Catalog | None = None) -> Project:
    """Return a project over a factory catalog, without PRISMA data."""
    return Project(root=root, catalog=cat or catalog(), bibliography=bibliography())


# --- count ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("what", "filters", "expected"),
    [
        ("studies", {}, 5),
        ("studies", {"condition": "ptsd"}, 3),
        ("studies", {"kind": "primary"}, 3),
        ("studies", {"kind": "review", "condition": "eating-disorders"}, 1),
        ("studies", {"design": "rct"}, 2),
        ("studies", {"group": "veterans"}, 1),
        ("studies", {"condition": "eating-disorders", "design": "rct"}, 0),
        ("designs", {}, 4),
        ("designs", {"condition": "ptsd"}, 2),
        ("conditions", {}, 2),
        ("conditions", {"design": "rct"}, 1),
        ("trials", {}, 3),
        ("trials", {"condition": "eating-disorders"}, 2),
        ("trials", {"condition": "ptsd"}, 1),
    ],
)
def test_count(what: str, filters: dict[str, str], expected: int) -> None:
    assert count(catalog(), what, filters) == expected


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, 34),  # primary studies only: 30 + 4 (a missing n counts as none)
        ({"condition": "ptsd"}, 30),
        ({"condition": "eating-disorders"}, 4),
        ({"kind": "primary"}, 34),
        ({"kind": "review"}, 500),  # reviews' participants only when asked for
        ({"kind": "review", "condition": "eating-disorders"}, 0),
    ],
)
def test_participants_sum_primary_studies_unless_reviews_are_asked_for(
    filters: dict[str, str], expected: int
) -> None:
    assert count(catalog(), "participants", filters) == expected


def test_count_of_something_unknown_is_none() -> None:
    assert count(catalog(), "outcomes", {}) is None


def test_count_does_not_change_the_filters() -> None:
    filters = {"condition": "ptsd"}
    count(catalog(), "participants", filters)
    assert filters == {"condition": "ptsd"}


# --- expand_page ---------------------------------------------------------------------------


def test_count_markers_become_numbers(tmp_path: Path) -> None:
    text = (
        "We include [[count studies]] studies ([[count studies kind=primary]] primary) with "
        "[[count participants]] participants, and [[count trials condition=ptsd]] trial.\n"
    )
    out, problems = expand_page(project(tmp_path), text, "index.md", "docs/index.md")
    assert problems == []
    assert out == "We include 5 studies (3 primary) with 34 participants, and 1 trial.\n"


def test_characteristics_table_has_a_row_per_selected_study(tmp_path: Path) -> None:
    text = "# PTSD\n\n[[table characteristics condition=ptsd]]\n\nAfter.\n"
    out, problems = expand_page(project(tmp_path), text, "ptsd.md", "docs/ptsd.md")
    assert problems == []
    rows = [line for line in out.splitlines() if line.startswith("| [")]
    assert [row.split("]")[0] for row in rows] == ["| [Aa 2018", "| [Bb 2019", "| [Dd 2021"]
    assert "[Aa 2018](studies/aa-2018.md)" in rows[0]
    assert out.startswith("# PTSD\n\n| Study |")
    assert out.endswith("\n\nAfter.\n")


@pytest.mark.parametrize(
    ("page_src", "href"),
    [
        ("eating-disorders.md", "studies/cc-2020.md"),
        ("studies/index.md", "cc-2020.md"),
        ("topics/eating/overview.md", "../../studies/cc-2020.md"),
    ],
)
def test_table_links_are_relative_to_the_page(tmp_path: Path, page_src: str, href: str) -> None:
    text = "[[table characteristics condition=eating-disorders kind=primary]]\n"
    out, problems = expand_page(project(tmp_path), text, page_src, f"docs/{page_src}")
    assert problems == []
    assert f"[Cc 2020]({href})" in out
    assert "Characteristics of 1 included study." in out


def test_trials_and_measures_tables(tmp_path: Path) -> None:
    out, problems = expand_page(
        project(tmp_path),
        "[[table trials condition=eating-disorders]]\n\n[[table measures]]\n",
        "trials.md",
        "docs/trials.md",
    )
    assert problems == []
    assert "NCT00000002" in out and "NCT00000003" in out and "NCT00000001" not in out
    assert "| Scale | What it measures |" in out


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        (
            "[[count studies condition=anorexia]]",
            "unknown condition 'anorexia' in marker; allowed: eating-disorders, ptsd",
        ),
        (
            "[[table characteristics design=rtc]]",
            "unknown design 'rtc' in marker; allowed: rct, randomized-crossover, open-label, "
            "observational-cohort, observational, retrospective-cohort, case-series, "
            "case-report, systematic-review, narrative-review, controlled-trial",
        ),
        ("[[count studies kind=meta]]", "unknown kind 'meta' in marker; allowed: primary, review"),
    ],
)
def test_unknown_filter_value_lists_the_allowed_ids(
    tmp_path: Path, marker: str, message: str
) -> None:
    out, problems = expand_page(
        project(tmp_path), f"Intro\n\nN = {marker}.\n", "index.md", "docs/index.md", 3
    )
    assert [p.format() for p in problems] == [f"docs/index.md:6:5: error: marker: {message}"]
    assert out == "Intro\n\nN = .\n"


@pytest.mark.parametrize(
    "marker",
    ["[[count outcomes]]", "[[table nope]]", "[[review nope]]", "[[chart prisma]]"],
)
def test_unknown_marker_is_a_problem(tmp_path: Path, marker: str) -> None:
    _, problems = expand_page(project(tmp_path), f"x {marker}\n", "index.md", "docs/index.md")
    [problem] = problems
    assert (problem.path, problem.line, problem.column) == ("docs/index.md", 1, 3)
    assert problem.message.startswith("unknown marker")


def test_extra_expander_handles_its_own_kind(tmp_path: Path) -> None:
    calls: list[tuple[str, str]] = []

    def chart(marker: object, page_src: str) -> str:
        calls.append((getattr(marker, "what", ""), page_src))
        return "CHART"

    out, problems = expand_page(
        project(tmp_path), "[[chart prisma]]", "a/b.md", "docs/a/b.md", extra={"chart": chart}
    )
    assert (out, problems, calls) == ("CHART", [], [("prisma", "a/b.md")])


def test_review_updated_is_the_newest_record_date(tmp_path: Path) -> None:
    cat = make_catalog(
        [make_study("aa-2018", updated="2026-02-03"), make_study("bb-2019", updated="2026-04-05")]
    )
    out, problems = expand_page(
        project(tmp_path, cat), "Updated [[review updated]].", "index.md", "docs/index.md"
    )
    assert (out, problems) == ("Updated 2026-04-05.", [])


def test_review_version_comes_from_citation_cff(tmp_path: Path) -> None:
    (tmp_path / "CITATION.cff").write_text('cff-version: 1.2.0\nversion: "1.4.0"\n', "utf-8")
    out, problems = expand_page(
        project(tmp_path), "Version [[review version]].", "index.md", "docs/index.md"
    )
    assert (out, problems) == ("Version 1.4.0.", [])


def test_review_without_version_says_unversioned(tmp_path: Path) -> None:
    out, _ = expand_page(project(tmp_path), "[[review version]]", "index.md", "docs/index.md")
    assert out == "unversioned"


def test_prisma_figure_without_prisma_data_is_a_problem(tmp_path: Path) -> None:
    out, problems = expand_page(
        project(tmp_path), "# Methods\n\n[[figure prisma]]\n", "methods.md", "docs/methods.md"
    )
    assert [p.format() for p in problems] == [
        "docs/methods.md:3:1: error: marker: [[figure prisma]] needs data/prisma.yaml, "
        "which does not exist"
    ]
    assert out == "# Methods\n\n\n"


def test_unknown_figure_is_a_problem(tmp_path: Path) -> None:
    _, problems = expand_page(project(tmp_path), "[[figure pie]]", "index.md", "docs/index.md")
    assert [p.message for p in problems] == [
        "unknown marker '[[figure pie]]'; see the README for the allowed markers"
    ]


def test_trial_marker_with_a_filter_trials_do_not_have_is_a_problem(tmp_path: Path) -> None:
    _, problems = expand_page(
        project(tmp_path), "[[count trials design=rct]]", "index.md", "docs/index.md"
    )
    assert len(problems) == 1


# --- front matter and generated pages ------------------------------------------------------


def test_split_front_matter() -> None:
    assert split_front_matter("---\ntitle: A\nx: 1\n---\n# A\n") == ("# A\n", 4)
    assert split_front_matter("---\ntitle: A\n...\nbody") == ("body", 3)
    assert split_front_matter("# No front matter\n---\n") == ("# No front matter\n---\n", 0)


def test_generated_sources_are_fixed_pages_and_one_per_study() -> None:
    assert generated_sources(catalog()) == [
        "studies/index.md",
        "references.md",
        "explorer.md",
        "whats-new.md",
        "studies/aa-2018.md",
        "studies/bb-2019.md",
        "studies/cc-2020.md",
        "studies/dd-2021.md",
        "studies/ee-2022.md",
    ]


# --- load_project and check_docs on a copy of the real project ------------------------------


def test_load_project_reads_the_real_inputs(project_copy: Callable[..., Path]) -> None:
    root = project_copy()
    before = snapshot(root)
    loaded = load_project(root)
    assert len(loaded.catalog.studies) == len(list((ROOT / "data" / "studies").glob("*.yaml")))
    assert loaded.prisma is not None
    assert loaded.versions and loaded.versions[0].version
    assert "feder2014" in loaded.bibliography
    assert snapshot(root) == before


def test_load_project_without_prisma_data(project_copy: Callable[..., Path]) -> None:
    loaded = load_project(project_copy(["feder-2014", "mills-1998"]))
    assert [s.id for s in loaded.catalog.studies] == ["mills-1998", "feder-2014"]
    assert loaded.prisma is None


def test_load_project_raises_with_every_problem(project_copy: Callable[..., Path]) -> None:
    root = project_copy(["feder-2014", "mills-1998"])
    studies = root / "data" / "studies"
    feder = studies / "feder-2014.yaml"
    feder.write_text(
        feder.read_text("utf-8").replace("design: randomized-crossover", "design: rtc")
    )
    mills = studies / "mills-1998.yaml"
    mills.write_text(mills.read_text("utf-8").replace("comparator: none", "comparator: nothing"))
    with pytest.raises(ProblemsFound) as caught:
        load_project(root)
    lines = caught.value.report().splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("data/studies/feder-2014.yaml:4:9: error: design: 'rtc' is not in")
    assert lines[1].startswith("data/studies/mills-1998.yaml:")
    assert "comparator: 'nothing' is not in vocabularies/comparators.yaml" in lines[1]
    assert str(caught.value) == "2 problem(s) in the review's inputs"


def test_check_docs_reports_every_page_problem(project_copy: Callable[..., Path]) -> None:
    root = project_copy(["feder-2014", "mills-1998"])
    docs = root / "docs"
    (docs / "studies").mkdir(parents=True)
    (docs / "index.md").write_text(
        "---\ntitle: Home\n---\n# Home\n\nSee [@feder2014] and [@fedr2014].\n\n"
        "[[count studies condition=anorexia]]\n",
        encoding="utf-8",
    )
    (docs / "studies" / "index.md").write_text("# My own index\n", encoding="utf-8")
    (docs / "studies" / "feder-2014.md").write_text("# Mine\n", encoding="utf-8")
    (docs / "latin1.md").write_bytes("# Notes\n\nM\u00fcller\n".encode("latin-1"))
    (docs / "fine.md").write_text(
        "# Fine\n\n[[count studies]] studies [@mills1998].\n\n`[[count nope]]` `@nokey`\n",
        encoding="utf-8",
    )
    before = snapshot(root)
    problems = sorted(p.format() for p in check_docs(load_project(root), docs))
    assert problems == [
        "docs/index.md:6:22: error: citation: unknown citation key 'fedr2014' (not in "
        "references.bib); did you mean 'feder2014'?",
        "docs/index.md:8:1: error: marker: unknown condition 'anorexia' in marker; allowed: "
        "eating-disorders, ptsd",
        "docs/latin1.md:3:2: error: file is not valid UTF-8 (byte 0xfc); save it as UTF-8",
        "docs/studies/feder-2014.md:1: error: this page collides with the generated page "
        "'studies/feder-2014.md'; rename or move it",
        "docs/studies/index.md:1: error: this page collides with the generated page "
        "'studies/index.md'; rename or move it",
    ]
    assert snapshot(root) == before


def test_check_docs_accepts_the_real_pages(project_copy: Callable[..., Path]) -> None:
    root = project_copy(docs=True)
    assert check_docs(load_project(root), root / "docs") == []


@pytest.mark.parametrize(
    ("text", "is_front_matter"),
    [
        ("---\ntitle: A\n---\n[@key]\n", True),
        ("---\r\ntitle: A\r\n---\r\n[@key]\r\n", True),
        ("---\n\n[@key]\n\n---\n", False),  # a thematic break, then text
        ("---\n- a list\n---\n[@key]\n", False),  # YAML, but not a mapping: MkDocs keeps it
        ("---\ntitle: [unclosed\n---\n[@key]\n", False),  # not YAML at all
    ],
)
def test_one_front_matter_rule_for_pages_and_citations(text: str, is_front_matter: bool) -> None:
    body, removed = split_front_matter(text)
    assert (removed > 0) == is_front_matter
    assert body.lstrip("\n").replace("\r", "") == (
        "[@key]\n" if is_front_matter else text.replace("\r", "")
    )
    # The citation scanner hides exactly the same block: '@hidden' in front matter is no citation.
    assert cited_keys(text) == ["key"]
    if is_front_matter:
        assert cited_keys(text.replace("title: A", "title: '@hidden'")) == ["key"]
