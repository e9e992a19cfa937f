"""Unit tests of :func:`livingreview.validate.load_catalog`, without MkDocs, and of the script.

Each test writes a small project into ``tmp_path``: the real schemas and vocabularies (so the
allowed values in messages are the real ones) and records built from plain dicts
(:func:`study`, :func:`trial`) with one change each. References come from a small in-memory
key set (:class:`Keys`), which is all the validator asks of the bibliography.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT
from livingreview import validate
from livingreview.bibliography import load_bibliography
from livingreview.errors import Problem
from livingreview.load import load_yaml
from livingreview.model import Catalog
from livingreview.validate import REQUIRED_VOCABULARIES, load_catalog

VALIDATE = [sys.executable, str(ROOT / "scripts" / "validate.py")]
DELETE = object()


class Keys:
    """A bibliography reduced to what the validator needs: membership and suggestions."""

    def __init__(self, *keys: str) -> None:
        self.keys = frozenset(keys)

    def __contains__(self, key: object) -> bool:
        return key in self.keys

    def suggest(self, key: str) -> list[str]:
        """Return close matches, best first."""
        return difflib.get_close_matches(key, sorted(self.keys), n=3)


def vocabulary_keys() -> tuple[str, ...]:
    """Return the reference keys the real vocabularies cite (sources of certainty ratings)."""
    doc, problems = load_yaml(ROOT / "data" / "vocabularies" / "outcome_families.yaml", ROOT)
    assert doc is not None and not problems
    return tuple(
        c["source"]["ref"] for term in doc.data["terms"] for c in term.get("certainty", ())
    )


KEYS = Keys("smith2020", "jones2021", "brown2019", *vocabulary_keys())


def study(study_id: str = "smith-2020", **changes: Any) -> dict[str, Any]:
    """Return a valid primary-study record; ``changes`` maps dotted paths to new values.

    Paths use ``.`` and ``[i]`` (``outcomes[0].effect.ci_lower``); the value :data:`DELETE`
    removes the field.
    """
    record: dict[str, Any] = {
        "id": study_id,
        "condition": "ptsd",
        "design": "rct",
        "summary": "A randomized trial of ketamine.",
        "population": {"description": "Adults with PTSD.", "group": "civilians"},
        "participants": {"n": 20, "age_years": {"mean": 40, "sd": 10}},
        "diagnoses": ["PTSD"],
        "comorbidities": ["TRD"],
        "intervention": {
            "drug": "racemic-ketamine",
            "routes": ["iv"],
            "dose": {"value": 0.5, "unit": "mg/kg"},
            "sessions": {"value": 6},
        },
        "co_interventions": [{"kind": "psychotherapy", "description": "Weekly therapy."}],
        "comparator": "midazolam",
        "outcomes": [
            {
                "measure": "CAPS-5",
                "primary": True,
                "finding": "Scores fell more with ketamine.",
                "arms": [{"name": "Ketamine", "n": 10, "events": 6}],
                "effect": {"measure": "MD", "estimate": -5, "ci_lower": -8, "ci_upper": -2},
                "source": {"ref": "smith2020", "locator": "Table 2"},
            }
        ],
        "result": {"category": "improvement", "summary": "Symptoms improved."},
        "discrepancies": [
            {
                "field": "participants.n",
                "values": [
                    {"value": "20", "source": {"ref": "smith2020", "locator": "Abstract"}},
                    {"value": "21", "source": {"ref": "jones2021", "locator": "Table 1"}},
                ],
            }
        ],
        "risk_of_bias": [
            {
                "tool": "rob2",
                "source": {"ref": "jones2021", "locator": "Table 3"},
                "domains": {"D1": "low"},
                "overall": "low",
            }
        ],
        "adverse_events": {
            "reporting": "reported",
            "summary": "Transient dissociation.",
            "source": {"ref": "smith2020", "locator": "Abstract"},
        },
        "references": ["smith2020", "jones2021"],
        "provenance": [
            {
                "source": "smith2020",
                "basis": "abstract",
                "locator": "Abstract",
                "covers": ["design"],
                "status": "verified",
            }
        ],
        "bibliographic": {"status": "verified"},
        "added": "2026-01-01",
        "updated": "2026-01-02",
    }
    for path, value in changes.items():
        _set(record, path, value)
    return record


def review(study_id: str = "brown-2019", **changes: Any) -> dict[str, Any]:
    """Return a valid review record without ``n`` (reviews need not give it)."""
    record = study(
        study_id,
        design="systematic-review",
        comparator="various",
        **{"participants.n": DELETE, "participants.studies_included": 7},
    )
    record["result"]["category"] = "evidence-synthesis"
    record["references"] = ["brown2019"]
    record["provenance"][0]["source"] = "brown2019"
    record["adverse_events"]["source"]["ref"] = "brown2019"
    for outcome in record["outcomes"]:
        outcome["source"]["ref"] = "brown2019"
    del record["discrepancies"], record["risk_of_bias"]
    for path, value in changes.items():
        _set(record, path, value)
    return record


def trial(trial_id: str = "nct01234567", **changes: Any) -> dict[str, Any]:
    """Return a valid registered-trial record."""
    record: dict[str, Any] = {
        "id": trial_id,
        "registry_id": trial_id.upper(),
        "condition": "ptsd",
        "design": "Randomized, placebo-controlled.",
        "population": "Adults with PTSD.",
        "intervention": "Ketamine infusions.",
        "status": "recruiting",
        "source": {"description": "Registry record.", "ref": "smith2020", "locator": "Record"},
        "verification": {"status": "verified"},
        "added": "2026-01-01",
        "updated": "2026-01-01",
    }
    for path, value in changes.items():
        _set(record, path, value)
    return record


def _set(data: Any, path: str, value: Any) -> None:
    parts: list[str | int] = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        parts.append(int(index) if index else name)
    target = data
    for part in parts[:-1]:
        target = target[part]
    if value is DELETE:
        del target[parts[-1]]
    else:
        target[parts[-1]] = value


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(data: Any) -> str:
    """Return YAML without anchors (which the loader refuses)."""
    return yaml.dump(data, Dumper=_NoAliases, sort_keys=False, allow_unicode=True, width=1000)


def make_project(
    root: Path,
    studies: Iterable[dict[str, Any]] = (),
    trials: Iterable[dict[str, Any]] = (),
    glossary: dict[str, Any] | None = None,
) -> Path:
    """Write a project: real schemas and vocabularies, and the given records."""
    shutil.copytree(ROOT / "data" / "schema", root / "data" / "schema")
    shutil.copytree(ROOT / "data" / "vocabularies", root / "data" / "vocabularies")
    (root / "data" / "studies").mkdir()
    (root / "data" / "trials").mkdir()
    for record in studies:
        (root / "data" / "studies" / f"{record['id']}.yaml").write_text(dump(record), "utf-8")
    for record in trials:
        (root / "data" / "trials" / f"{record['id']}.yaml").write_text(dump(record), "utf-8")
    if glossary is not None:
        (root / "data" / "glossary.yaml").write_text(dump(glossary), "utf-8")
    return root


def check(root: Path, keys: Keys = KEYS) -> tuple[Catalog | None, list[Problem]]:
    """Run the validator on ``root``."""
    return load_catalog(root, keys)


def problems_of(tmp_path: Path, *studies: dict[str, Any], **kwargs: Any) -> list[Problem]:
    """Return the problems of a project holding ``studies`` (and no catalog)."""
    catalog, problems = check(make_project(tmp_path, studies, **kwargs))
    assert problems, "expected problems"
    assert catalog is None
    return problems


def only(problems: list[Problem], field: str) -> Problem:
    """Return the single problem reported for ``field``."""
    found = [p for p in problems if p.field == field]
    assert len(found) == 1, (field, [p.format() for p in problems])
    return found[0]


def vocabulary_ids(name: str) -> list[str]:
    """Return the term ids of a real vocabulary, in file order."""
    doc, problems = load_yaml(ROOT / "data" / "vocabularies" / f"{name}.yaml", ROOT)
    assert doc is not None and not problems
    return [term["id"] for term in doc.data["terms"]]


# --- a valid project ------------------------------------------------------------------------


def test_valid_project_loads_into_a_catalog(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        [study(), study("jones-2021", **{"references": ["jones2021", "smith2020"]}), review()],
        [trial(), trial("nct07654321", condition="eating-disorders")],
        {"terms": [{"abbr": "PTSD", "definition": "Post-traumatic stress disorder"}]},
    )
    catalog, problems = check(root)
    assert problems == []
    assert catalog is not None
    assert [s.id for s in catalog.studies] == ["brown-2019", "smith-2020", "jones-2021"]
    assert [t.id for t in catalog.trials] == ["nct01234567", "nct07654321"]
    stems = {p.stem for p in (ROOT / "data" / "vocabularies").glob("*.yaml")}
    assert set(catalog.vocabularies) == stems
    assert catalog.glossary == (("PTSD", "Post-traumatic stress disorder"),)
    smith = catalog.study("smith-2020")
    assert smith.n == 20 and smith.age_years is not None and smith.age_years.sd == 10
    assert smith.dose is not None and smith.dose.unit == "mg/kg"
    assert smith.outcomes[0].effect is not None and smith.outcomes[0].effect.ci_upper == -2
    assert catalog.study("brown-2019").n is None
    assert catalog.select(kind="review") == [catalog.study("brown-2019")]


def test_real_project_loads_with_every_record() -> None:
    keys, bib_problems = load_bibliography(ROOT / "references.bib", ROOT)
    catalog, problems = load_catalog(ROOT, keys)
    assert bib_problems == [] and problems == []
    assert catalog is not None
    assert len(catalog.studies) == len(list((ROOT / "data" / "studies").glob("*.yaml")))
    assert len(catalog.trials) == len(list((ROOT / "data" / "trials").glob("*.yaml")))


# --- vocabulary terms -----------------------------------------------------------------------

TERM_FIELDS = (
    ("condition", "conditions"),
    ("design", "designs"),
    ("diagnoses[0]", "diagnoses"),
    ("comorbidities[0]", "comorbidities"),
    ("intervention.drug", "drugs"),
    ("intervention.routes[0]", "routes"),
    ("co_interventions[0].kind", "co_intervention_kinds"),
    ("comparator", "comparators"),
    ("outcomes[0].measure", "outcome_measures"),
    ("outcomes[0].effect.measure", "effect_measures"),
    ("result.category", "result_categories"),
)


def test_every_term_field_of_the_validator_is_tested() -> None:
    tested = {(re.sub(r"\[0\]", "[]", f), v) for f, v in TERM_FIELDS}
    assert tested == set(validate.records._STUDY_TERMS)


@pytest.mark.parametrize(("field", "vocabulary"), TERM_FIELDS)
def test_unknown_term_names_every_allowed_value(
    tmp_path: Path, field: str, vocabulary: str
) -> None:
    problems = problems_of(tmp_path, study(**{field: "no-such-term"}))
    problem = only(problems, field)
    allowed = ", ".join(vocabulary_ids(vocabulary))
    assert problem.message == (
        f"'no-such-term' is not in vocabularies/{vocabulary}.yaml; allowed: {allowed}"
    )
    assert problem.line is not None and problem.column is not None


def test_unknown_term_suggests_the_close_one(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, study(design="case-serie"))
    assert "(did you mean 'case-series'?); allowed: rct," in only(problems, "design").message


def test_unknown_trial_terms_name_the_allowed_values(tmp_path: Path) -> None:
    root = make_project(tmp_path, trials=[trial(condition="depression", status="paused")])
    _, problems = check(root)
    assert only(problems, "condition").message.endswith(
        "allowed: " + ", ".join(vocabulary_ids("conditions"))
    )
    assert only(problems, "status").message.endswith(
        "allowed: " + ", ".join(vocabulary_ids("trial_statuses"))
    )


def test_diagnosis_of_another_condition(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, study(diagnoses=["AN-R"]))
    assert only(problems, "diagnoses[0]").message == (
        "diagnosis 'AN-R' belongs to condition 'eating-disorders', not 'ptsd'"
    )


# --- reference keys -------------------------------------------------------------------------

KEY_FIELDS = (
    "references[0]",
    "provenance[0].source",
    "outcomes[0].source.ref",
    "discrepancies[0].values[0].source.ref",
    "risk_of_bias[0].source.ref",
)


@pytest.mark.parametrize("field", KEY_FIELDS)
def test_unknown_reference_key_suggests_the_close_one(tmp_path: Path, field: str) -> None:
    problems = problems_of(tmp_path, study(**{field: "smith2021"}))
    unknown = [p for p in problems if p.field == field and p.message.startswith("unknown")]
    assert [p.message for p in unknown] == [
        "unknown reference key 'smith2021' (not in references.bib); did you mean 'smith2020'?"
    ]


def test_unknown_reference_key_without_a_close_one(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, study(**{"outcomes[0].source.ref": "zzz"}))
    assert only(problems, "outcomes[0].source.ref").message == (
        "unknown reference key 'zzz' (not in references.bib)"
    )


def test_unknown_trial_source_key(tmp_path: Path) -> None:
    _, problems = check(make_project(tmp_path, trials=[trial(**{"source.ref": "jones2012"})]))
    assert "did you mean 'jones2021'?" in only(problems, "source.ref").message


def test_reference_listed_twice_and_provenance_outside_references(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        study(references=["smith2020", "smith2020"], **{"provenance[0].source": "jones2021"}),
    )
    assert only(problems, "references[1]").message == "reference 'smith2020' is listed twice"
    assert only(problems, "provenance[0].source").message == (
        "provenance source 'jones2021' must also be listed in references"
    )


# --- numbers --------------------------------------------------------------------------------

RANGE_FIELDS = (
    "participants.age_years",
    "participants.illness_duration_years",
    "intervention.dose",
    "intervention.sessions",
    "intervention.session_minutes",
)


@pytest.mark.parametrize("field", RANGE_FIELDS)
def test_reversed_range(tmp_path: Path, field: str) -> None:
    value: dict[str, Any] = {"min": 5, "max": 2}
    if field == "intervention.dose":
        value["unit"] = "mg/kg"
    problems = problems_of(tmp_path, study(**{field: value}))
    assert only(problems, f"{field}.min").message == "range is reversed: min 5 > max 2"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"participants.n_female": 21},
            "participants.n_female",
            "n_female 21 exceeds n 20",
        ),
        (
            {"participants.groups": [{"name": "Ketamine", "n": 25}]},
            "participants.groups[0].n",
            "group size 25 exceeds participants.n 20",
        ),
        (
            {"outcomes[0].arms[0].events": 11},
            "outcomes[0].arms[0].events",
            "events 11 exceed the arm's n 10",
        ),
        (
            {"outcomes[0].effect.ci_upper": DELETE},
            "outcomes[0].effect",
            "give both ci_lower and ci_upper, or neither",
        ),
        (
            {"outcomes[0].effect.ci_lower": -1, "outcomes[0].effect.ci_upper": -3},
            "outcomes[0].effect.ci_lower",
            "confidence interval is reversed: lower -1 > upper -3",
        ),
        (
            {"outcomes[0].effect.estimate": -9},
            "outcomes[0].effect.estimate",
            "estimate -9 lies outside its interval -8 to -2",
        ),
        (
            {
                "outcomes[0].effect": {
                    "measure": "RR",
                    "estimate": 0.5,
                    "ci_lower": -0.1,
                    "ci_upper": 0.9,
                }
            },
            "outcomes[0].effect",
            "a risk ratio and its interval must be positive",
        ),
        (
            {"participants.n": DELETE},
            "participants.n",
            "required field is missing (primary studies must give n)",
        ),
        ({"participants.n": -3}, "participants.n", "number -3 is too small; must be at least 1"),
        ({"participants.n": 0}, "participants.n", "number 0 is too small; must be at least 1"),
        (
            {"participants.n": 20.0},
            "participants.n",
            "expected an integer, got number 20.0",
        ),
        ({"participants.n": True}, "participants.n", "expected an integer, got boolean true"),
        (
            {"participants.n": "twenty"},
            "participants.n",
            "expected an integer, got text 'twenty'",
        ),
        (
            {"participants.female_percent": 101},
            "participants.female_percent",
            "number 101 is too large; must be at most 100",
        ),
        (
            {"participants.age_years.sd": -1},
            "participants.age_years.sd",
            "number -1 is too small; must be at least 0",
        ),
    ],
)
def test_impossible_numbers(
    tmp_path: Path, changes: dict[str, Any], field: str, message: str
) -> None:
    problems = problems_of(tmp_path, study(**changes))
    assert only(problems, field).message == message


def test_review_may_leave_n_out(tmp_path: Path) -> None:
    catalog, problems = check(make_project(tmp_path, [review()]))
    assert problems == [] and catalog is not None


def test_not_a_number_is_refused_once(tmp_path: Path) -> None:
    root = make_project(tmp_path, [study()])
    path = root / "data" / "studies" / "smith-2020.yaml"
    path.write_text(path.read_text("utf-8").replace("estimate: -5", "estimate: .nan"), "utf-8")
    _, problems = check(root)
    assert [p.field for p in problems] == ["outcomes[0].effect.estimate"]
    assert "'.nan' is not a usable number" in problems[0].message


# --- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"added": "2023-02-30"}, "added", "'2023-02-30' is not a real date (YYYY-MM-DD)"),
        ({"updated": "2999-01-01"}, "updated", "date 2999-01-01 is in the future"),
        (
            {"added": "2026-01-05", "updated": "2026-01-02"},
            "updated",
            "updated date is before the added date",
        ),
        ({"added": "2026-1-5"}, "added", "text '2026-1-5' has the wrong form: ISO date"),
    ],
)
def test_impossible_dates(
    tmp_path: Path, changes: dict[str, Any], field: str, message: str
) -> None:
    problems = problems_of(tmp_path, study(**changes))
    assert only(problems, field).message.startswith(message)


@pytest.mark.parametrize(
    ("epoch", "updated", "future"),
    [
        ("946684800", dt.date.today().isoformat(), False),  # epoch 2000-01-01: the clock wins
        ("4102444800", "2099-12-31", False),  # epoch 2100-01-01: the epoch wins
        ("946684800", "2999-01-01", True),
    ],
)
def test_future_is_the_later_of_source_date_epoch_and_the_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, epoch: str, updated: str, future: bool
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    _, problems = check(make_project(tmp_path, [study(added="2000-01-01", updated=updated)]))
    messages = [p.message for p in problems]
    assert messages == ([f"date {updated} is in the future"] if future else []), messages


def test_trial_dates_are_checked(tmp_path: Path) -> None:
    _, problems = check(make_project(tmp_path, trials=[trial(updated="2999-12-31")]))
    assert only(problems, "updated").message == "date 2999-12-31 is in the future"


# --- ids and file names ---------------------------------------------------------------------


def test_id_must_equal_the_file_name(tmp_path: Path) -> None:
    root = make_project(tmp_path, [study()])
    (root / "data" / "studies" / "smith-2020.yaml").rename(
        root / "data" / "studies" / "smith-2021.yaml"
    )
    _, problems = check(root)
    problem = only(problems, "id")
    assert problem.format() == (
        "data/studies/smith-2021.yaml:1:5: error: id: id 'smith-2020' must equal the file "
        "name 'smith-2021'"
    )


def test_trial_registry_id_must_match_the_id(tmp_path: Path) -> None:
    _, problems = check(make_project(tmp_path, trials=[trial(registry_id="NCT01234568")]))
    assert only(problems, "registry_id").message == (
        "registry_id 'NCT01234568' does not match id 'nct01234567'"
    )


@pytest.mark.parametrize(
    ("clean", "lookalike", "shown"),
    [
        ("smith-2020", "Smith-2020", "'Smith-2020'"),
        ("smith-2020", "smith\u200b-2020", "'smith\\u200b-2020'"),
        ("smith-2020", "smith\u00ad-2020", "'smith\\xad-2020'"),
        (
            unicodedata.normalize("NFC", "müller-2020"),
            unicodedata.normalize("NFD", "müller-2020"),
            "'mu\\u0308ller-2020'",
        ),
    ],
)
def test_lookalike_file_names_collide(
    tmp_path: Path, clean: str, lookalike: str, shown: str
) -> None:
    root = make_project(tmp_path)
    folder = root / "data" / "studies"
    (folder / f"{clean}.yaml").write_text(dump(study(clean)), "utf-8")
    (folder / f"{lookalike}.yaml").write_text(dump(study(lookalike)), "utf-8")
    _, problems = check(root)
    collisions = [p for p in problems if "collides" in p.message]
    assert len(collisions) == 1, [p.format() for p in problems]
    assert collisions[0].path == f"data/studies/{lookalike}.yaml"
    assert collisions[0].message.startswith(f"record id {shown} collides with ")


def test_stray_files_and_folders_are_reported(tmp_path: Path) -> None:
    root = make_project(tmp_path, [study()])
    folder = root / "data" / "studies"
    (folder / "notes.txt").write_text("x", "utf-8")
    (folder / "old").mkdir()
    (folder / "old" / "jones-2021.yaml").write_text(dump(study("jones-2021")), "utf-8")
    (folder / ".DS_Store").write_bytes(b"\x00")
    (folder / ".hidden").mkdir()
    (folder / ".jones-2021.yaml").write_text(dump(study("jones-2021")), "utf-8")
    _, problems = check(root)
    assert sorted(p.format() for p in problems) == [
        "data/studies/.jones-2021.yaml:1:5: error: id: id 'jones-2021' must equal the file "
        "name '.jones-2021'",
        "data/studies/notes.txt: error: unexpected file; records are YAML files named <id>.yaml",
        "data/studies/old: error: unexpected folder; records are YAML files named <id>.yaml "
        "directly in data/studies/",
    ]


# --- vocabularies and glossary --------------------------------------------------------------


@pytest.mark.parametrize("name", REQUIRED_VOCABULARIES)
def test_missing_required_vocabulary(tmp_path: Path, name: str) -> None:
    root = make_project(tmp_path)
    (root / "data" / "vocabularies" / f"{name}.yaml").unlink()
    _, problems = check(root)
    assert f"data/vocabularies/{name}.yaml: error: required vocabulary file is missing" in [
        p.format() for p in problems
    ]


def test_duplicate_vocabulary_term_ignoring_case(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    path = root / "data" / "vocabularies" / "routes.yaml"
    path.write_text(path.read_text("utf-8") + "  - id: IV\n    label: Intravenous again\n", "utf-8")
    _, problems = check(root)
    routes = len(vocabulary_ids("routes"))
    assert only(problems, f"terms[{routes}].id").message == (
        f"duplicate term 'IV' (also terms[{vocabulary_ids('routes').index('iv')}])"
    )


def test_vocabulary_name_must_equal_the_file_name(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    path = root / "data" / "vocabularies" / "routes.yaml"
    path.write_text(path.read_text("utf-8").replace("name: routes", "name: route"), "utf-8")
    _, problems = check(root)
    assert only(problems, "name").message == (
        "vocabulary name 'route' must equal the file name 'routes'"
    )


def test_glossary_duplicate_abbreviation(tmp_path: Path) -> None:
    glossary = {
        "terms": [
            {"abbr": "AN", "definition": "Anorexia nervosa"},
            {"abbr": "AN", "definition": "Again"},
        ]
    }
    problems = problems_of(tmp_path, glossary=glossary)
    assert only(problems, "terms[1].abbr").message == "abbreviation 'AN' is defined twice"


@pytest.mark.parametrize(
    "definition",
    ["Harmless\n\n<script>alert(1)</script>", "One\rTwo", "Tab\tand bell\x07", "Line\u2028two"],
)
def test_glossary_definition_must_be_one_line(tmp_path: Path, definition: str) -> None:
    glossary = {"terms": [{"abbr": "XSS", "definition": definition}]}
    problems = problems_of(tmp_path, glossary=glossary)
    assert only(problems, "terms[0].definition").message.startswith(
        "a definition must be one line of text"
    )


def test_glossary_folded_definition_keeps_one_line(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    (root / "data" / "glossary.yaml").write_text(
        "terms:\n  - abbr: AN\n    definition: >\n      Anorexia\n      nervosa\n", "utf-8"
    )
    catalog, problems = check(root)
    assert problems == [] and catalog is not None
    assert catalog.glossary == (("AN", "Anorexia nervosa"),)


# --- schema messages ------------------------------------------------------------------------


def test_enum_names_every_allowed_value(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, study(**{"population.group": "town"}))
    assert only(problems, "population.group").message == (
        "text 'town' is not allowed; allowed: civilians, military, veterans, "
        "veterans-and-military, children-and-adolescents, mixed, not-applicable"
    )


def test_unknown_field_names_every_allowed_field(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, study(**{"intervention.dosage": "high"}))
    message = only(problems, "intervention.dosage").message
    assert message == (
        "unknown field 'dosage' (did you mean 'dose'?); allowed: description, dose, drug, "
        "routes, schedule, session_minutes, sessions"
    )


def test_missing_required_field_points_at_its_parent(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, study(**{"result.summary": DELETE}))
    problem = only(problems, "result.summary")
    assert problem.message == "required field is missing"
    assert problem.line is not None


def test_url_pattern_error_shows_the_accepted_form(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, study(url="javascript:alert(1)"))
    assert only(problems, "url").message.startswith(
        "text 'javascript:alert(1)' has the wrong form: expected a match for ^(https?://"
    )


def test_yaml11_value_is_reported_once(tmp_path: Path) -> None:
    root = make_project(tmp_path, [study()])
    path = root / "data" / "studies" / "smith-2020.yaml"
    path.write_text(path.read_text("utf-8").replace("n: 20", "n: 020"), "utf-8")
    _, problems = check(root)
    assert [p.field for p in problems] == ["participants.n"]
    assert problems[0].message.startswith("ambiguous value '020'")


def test_every_file_is_checked_in_one_run(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        study(design="nope"),
        study(
            "jones-2021",
            comparator="nope",
            references=["jones2021"],
            **{"provenance[0].source": "jones2021"},
        ),
    )
    assert {p.path for p in problems} == {
        "data/studies/smith-2020.yaml",
        "data/studies/jones-2021.yaml",
    }


def test_validation_never_writes(tmp_path: Path) -> None:
    root = make_project(tmp_path, [study(design="nope")], [trial()])
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    check(root)
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before


# --- scripts/validate.py ----------------------------------------------------------------------


def _run(root: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"} | env
    return subprocess.run(
        [*VALIDATE, "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )


def test_script_says_ok_on_the_real_project() -> None:
    result = _run(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    studies = len(list((ROOT / "data" / "studies").glob("*.yaml")))
    assert re.fullmatch(
        rf"OK: {studies} studies, \d+ trials, \d+ references validated\.\n", result.stderr
    ), result.stderr


def test_script_prints_github_annotations_under_actions(
    project_copy: Any,
) -> None:
    root = project_copy()
    record = root / "data" / "studies" / "feder-2014.yaml"
    record.write_text(
        record.read_text("utf-8").replace("design: randomized-crossover", "design: crossover"),
        "utf-8",
    )
    plain = _run(root)
    annotated = _run(root, GITHUB_ACTIONS="true")
    line = "data/studies/feder-2014.yaml:4:9: error: design: 'crossover' is not in"
    assert plain.returncode == annotated.returncode == 1
    assert plain.stdout.startswith(line)
    assert "::error" not in plain.stdout
    lines = annotated.stdout.splitlines()
    assert lines[0].startswith(line)
    assert lines[1].startswith(
        "::error file=data/studies/feder-2014.yaml,line=4,col=9::design: 'crossover' is not in"
    )
    assert "Traceback" not in plain.stderr + annotated.stderr
    assert annotated.stderr == "1 problem(s) found.\n"


def test_script_keeps_study_records_unchanged(project_copy: Any) -> None:
    root = project_copy()
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert _run(root).returncode == 0
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before


def test_fixture_helpers_do_not_share_objects() -> None:
    first, second = study(), study()
    second["participants"]["n"] = 1
    assert first["participants"]["n"] == 20
    assert "&" not in dump(copy.deepcopy(study()))


def test_risk_of_bias_is_checked_against_its_tool_at_the_value(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        study(
            "alpha-2019",
            **{"risk_of_bias[0].domains": {"D9": "low"}, "risk_of_bias[0].overall": "moderate"},
        ),
        study("beta-2020", **{"risk_of_bias[0].tool": "robvis", "risk_of_bias[0].domains": {}}),
        study("gamma-2021"),
    )
    assert {(p.path, p.field) for p in problems} == {
        ("data/studies/alpha-2019.yaml", "risk_of_bias[0].domains.D9"),
        ("data/studies/alpha-2019.yaml", "risk_of_bias[0].overall"),
        ("data/studies/beta-2020.yaml", "risk_of_bias[0].tool"),
    }
    # Every problem points at the value in the file, like every other check.
    expected = {"tool": "tool: robvis", "overall": "overall: moderate", "D9": "D9: low"}
    for p in problems:
        assert p.line is not None and p.column is not None, p.format()
        line = (tmp_path / p.path).read_text("utf-8").splitlines()[p.line - 1]
        assert line.strip(" -") == expected[p.field.rsplit(".", 1)[-1]], (p.format(), line)


# --- issue 13: safety statement, claims and provenance basis --------------------------------


def test_adverse_event_statement_is_required(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, study(adverse_events=DELETE))
    problem = only(problems, "adverse_events")
    assert problem.message == "required field is missing"


@pytest.mark.parametrize("field", ["reporting", "summary", "source"])
def test_adverse_event_statement_needs_reporting_summary_and_source(
    tmp_path: Path, field: str
) -> None:
    problems = problems_of(tmp_path, study(**{f"adverse_events.{field}": DELETE}))
    assert only(problems, f"adverse_events.{field}").message == "required field is missing"


def test_adverse_event_reporting_names_the_allowed_values(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, study(**{"adverse_events.reporting": "none"}))
    assert only(problems, "adverse_events.reporting").message == (
        "text 'none' is not allowed; allowed: reported, none-reported"
    )


def test_adverse_event_source_must_be_a_reference_of_the_record(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, study(**{"adverse_events.source.ref": "brown2019"}))
    assert only(problems, "adverse_events.source.ref").message == (
        "adverse-event source 'brown2019' must also be listed in references"
    )


def test_none_reported_cannot_carry_serious_events(tmp_path: Path) -> None:
    record = study(
        **{"adverse_events.reporting": "none-reported", "adverse_events.serious": "One death."}
    )
    problems = problems_of(tmp_path, record)
    assert only(problems, "adverse_events.serious").message.startswith(
        "'serious' given although reporting is 'none-reported'"
    )


def test_none_reported_statement_is_valid(tmp_path: Path) -> None:
    record = study(
        **{
            "adverse_events.reporting": "none-reported",
            "adverse_events.summary": "The abstract has no statement on adverse events.",
        }
    )
    catalog, problems = check(make_project(tmp_path, [record]))
    assert problems == [] and catalog is not None
    safety = catalog.studies[0].adverse_events
    assert safety is not None and not safety.reported


@pytest.mark.parametrize("category", ["improvement", "no-significant-difference"])
def test_primary_outcome_category_needs_a_primary_outcome(tmp_path: Path, category: str) -> None:
    record = study(**{"outcomes[0].primary": DELETE, "result.category": category})
    problem = only(problems_of(tmp_path, record), "result.category")
    assert problem.message.startswith(f"'{category}' names the primary outcome, but no outcome")
    assert "improvement-reported" in problem.message
    assert "no-significant-difference-reported" in problem.message
    assert problem.line is not None


def test_category_claiming_no_hierarchy_needs_no_primary_outcome(tmp_path: Path) -> None:
    record = study(**{"outcomes[0].primary": DELETE, "result.category": "improvement-reported"})
    catalog, problems = check(make_project(tmp_path, [record]))
    assert problems == [] and catalog is not None


def test_provenance_must_say_what_was_checked(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, study(**{"provenance[0].basis": DELETE}))
    assert only(problems, "provenance[0].basis").message == "required field is missing"
    problems = problems_of(tmp_path / "b", study(**{"provenance[0].basis": "website"}))
    assert only(problems, "provenance[0].basis").message.startswith(
        "text 'website' is not allowed; allowed: full-text, abstract, registry-record,"
    )


def test_primary_study_may_say_why_n_is_missing(tmp_path: Path) -> None:
    record = study(**{"participants.n": DELETE, "participants.n_not_reported": "Not found."})
    record["participants"].pop("age_years")
    catalog, problems = check(make_project(tmp_path, [record]))
    assert problems == [] and catalog is not None
    assert catalog.studies[0].n is None
    assert catalog.studies[0].n_not_reported == "Not found."


def test_every_real_record_states_adverse_events_with_a_located_source() -> None:
    for path in sorted((ROOT / "data" / "studies").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        safety = data["adverse_events"]
        assert safety["reporting"] in ("reported", "none-reported"), path.name
        assert safety["source"]["ref"] in data["references"], path.name
        assert safety["source"]["locator"].strip(), path.name
