"""scripts/new_study.py, followed as CONTRIBUTING.md describes, on a fresh copy of the project.

The walkthrough: add a BibTeX entry, scaffold the record, see the validator reject it (one line
per TODO), fill in the TODOs, list the record in the PRISMA numbers, rewrite the page sentence
whose claim the new record makes stale, and see it pass. Refusals
(unknown key, existing file, bad id or term) change nothing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import FIXTURES, ROOT, snapshot
from livingreview.bibliography import parse_bibtex_bytes
from livingreview.load import load_yaml
from livingreview.scaffold import (
    SCHEMA_COMMENT,
    ScaffoldInput,
    ascii_slug,
    base_id,
    free_id,
    scaffold_record,
)
from livingreview.validate import todo_problems

NEW_STUDY = ROOT / "scripts" / "new_study.py"
VALIDATE = ROOT / "scripts" / "validate.py"
NEW_ENTRY = FIXTURES / "new_study" / "new_entry.bib"
NEW_KEY = "odegard2025"
NEW_ID = "odegard-2025"
# 2026-12-02T12:00:00Z: the date the scaffold writes into added/updated. Not earlier than any
# date in the real data the walkthrough validates (versions.yaml's last search is 2026-12-02).
EPOCH = "1796212800"
TODAY = "2026-12-02"

# Whether the lead has called scaffold.todo_problems from validate.py yet. Until then the
# validator still rejects a scaffold (a TODO where a number belongs is a schema type error),
# but only the TODO-specific check prints one "TODO placeholder" line per field.
_WIRED = "todo_problems" in (ROOT / "hooks" / "livingreview" / "validate" / "records.py").read_text(
    "utf-8"
)

#: What the walkthrough writes in place of each TODO, by field name.
FILLED = {
    "condition": "ptsd",
    "design": "open-label",
    "summary": "Twelve adults with chronic PTSD received six ketamine infusions; symptoms fell.",
    "description": "Adults with chronic PTSD.",
    "n": "12",
    "diagnoses": "[PTSD-chronic]",
    "drug": "racemic-ketamine",
    "routes": "[iv]",
    "comparator": "none",
    "measure": "PCL-5",
    "finding": "PCL-5 scores fell from baseline to the end of treatment.",
    "locator": "Abstract",
    "category": "improvement-reported",
    "reporting": "none-reported",
    "basis": "abstract",
    "note": "Only the abstract was read; numbers are not recorded.",
}


def run(script: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}
    env.pop("GITHUB_ACTIONS", None)
    return subprocess.run(
        [sys.executable, str(script), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


@pytest.fixture
def project(project_copy: Callable[..., Path]) -> Path:
    """A full copy of the project with one new BibTeX entry that has no record yet."""
    root = project_copy(docs=True)
    with (root / "references.bib").open("a", encoding="utf-8") as bib:
        bib.write("\n" + NEW_ENTRY.read_text(encoding="utf-8"))
    return root


def _required_paths(
    schema: dict[str, Any], node: dict[str, Any], data: Any, path: str
) -> list[str]:
    """Return required fields (recursively) that are missing from ``data``."""
    if "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[1]]
    missing = []
    if node.get("type") == "object" and isinstance(data, dict):
        for name in node.get("required", []):
            if name not in data:
                missing.append(f"{path}.{name}".lstrip("."))
            else:
                child = node["properties"][name]
                missing += _required_paths(schema, child, data[name], f"{path}.{name}")
    elif node.get("type") == "array" and isinstance(data, list):
        for i, item in enumerate(data):
            missing += _required_paths(schema, node["items"], item, f"{path}[{i}]")
    return missing


def _fill(text: str) -> str:
    """Replace every TODO line the way an author following CONTRIBUTING.md would."""
    out = []
    for line in text.splitlines():
        match = re.match(r"^(\s*(?:- )?)([a-z_]+): (\[TODO\]|TODO)(?=\s|$)", line)
        if match:
            line = f"{match.group(1)}{match.group(2)}: {FILLED[match.group(2)]}"
        out.append(line)
    return "\n".join(out) + "\n"


def _list_in_prisma(root: Path, study_id: str) -> None:
    """List the new record in data/prisma.yaml (step 2 of the guide): the only edit there."""
    path = root / "data" / "prisma.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    source = [s for s in data["other_methods"]["sources"] if "studies" in s][-1]
    source["studies"].append(study_id)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _add_to_pcl5_sentence(root: Path) -> None:
    """Rewrite the outcome-measures sentence on the PCL-5 to name the new study too."""
    page = root / "docs" / "outcome-measures.md"
    text = page.read_text(encoding="utf-8")
    claim = "are=abdallah-2022,albott-2018,ross-2019,almeida-2024]]"
    assert claim in text and "by @ross2019 and" in text
    text = text.replace(claim, claim.replace("]]", f",{NEW_ID}]]"))
    text = text.replace("by @ross2019 and", f"by @ross2019, by @{NEW_KEY} and")
    page.write_text(text, encoding="utf-8")


def test_walkthrough_scaffold_reject_fill_accept(project: Path) -> None:
    result = run(NEW_STUDY, NEW_KEY, "--root", project)
    assert result.returncode == 0, result.stderr
    record = project / "data" / "studies" / f"{NEW_ID}.yaml"
    assert f"Wrote data/studies/{NEW_ID}.yaml" in result.stdout
    assert "Next steps" in result.stdout and "data/prisma.yaml" in result.stdout

    text = record.read_text(encoding="utf-8")
    assert text.splitlines()[0] == SCHEMA_COMMENT
    data = yaml.safe_load(text)
    schema = json.loads((project / "data" / "schema" / "study.schema.json").read_text("utf-8"))
    assert _required_paths(schema, schema, data, "") == []
    assert data["id"] == NEW_ID
    assert data["references"] == [NEW_KEY]
    assert data["provenance"][0]["source"] == NEW_KEY
    assert data["provenance"][0]["status"] == "unverified"
    assert data["bibliographic"] == {"status": "unverified", "note": "TODO"}
    assert data["added"] == data["updated"] == TODAY
    # Vocabulary fields say which terms are allowed, in a comment.
    assert re.search(r"# one of data/vocabularies/designs\.yaml: rct, ", text)
    assert "design: TODO" in text

    # The validator rejects the scaffold, naming the file and a position.
    rejected = run(VALIDATE, "--root", project)
    assert rejected.returncode == 1
    lines = rejected.stdout.splitlines()
    assert lines and all(
        re.match(rf"^data/studies/{NEW_ID}\.yaml:\d+:\d+: error: ", ln) for ln in lines
    )
    assert any(ln.split(": error: ")[1].startswith("participants.n: ") for ln in lines)
    # The scaffold asks for the adverse-event statement, and the validator insists on it.
    assert data["adverse_events"]["reporting"] == "TODO"
    assert "# one of: reported | none-reported" in text
    assert data["adverse_events"]["source"] == {"ref": NEW_KEY, "locator": "TODO"}
    fields = {ln.split(": error: ")[1].split(":")[0] for ln in lines}
    assert {"adverse_events.reporting", "adverse_events.summary"} <= fields

    # Fill in every TODO: the record then validates, once it is listed in the PRISMA numbers.
    record.write_text(_fill(text), encoding="utf-8")
    assert "TODO" not in record.read_text(encoding="utf-8")
    unlisted = run(VALIDATE, "--root", project)
    assert unlisted.returncode == 1
    assert "data/prisma.yaml" in unlisted.stdout
    _list_in_prisma(project, NEW_ID)
    # The new study reports the PCL-5, so the sentence listing the studies that did is stale:
    # the validator names its page and line, and the author rewrites it (with its claim).
    stale = run(VALIDATE, "--root", project)
    assert stale.returncode == 1
    (line,) = stale.stdout.splitlines()
    assert re.match(r"^docs/outcome-measures\.md:\d+:\d+: error: claim: ", line), line
    assert NEW_ID in line
    _add_to_pcl5_sentence(project)
    accepted = run(VALIDATE, "--root", project)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    count = len(list((project / "data" / "studies").glob("*.yaml")))
    assert f"OK: {count} studies" in accepted.stderr


def test_every_todo_is_reported_with_its_field_and_line(project: Path) -> None:
    assert run(NEW_STUDY, NEW_KEY, "--root", project).returncode == 0
    record = project / "data" / "studies" / f"{NEW_ID}.yaml"
    todo_lines = [
        i for i, ln in enumerate(record.read_text("utf-8").splitlines(), 1) if "TODO" in ln
    ]
    doc, problems = load_yaml(record, project)
    assert doc is not None and problems == []
    schema = json.loads((project / "data" / "schema" / "study.schema.json").read_text("utf-8"))
    found = todo_problems(doc, schema)
    assert sorted(p.line for p in found) == todo_lines
    by_field = {p.field: p.format() for p in found}
    assert by_field["design"] == (
        f"data/studies/{NEW_ID}.yaml:{doc.position(('design',))[0]}:9: error: design: "
        "TODO placeholder: fill in a term from data/vocabularies/designs.yaml"
    )
    assert "participants.n" in by_field and "diagnoses[0]" in by_field
    assert "outcomes[0].source.locator" in by_field
    assert "adverse_events.summary" in by_field
    assert "adverse events as the source reports them" in by_field["adverse_events.summary"]
    assert "provenance[0].basis" in by_field
    assert all(": TODO placeholder: fill in " in line for line in by_field.values())


# This part needs the TODO-specific wording, which the validator prints only once
# validate.py calls scaffold.todo_problems (see the lead's integration notes). Until then the
# test is an expected failure; once wired it runs, and must pass.
@pytest.mark.xfail(not _WIRED, reason="validate.py does not call todo_problems yet", strict=True)
def test_validator_prints_one_todo_line_per_placeholder(project: Path) -> None:
    assert run(NEW_STUDY, NEW_KEY, "--root", project).returncode == 0
    record = project / "data" / "studies" / f"{NEW_ID}.yaml"
    todo_lines = [
        i for i, ln in enumerate(record.read_text("utf-8").splitlines(), 1) if "TODO" in ln
    ]
    result = run(VALIDATE, "--root", project)
    assert result.returncode == 1
    reported = [
        int(m.group(1))
        for m in re.finditer(
            rf"^data/studies/{NEW_ID}\.yaml:(\d+):\d+: error: \S+: TODO placeholder: fill in ",
            result.stdout,
            re.MULTILINE,
        )
    ]
    assert sorted(reported) == todo_lines
    # A TODO where a number belongs is reported as a placeholder, not also as a type error.
    assert "expected an integer" not in result.stdout


def test_condition_and_design_are_prefilled(project: Path) -> None:
    result = run(NEW_STUDY, NEW_KEY, "--root", project, "--condition", "ptsd", "--design", "rct")
    assert result.returncode == 0, result.stderr
    data = yaml.safe_load((project / "data" / "studies" / f"{NEW_ID}.yaml").read_text("utf-8"))
    assert (data["condition"], data["design"]) == ("ptsd", "rct")


def test_taken_id_gets_a_letter(project: Path) -> None:
    first = run(NEW_STUDY, "feder2014", "--root", project)
    assert first.returncode == 0
    assert "Wrote data/studies/feder-2014b.yaml" in first.stdout
    assert "data/studies/feder-2014.yaml also lists feder2014" in first.stderr
    second = run(NEW_STUDY, "feder2014", "--root", project)
    assert "Wrote data/studies/feder-2014c.yaml" in second.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["feder2041"],
            "new_study.py: error: 'feder2041' is not in references.bib; did you mean 'feder2021'?",
        ),
        (
            ["nobody1900"],
            "new_study.py: error: 'nobody1900' is not in references.bib; "
            "add its BibTeX entry to references.bib first",
        ),
        (
            [NEW_KEY, "--id", "feder-2014"],
            "new_study.py: error: data/studies/feder-2014.yaml already exists; "
            "it was left unchanged",
        ),
        ([NEW_KEY, "--id", "Odegard2025"], "new_study.py: error: id 'Odegard2025' has the wrong"),
        # re.search would let "$" match before the newline and create "zed-2015\n.yaml".
        ([NEW_KEY, "--id", "zed-2015\n"], "new_study.py: error: id 'zed-2015\\n' has the wrong"),
        (
            [NEW_KEY, "--id", "zed-2015\n::error file=x::forged"],
            "new_study.py: error: id 'zed-2015\\n::error file=x::forged' has the wrong",
        ),
        (
            [NEW_KEY, "--design", "randomised-crossover"],
            "new_study.py: error: --design 'randomised-crossover' is not in "
            "data/vocabularies/designs.yaml (did you mean 'randomized-crossover'?)",
        ),
    ],
    ids=[
        "unknown_key",
        "unknown_key_no_match",
        "existing_file",
        "bad_id",
        "id_trailing_newline",
        "id_workflow_command",
        "unknown_design",
    ],
)
def test_refusals_change_nothing(project: Path, args: list[str], message: str) -> None:
    before = snapshot(project)
    result = run(NEW_STUDY, *args, "--root", project)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message)
    assert snapshot(project) == before


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Ødegård", "odegard"),
        ("Müller-Lüdenscheidt", "muller-ludenscheidt"),
        ("O'Brien", "obrien"),
        ("van der Berg", "van-der-berg"),
        ("Straße", "strasse"),
        ("Łukasz", "lukasz"),
        ("Nguyễn", "nguyen"),
    ],
)
def test_ascii_slug_transliterates(name: str, slug: str) -> None:
    assert ascii_slug(name) == slug


def test_base_id_from_bibtex_and_free_id() -> None:
    bib, problems = parse_bibtex_bytes(NEW_ENTRY.read_bytes(), "new_entry.bib")
    assert problems == []
    entry = bib.get(NEW_KEY)
    assert entry is not None
    assert base_id(entry) == NEW_ID
    assert free_id("feder-2014", ["feder-2014", "Feder-2014b"]) == "feder-2014c"
    assert free_id("mills-1998", ["feder-2014"]) == "mills-1998"


def test_scaffold_follows_schema_changes() -> None:
    schema = json.loads((ROOT / "data" / "schema" / "study.schema.json").read_text("utf-8"))
    schema["required"].append("follow_up")
    schema["properties"]["result"]["required"].append("extra")
    schema["properties"]["result"]["properties"]["extra"] = {"type": "integer"}
    text = scaffold_record(schema, ScaffoldInput("smith-2020", "smith2020", TODAY))
    data = yaml.safe_load(text)
    assert data["follow_up"] == "TODO"
    assert data["result"]["extra"] == "TODO"
    assert _required_paths(schema, schema, data, "") == []


def test_scaffold_quotes_keys_that_are_not_plain() -> None:
    schema = json.loads((ROOT / "data" / "schema" / "study.schema.json").read_text("utf-8"))
    text = scaffold_record(schema, ScaffoldInput("smith-2020", "smith:2020#a", TODAY))
    data = yaml.safe_load(text)
    assert data["references"] == ["smith:2020#a"]
    assert data["provenance"][0]["source"] == "smith:2020#a"


def test_refuses_a_studies_folder_symlinked_outside(project: Path, tmp_path: Path) -> None:
    """A symlinked ``data/studies/`` would put the new record outside the repository."""
    outside = tmp_path / "outside"
    outside.mkdir()
    studies = project / "data" / "studies"
    moved = project / "data" / "studies-real"
    studies.rename(moved)
    studies.symlink_to(outside, target_is_directory=True)
    result = run(NEW_STUDY, NEW_KEY, "--id", "odegard-2025", "--root", project)
    assert result.returncode == 1, result.stdout
    assert result.stderr.strip() == (
        "new_study.py: error: data/studies is a symlink or resolves outside the project; "
        "refusing to write there"
    )
    assert list(outside.iterdir()) == []


def test_refuses_a_symlink_at_the_record_name(project: Path, tmp_path: Path) -> None:
    """A dangling symlink at ``<id>.yaml`` is not followed to create a file elsewhere."""
    target = tmp_path / "elsewhere.yaml"
    (project / "data" / "studies" / "odegard-2025.yaml").symlink_to(target)
    result = run(NEW_STUDY, NEW_KEY, "--id", "odegard-2025", "--root", project)
    assert result.returncode == 1
    assert "already exists" in result.stderr
    assert not target.exists()
