"""Claims in hand-written pages (validate/claims.py): sentences about the records are checked.

Every claim kind holds on a small catalog and fails, with one positioned line, once a record
is added or changed; the real pages fail at the stale sentence when a study in binge eating
disorder is added; text and values in a claim stay inert.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest
from conftest import ROOT, snapshot
from factories import make_catalog, make_outcome, make_rob, make_study, make_trial
from livingreview.bibliography import Bibliography, load_bibliography
from livingreview.model import Catalog, Quantity, Study
from livingreview.project import Project, check_docs, expand_page, load_project
from livingreview.validate.claims import POPULATION_GROUPS

PAGE = "docs/page.md"


@cache
def bibliography() -> Bibliography:
    bib, problems = load_bibliography(ROOT / "references.bib", ROOT)
    assert problems == []
    return bib


def studies() -> list[Study]:
    """Four eating-disorder reports and two PTSD trials."""
    return [
        make_study(
            "mills-1998",
            condition="eating-disorders",
            design="case-series",
            diagnoses=("AN-R", "AN-BP"),
            comparator="none",
            n=15,
            sessions=Quantity(min=2, max=15),
            co_interventions=(("drug", "Nalmefene."),),
        ),
        make_study(
            "scolnick-2020",
            condition="eating-disorders",
            design="case-report",
            diagnoses=("AN-R",),
            comparator="none",
            n=1,
            sessions=Quantity(value=4),
        ),
        make_study(
            "ragnhildstveit-2021",
            condition="eating-disorders",
            design="case-report",
            diagnoses=("BN-BP",),
            comparator="none",
            n=1,
            co_interventions=(("psychotherapy", "KAP."),),
        ),
        make_study(
            "keeler-2023",
            condition="eating-disorders",
            design="case-series",
            diagnoses=("AN",),
            comparator="none",
            n=4,
            routes=("im", "intranasal"),
            sessions=Quantity(min=3, max=23),
            outcomes=(make_outcome("PHQ-9"),),
        ),
        make_study("feder-2014", design="randomized-crossover", n=41, outcomes=(make_outcome(),)),
        make_study(
            "abdallah-2022",
            n=158,
            population_group="veterans-and-military",
            outcomes=(make_outcome("PCL-5", primary=True),),
        ),
    ]


def project(tmp_path: Path, extra: tuple[Study, ...] = (), trials: tuple = ()) -> Project:
    catalog = make_catalog([*studies(), *extra], list(trials))
    return Project(root=tmp_path, catalog=catalog, bibliography=bibliography())


def expand(proj: Project, markdown: str) -> tuple[str, list[str]]:
    text, problems = expand_page(proj, markdown, "page.md", PAGE)
    return text, [p.format() for p in problems]


ED = "condition=eating-disorders kind=primary"

#: (claim marker, a record that makes it stale) for every claim kind and some fields.
KIND_CASES = [
    (
        f"[[claim none {ED} diagnosis=BED]]",
        make_study("odegard-2025", condition="eating-disorders", diagnoses=("BED",)),
    ),
    (
        f"[[claim none {ED} diagnosis=BN design=!case-report]]",
        make_study(
            "lee-2024", condition="eating-disorders", design="case-series", diagnoses=("BN",)
        ),
    ),
    (
        "[[claim some condition=ptsd group=veterans-and-military]]",
        [replace(s, population_group="not-applicable") for s in studies()],
    ),
    (
        f"[[claim count {ED} design=case-report n=2]]",
        make_study("x-2024", condition="eating-disorders", design="case-report"),
    ),
    (
        f"[[claim only {ED} diagnosis=BN are=ragnhildstveit-2021]]",
        make_study("x-2024", condition="eating-disorders", diagnoses=("BN",)),
    ),
    (
        f"[[claim all {ED} have comparator=none]]",
        make_study("x-2024", condition="eating-disorders", comparator="placebo"),
    ),
    (
        f"[[claim most {ED} have diagnosis=AN]]",
        [make_study(f"x-202{i}", condition="eating-disorders", diagnoses=("BN",)) for i in (3, 4)],
    ),
    (
        f"[[claim most {ED} have diagnosis=AN by=participants]]",
        make_study("x-2024", condition="eating-disorders", diagnoses=("BED",), n=30),
    ),
    ("[[claim largest condition=ptsd kind=primary is=abdallah-2022]]", make_study("y-2023", n=300)),
    (
        f"[[claim earliest {ED} co-intervention=psychotherapy is=ragnhildstveit-2021]]",
        make_study(
            "x-2019", condition="eating-disorders", co_interventions=(("psychotherapy", "CBT."),)
        ),
    ),
    (
        f"[[claim none {ED} route=!iv,im,intranasal]]",
        make_study("x-2024", condition="eating-disorders", routes=("oral",)),
    ),
    (
        "[[claim only measure=PHQ-9 are=keeler-2023]]",
        make_study("x-2024", outcomes=(make_outcome("PHQ-9"),)),
    ),
    ("[[claim none risk-of-bias=assessed]]", make_study("z-2024", risk_of_bias=(make_rob(),))),
]


@pytest.mark.parametrize(("marker", "stale"), KIND_CASES)
def test_every_claim_kind_holds_and_can_fail(
    tmp_path: Path, marker: str, stale: Study | list[Study]
) -> None:
    page = f"# Page\n\nIntro. {marker}The sentence[[/claim]] [@feder2014].\n"
    text, problems = expand(project(tmp_path), page)
    assert problems == []
    assert text == "# Page\n\nIntro. The sentence [@feder2014].\n"
    if isinstance(stale, list):  # records changed (a list with the same ids) or added
        known = {s.id for s in studies()}
        changed = {s.id: s for s in stale}
        kept = [changed.pop(s.id, s) for s in studies()]
        catalog = make_catalog([*kept, *(s for s in stale if s.id not in known)])
        proj = Project(root=tmp_path, catalog=catalog, bibliography=bibliography())
    else:
        proj = project(tmp_path, (stale,))
    _, problems = expand(proj, page)
    assert len(problems) == 1, problems
    (line,) = problems
    assert line.startswith(f"{PAGE}:3:8: error: claim: ")
    assert line.endswith('the text no longer holds: "The sentence"')
    assert "\n" not in line


def test_stale_claim_names_the_records_that_broke_it(tmp_path: Path) -> None:
    bed = make_study("odegard-2025", condition="eating-disorders", diagnoses=("BED",))
    page = (
        "Text\n\nThere is\n[[claim none condition=eating-disorders diagnosis=BED]]no report\n"
        "in BED[[/claim]].\n"
    )
    _, problems = expand(project(tmp_path, (bed,)), page)
    assert problems == [
        f"{PAGE}:4:1: error: claim: no study should match condition=eating-disorders "
        "diagnosis=BED, but 1 does: odegard-2025; the text no longer holds: "
        '"no report in BED"'
    ]


def test_claims_about_trials(tmp_path: Path) -> None:
    trials = (make_trial("isrctn1", condition="eating-disorders", registry_record="checked"),)
    page = "[[claim none records=trials condition=ptsd]]No PTSD trials[[/claim]]."
    assert expand(project(tmp_path, trials=trials), page)[1] == []
    more = (*trials, make_trial("nct2", condition="ptsd"))
    (line,) = expand(project(tmp_path, trials=more), page)[1]
    assert line.startswith(f"{PAGE}:1:1: error: claim: no trial should match condition=ptsd")


def test_stacked_claims_share_one_text(tmp_path: Path) -> None:
    page = (
        f"[[claim only {ED} diagnosis=BN are=ragnhildstveit-2021]] "
        f"[[claim all {ED} diagnosis=BN have design=case-report]]one case report in "
        "BN[[/claim]] and more.\n"
    )
    text, problems = expand(project(tmp_path), page)
    assert (text, problems) == (" one case report in BN and more.\n", [])
    series = make_study(
        "x-2024", condition="eating-disorders", design="case-series", diagnoses=("BN",)
    )
    _, problems = expand(project(tmp_path, (series,)), page)
    second = page.index("[[claim all") + 1
    assert [p.split(": error: ")[0] for p in problems] == [f"{PAGE}:1:1", f"{PAGE}:1:{second}"]


MALFORMED = [
    (
        "[[claim maybe condition=ptsd]]x[[/claim]]",
        "1:1: error: claim: unknown claim 'maybe'; "
        "allowed: none, some, count, only, all, most, largest, earliest",
    ),
    (
        "[[claim none colour=red]]x[[/claim]]",
        "1:1: error: claim: unknown field 'colour' in claim; allowed: id=, condition=",
    ),
    (
        "[[claim none diagnosis=BEDD]]x[[/claim]]",
        "1:1: error: claim: unknown diagnosis 'BEDD' in claim; allowed: AN, AN-R",
    ),
    (
        "[[claim count condition=ptsd]]x[[/claim]]",
        "1:1: error: claim: 'count' needs the parameter n=<value>",
    ),
    (
        "[[claim count condition=ptsd n=two]]x[[/claim]]",
        "1:1: error: claim: n must be a whole number, not 'two'",
    ),
    (
        "[[claim count condition=ptsd n=\u00b2]]x[[/claim]]",
        "1:1: error: claim: n must be a whole number, not '\u00b2'",
    ),
    (
        "[[claim all condition=ptsd]]x[[/claim]]",
        "1:1: error: claim: 'all' needs 'have <field>=<value>' after its filters",
    ),
    (
        "[[claim none condition=ptsd have design=rct]]x[[/claim]]",
        "1:1: error: claim: 'have' goes only with the claims all and most",
    ),
    (
        "[[claim only condition=ptsd are=nobody-2020]]x[[/claim]]",
        "1:1: error: claim: are= names unknown studies 'nobody-2020'",
    ),
    (
        "[[claim largest condition=ptsd is=feder-2014,abdallah-2022]]x[[/claim]]",
        "1:1: error: claim: is= names one record, not 2",
    ),
    ("[[claim none condition=ptsd n=2]]x[[/claim]]", "1:1: error: claim: 'none' does not take n="),
    (
        "[[claim none records=patients]]x[[/claim]]",
        "1:1: error: claim: unknown records 'patients'; allowed: studies, trials",
    ),
    (
        "[[claim none condition=ptsd]]",
        "1:1: error: claim: '[[claim none]]' is not closed by "
        "'[[/claim]]' before the end of the page",
    ),
    (
        "A [[/claim]]",
        "1:3: error: claim: '[[/claim]]' without an opening '[[claim ...]]' before it",
    ),
    (
        "[[claim none condition=ptsd]][[/claim]]",
        "1:1: error: claim: a claim must wrap the text it backs",
    ),
    (
        "[[claim none condition=ptsd]]a\n\nb[[/claim]]",
        "1:1: error: claim: '[[claim none]]' is not closed by '[[/claim]]' within its paragraph",
    ),
    (
        "[[claim none condition=ptsd]]a [[claim none kind=review]]b[[/claim]]",
        "1:1: error: "
        "claim: '[[claim none]]' is not closed by '[[/claim]]' before the next claim opens",
    ),
    (
        "[[/claims]]",
        "1:1: error: marker: unknown closing marker '[[/claims]]'; the only one is '[[/claim]]'",
    ),
]


@pytest.mark.parametrize(("page", "expected"), MALFORMED)
def test_malformed_claims_are_one_positioned_line(tmp_path: Path, page: str, expected: str) -> None:
    _, problems = expand(project(tmp_path), "# T\n\n" + page + "\n")
    line, col, rest = expected.split(":", 2)
    assert any(p.startswith(f"{PAGE}:{int(line) + 2}:{col}:{rest}") for p in problems), problems
    assert all("\n" not in p for p in problems)


HOSTILE_TEXT = (
    "<script>alert(1)</script> {{ config }} {% raw %} [@nokey] `]]` \x1b[31mred\x1b[0m "
    "\u202eevil\u202c ::error file=x::forged"
)


def test_hostile_text_in_a_claim_is_inert(tmp_path: Path) -> None:
    page = f"[[claim none condition=ptsd design=case-report]]{HOSTILE_TEXT}[[/claim]]\n"
    text, problems = expand(project(tmp_path), page)
    # The text passes through exactly as written: the claim neither runs nor rewrites it.
    assert (text, problems) == (f"{HOSTILE_TEXT}\n", [])
    stale = make_study("x-2024", design="case-report")
    _, problems = expand(project(tmp_path, (stale,)), page)
    (line,) = problems
    assert "\n" not in line and "\x1b" not in line and "\u202e" not in line
    assert "\\x1b[31mred" in line and "\\u202eev" in line
    assert line.startswith(f"{PAGE}:1:1: error: claim: ")


@pytest.mark.parametrize(
    "value", ["<img/src/onerror=alert(1)>", "\x1b[2J", "a\u202eb", "{{7*7}}", "x" * 500]
)
def test_hostile_values_in_a_claim_are_reported_as_one_line(tmp_path: Path, value: str) -> None:
    page = f"[[claim none diagnosis={value}]]x[[/claim]]\n"
    _, problems = expand(project(tmp_path), page)
    # Rejected (as a value, or as no marker at all, which leaves its closer unmatched), and
    # every problem stays one line with the value escaped.
    assert problems
    for line in problems:
        assert line.startswith(f"{PAGE}:1:")
        assert "\n" not in line and "\x1b" not in line and "\u202e" not in line


def test_session_bounds_are_computed(tmp_path: Path) -> None:
    page = (
        "[[count fewest-sessions condition=eating-disorders]] to "
        "[[count most-sessions condition=eating-disorders]]; "
        "[[count most-sessions condition=ptsd]]"
    )
    assert expand(project(tmp_path), page) == ("2 to 23; not reported", [])
    more = make_study("x-2024", condition="eating-disorders", sessions=Quantity(value=30))
    assert expand(project(tmp_path, (more,)), page)[0] == "2 to 30; not reported"


def test_population_groups_match_the_schema() -> None:
    schema = json.loads((ROOT / "data" / "schema" / "study.schema.json").read_text())
    group = schema["properties"]["population"]["properties"]["group"]["enum"]
    assert tuple(group) == POPULATION_GROUPS


# --- the real pages ------------------------------------------------------------------------


def claim_line(page: str, fragment: str) -> tuple[int, int]:
    """Return (line, column) of the claim marker holding ``fragment`` in a real page."""
    lines = (ROOT / "docs" / page).read_text(encoding="utf-8").splitlines()
    hits = [(i + 1, ln.index("[[claim")) for i, ln in enumerate(lines) if fragment in ln]
    assert hits, fragment
    line, _ = hits[0]
    col = lines[line - 1].index(fragment)
    col = lines[line - 1].rfind("[[claim", 0, col) + 1
    return line, col


def test_real_pages_hold_every_claim() -> None:
    problems = check_docs(load_project(ROOT), ROOT / "docs")
    assert [p.format() for p in problems] == []


def test_a_study_in_binge_eating_disorder_fails_the_real_pages_at_the_stale_sentences() -> None:
    real = load_project(ROOT)
    bed = make_study(
        "odegard-2025",
        condition="eating-disorders",
        design="case-report",
        diagnoses=("BED",),
        comparator="none",
        n=1,
    )
    catalog = Catalog((*real.catalog.studies, bed), real.catalog.trials, real.catalog.vocabularies)
    problems = [p.format() for p in check_docs(replace(real, catalog=catalog), ROOT / "docs")]
    fragment = "diagnosis=BED"
    for page in ("index.md", "eating-disorders.md"):
        line, col = claim_line(page, fragment)
        assert any(
            p.startswith(f"docs/{page}:{line}:{col}: error: claim: no study should match")
            and "odegard-2025" in p
            for p in problems
        ), problems
    # Only claims touched by the new record fail; each is one line at its marker.
    assert all(re.match(r"docs/[a-z-]+\.md:\d+:\d+: error: claim: ", p) for p in problems)


def add_bed_study(root: Path) -> None:
    """Add a case report in binge eating disorder the way CONTRIBUTING.md says.

    A record, its BibTeX entry, and its id in data/prisma.yaml (the one PRISMA edit).
    """
    record = (ROOT / "data" / "studies" / "timek-2024.yaml").read_text(encoding="utf-8")
    record = record.replace("id: timek-2024", "id: odegard-2025")
    record = record.replace("timek2024", "odegard2025")
    record = re.sub(r"diagnoses: \[[^\]]*\]", "diagnoses: [BED]", record)
    (root / "data" / "studies" / "odegard-2025.yaml").write_text(record, encoding="utf-8")
    bib = (root / "references.bib").read_text(encoding="utf-8")
    entry = re.search(r"@article\{timek2024,.*?\n\}\n", bib, re.S)
    assert entry is not None
    bib += "\n" + entry.group(0).replace("timek2024", "odegard2025")
    (root / "references.bib").write_text(bib, encoding="utf-8")
    prisma = (root / "data" / "prisma.yaml").read_text(encoding="utf-8")
    listed = "        - borgogna-2024\n"
    prisma = prisma.replace(listed, listed + "        - odegard-2025\n")
    (root / "data" / "prisma.yaml").write_text(prisma, encoding="utf-8")


def test_strict_build_fails_at_the_stale_sentence(project_copy: Callable[..., Path]) -> None:
    root = project_copy(site=True)
    add_bed_study(root)
    before = snapshot(root)
    validate = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "validate.py"), "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(root / "site")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
    )
    line, col = claim_line("index.md", "diagnosis=BED")
    expected = f"docs/index.md:{line}:{col}: error: claim: no study should match"
    assert validate.returncode == 1
    assert expected in validate.stdout + validate.stderr
    assert build.returncode != 0
    assert expected in build.stderr
    assert "Traceback" not in build.stderr + validate.stderr
    # Nothing else is wrong: the PRISMA numbers followed the one added id.
    assert "prisma" not in validate.stdout + validate.stderr
    shutil.rmtree(root / "site", ignore_errors=True)
    assert snapshot(root) == before
