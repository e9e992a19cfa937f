"""PRISMA numbers (validate/prisma.py): what the data gives is derived, the rest is typed.

A study added or removed changes the included studies and reports, the column totals, the
figure and the release snapshot with one edit to ``data/prisma.yaml`` (its id); every
disagreement is one line at the field that holds it.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ROOT
from factories import make_catalog, make_study, make_trial
from livingreview import figures, validate
from livingreview.errors import ProblemsFound
from livingreview.project import load_project
from test_claims import add_bed_study

PRISMA = "data/prisma.yaml"


def prisma_text(root: Path) -> str:
    return (root / PRISMA).read_text(encoding="utf-8")


def write_prisma(root: Path, text: str) -> None:
    (root / PRISMA).write_text(text, encoding="utf-8")


def line_of(text: str, fragment: str) -> int:
    """Return the 1-based line of the first line holding ``fragment``."""
    return next(i + 1 for i, ln in enumerate(text.splitlines()) if fragment in ln)


def problems_of(root: Path) -> list[str]:
    with pytest.raises(ProblemsFound) as caught:
        load_project(root)
    return [p.format() for p in caught.value.problems]


def test_real_file_types_only_what_no_data_gives() -> None:
    keys = {ln.split(":")[0].strip() for ln in prisma_text(ROOT).splitlines() if ":" in ln}
    assert not keys & {"screened", "sought", "assessed", "count", "reports"}
    project = load_project(ROOT)
    assert project.prisma is not None
    included = project.prisma.included
    assert included.studies == len(project.catalog.studies)
    assert included.reports == len({s.references[0] for s in project.catalog.studies})
    assert included.ongoing_trials == len(project.catalog.trials)
    sources = project.prisma.other_methods.sources
    assert [s.count for s in sources] == [len(s.studies) + len(s.trials) for s in sources]


def test_included_counts_follow_an_added_study(project_copy: Callable[..., Path]) -> None:
    root = project_copy()
    before = load_project(root)
    assert before.prisma is not None
    add_bed_study(root)  # the record, its BibTeX entry and its id in prisma.yaml; nothing else
    after = load_project(root)
    assert after.prisma is not None
    n = before.prisma.included.studies
    assert (after.prisma.included.studies, after.prisma.included.reports) == (n + 1, n + 1)
    assert after.prisma.other_methods.assessed == before.prisma.other_methods.assessed + 1
    assert after.snapshot().prisma["studies"] == n + 1
    assert after.snapshot().prisma["identified"] == before.snapshot().prisma["identified"] + 1
    svg = figures.render_figure("prisma", after.catalog, {}, "methods.md", prisma=after.prisma)
    assert svg is not None
    assert f"Studies included in review (n = {n + 1})" in html.unescape(svg)


def test_removing_a_study_is_one_edit(project_copy: Callable[..., Path]) -> None:
    root = project_copy()
    n = len(load_project(root).catalog.studies)
    (root / "data" / "studies" / "mion-2017.yaml").unlink()
    text = prisma_text(root)
    # Forgetting prisma.yaml is one line, at the id to delete.
    assert problems_of(root) == [
        f"{PRISMA}:{line_of(text, '- mion-2017')}:11: error: "
        "other_methods.sources[2].studies[6]: unknown record 'mion-2017' "
        "(no data/studies/mion-2017.yaml)"
    ]
    write_prisma(root, text.replace("        - mion-2017\n", ""))
    after = load_project(root)
    assert after.prisma is not None
    assert (after.prisma.included.studies, after.prisma.included.reports) == (n - 1, n - 1)
    assert after.snapshot().prisma["studies"] == n - 1


def test_a_record_listed_under_no_source_is_one_line(project_copy: Callable[..., Path]) -> None:
    root = project_copy()
    add_bed_study(root)
    text = prisma_text(root).replace("        - odegard-2025\n", "")
    write_prisma(root, text)
    assert problems_of(root) == [
        # At the list of sources (its first item, where the YAML value starts).
        f"{PRISMA}:{line_of(text, '  sources:') + 1}:5: error: other_methods.sources: records in "
        "data/studies/ not listed under any source: odegard-2025; list each under the source "
        "that found it"
    ]


@pytest.mark.parametrize(
    ("old", "new", "anchor", "field", "message"),
    [
        (
            "      studies: [ragnhildstveit-2022]\n",
            "      count: 2\n      studies: [ragnhildstveit-2022]\n",
            "      count: 2",
            "other_methods.sources[0].count",
            "count is 2, but 1 record id(s) are listed; delete the count",
        ),
        (
            "included:\n",
            "included:\n  studies: 26\n",
            "  studies: 26",
            "included.studies",
            "is 26, but the study records in data/studies/ gives 27; delete this line",
        ),
        (
            "included:\n",
            "included:\n  reports: 30\n",
            "  reports: 30",
            "included.reports",
            "is 30, but the distinct primary reports of the study records gives 27",
        ),
        (
            "  not_retrieved: 0\n  reports_excluded: []\n  note: No exclusions",
            "  not_retrieved: 0\n  assessed: 20\n  reports_excluded: []\n  note: No exclusions",
            "  assessed: 20",
            "other_methods.assessed",
            "is 20, but reports sought (27) minus reports not retrieved (0) gives 27",
        ),
        (
            "  records_excluded: 0\n",
            "  records_excluded: 0\n  screened: 5\n",
            "  screened: 5",
            "databases_registers.screened",
            "is 5, but records identified (0) minus records removed before screening (0) gives 0",
        ),
        (
            "      trials: [actrn12618001393246, isrctn26462355, nct04714541, nct06736769]\n"
            "  not_retrieved",
            "      trials: [actrn12618001393246, isrctn26462355, nct04714541, nct04714541]\n"
            "  not_retrieved",
            "nct04714541, nct04714541]",
            "other_methods.not_sought[0].trials[3]",
            "'nct04714541' is listed twice",
        ),
        (
            "      trials: [actrn12618001393246, isrctn26462355, nct04714541, nct06736769]\n"
            "  not_retrieved",
            "      trials: [actrn12618001393246, isrctn26462355, nct04714541, nct99999999]\n"
            "  not_retrieved",
            "nct99999999]",
            "other_methods.not_sought[0].trials[3]",
            "unknown record 'nct99999999' (no data/trials/nct99999999.yaml)",
        ),
        (
            "    - reason: Registered trials without published results (listed as ongoing trials)\n"
            "      trials:",
            "    - reason: Registered trials without published results (listed as ongoing trials)\n"
            "      dropped:",
            "      dropped:",
            "other_methods.not_sought[0].dropped",
            "",
        ),
    ],
)
def test_disagreements_are_one_line_at_their_field(
    project_copy: Callable[..., Path], old: str, new: str, anchor: str, field: str, message: str
) -> None:
    root = project_copy()
    text = prisma_text(root)
    assert old in text
    text = text.replace(old, new, 1)
    write_prisma(root, text)
    problems = problems_of(root)
    line = line_of(text, anchor)
    hits = [p for p in problems if p.startswith(f"{PRISMA}:{line}:") and f" {field}: " in p]
    assert hits, problems
    assert message in hits[0]
    assert all("\n" not in p for p in problems)


def test_a_source_without_count_or_ids_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "data" / "schema").mkdir(parents=True)
    schema = (ROOT / "data" / "schema" / "prisma.schema.json").read_bytes()
    (tmp_path / "data" / "schema" / "prisma.schema.json").write_bytes(schema)
    text = prisma_text(ROOT).replace(
        "      studies: [ragnhildstveit-2022]\n", "      note: Nothing listed.\n", 1
    )
    write_prisma(tmp_path, text)
    catalog = make_catalog([make_study("a-2020")], [make_trial("nct00000001")])
    _, problems = validate.load_prisma(tmp_path, catalog)
    line = line_of(text, "- label: The 2022 review")
    expected = f"{PRISMA}:{line}:7: error: other_methods.sources[0]: count: give a count"
    assert problems[0].format().startswith(expected)


def test_checked_on_its_own_the_listed_ids_stand_in_for_the_records() -> None:
    alone, problems = validate.load_prisma(ROOT)
    with_records, more = validate.load_prisma(ROOT, load_project(ROOT).catalog)
    assert problems == more == []
    assert alone is not None and with_records is not None
    assert alone.included == with_records.included
