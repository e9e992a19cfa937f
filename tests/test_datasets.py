"""Study data downloads: CSV per study and per outcome, JSON, and the data dictionary."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from factories import make_catalog, make_effect, make_outcome, make_study
from livingreview import datasets, exports
from livingreview.bibliography import load_bibliography
from livingreview.model import Catalog
from livingreview.validate import load_catalog, schema_validator

ROOT = Path(__file__).resolve().parents[1]


def rows(text: str) -> list[dict[str, str]]:
    assert text.endswith("\r\n")
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.fixture(scope="module")
def real_catalog() -> Catalog:
    bibliography, problems = load_bibliography(ROOT / "references.bib", ROOT)
    catalog, found = load_catalog(ROOT, bibliography)
    assert problems == [] and found == [] and catalog is not None
    return catalog


def test_one_row_per_study_and_per_outcome(real_catalog: Catalog) -> None:
    studies = rows(datasets.studies_csv(real_catalog))
    assert [r["id"] for r in studies] == [s.id for s in real_catalog.studies]
    assert list(studies[0]) == [name for name, _, _ in datasets.STUDY_COLUMNS]
    outcomes = rows(datasets.outcomes_csv(real_catalog))
    expected = [(s.id, o.measure) for s in real_catalog.studies for o in s.outcomes]
    assert expected, "the real records report outcomes"
    assert [(r["study_id"], r["measure"]) for r in outcomes] == expected


def test_json_holds_every_record_with_its_fields(real_catalog: Catalog) -> None:
    records = json.loads(datasets.studies_json(real_catalog))
    assert [r["id"] for r in records] == [s.id for s in real_catalog.studies]
    first, study = records[0], real_catalog.studies[0]
    assert first["summary"] == study.summary
    assert first["verification"] == study.status
    assert len(first["outcomes"]) == len(study.outcomes)


@pytest.mark.parametrize("payload", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)"])
def test_text_that_starts_like_a_formula_is_neutralised(payload: str) -> None:
    effect = make_effect(estimate=-5.0, ci_lower=-8.0, ci_upper=-2.0)
    study = make_study(summary=payload, outcomes=(make_outcome(effect=effect),))
    catalog = make_catalog([study])
    (row,) = rows(datasets.studies_csv(catalog))
    assert row["summary"] == "'" + payload
    (outcome,) = rows(datasets.outcomes_csv(catalog))
    # Numbers stay numbers: a negative estimate is not text a spreadsheet would run.
    assert (outcome["estimate"], outcome["ci_lower"], outcome["ci_upper"]) == ("-5", "-8", "-2")


def test_data_dictionary_describes_every_column_from_the_schema() -> None:
    schema = schema_validator(ROOT, "study").schema
    entries = rows(datasets.data_dictionary(schema))
    expected = [("studies.csv", name) for name, _, _ in datasets.STUDY_COLUMNS] + [
        ("outcomes.csv", name) for name, _, _ in datasets.OUTCOME_COLUMNS
    ]
    assert [(e["file"], e["column"]) for e in entries] == expected
    by_field = {e["schema_field"]: e for e in entries}
    assert by_field["participants.n"]["type"] == "integer"
    assert by_field["condition"]["description"] == schema["properties"]["condition"]["description"]
    described = [e for e in entries if e["description"]]
    assert len(described) >= len(entries) // 2


def test_data_downloads_are_registered_exports(real_catalog: Catalog) -> None:
    data = exports.downloads("data")
    assert [e.file for e in data][:3] == ["studies.csv", "outcomes.csv", "studies.json"]
    bib, _ = load_bibliography(ROOT / "references.bib", ROOT)
    built = exports.build_downloads(bib, (), real_catalog, {}, groups=frozenset({"data"}))
    assert set(built) == {e.file for e in data}
    links = exports.download_markdown("data", "studies/index.md")
    assert "(../downloads/studies.csv)" in links
