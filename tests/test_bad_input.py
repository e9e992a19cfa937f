r"""Bad input is rejected cleanly: one line per problem, with its position and field.

Each case is a folder ``tests/fixtures/bad_input/<case>/`` that mirrors the project layout
and holds only the files that differ from the real project. The test copies the real project
with ``project_copy(site=True)`` and lays the case over the copy:

* every file in the case folder replaces (or adds) the file at the same relative path, byte
  for byte, so a fixture can hold Latin-1 bytes, NUL bytes or nothing at all;
* a file named ``<name>.delete`` removes ``<name>`` from the copy (its content is ignored);
* every path component is percent-decoded (:func:`urllib.parse.unquote`), so that names that
  git, editors or some file systems would mangle are stored in ASCII:
  ``feder%E2%80%8B-2014.yaml`` is ``feder\u200b-2014.yaml``, ``mu%CC%88ller-2020.yaml`` is
  the NFD spelling of ``müller-2020.yaml`` and ``%2E%2E.yaml`` is ``...yaml``.

Overlaid files are whole files (an edited copy of a real record, not a patch), so the line
numbers a case expects depend only on its fixture. Record cases are spread over four records
so that cases can share a build (below).

What is checked, for every case:

1. ``scripts/validate.py --root <copy>`` returns 1, raises nothing, and prints a line that
   starts with the case's expected ``path:line[:column]: error: field: message`` prefix and
   holds the case's other expected fragments (allowed values, a did-you-mean). This runs the
   script's ``main`` in this process, one case per copy.
2. Every file of the copy is byte-identical afterwards: validation and builds only read.
3. The strict build (``mkdocs build --strict``, the command of ``tests/test_build.py``) fails,
   its stderr holds exactly the validator's line, and it has no traceback. A build takes over
   a second, so cases share builds: :func:`build_groups` packs cases whose files do not
   overlap into one copy, and the group's test runs the real ``scripts/validate.py`` as a
   command (exit status 1, no traceback) next to the build and requires every member's line
   in both outputs, so a case hidden by another would fail the group. Cases that stop the
   build before other problems are looked for (a missing vocabulary, a page collision) are
   built alone.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from urllib.parse import unquote

import pytest
from conftest import FIXTURES, ROOT, snapshot

CASES_DIR = FIXTURES / "bad_input"
VALIDATE = [sys.executable, str(ROOT / "scripts" / "validate.py")]
#: Exactly the command of ``tests/test_build.py``: strict, never ``-q`` or ``-v``.
MKDOCS_BUILD = [sys.executable, "-m", "mkdocs", "build", "--strict"]
DELETE_SUFFIX = ".delete"

REC = "data/studies/feder-2014.yaml"
F21 = "data/studies/feder-2021.yaml"
MILLS = "data/studies/mills-1998.yaml"
ALBOTT = "data/studies/albott-2018.yaml"
BIB = "references.bib"


def _project_path(source: Path, folder: Path) -> str:
    """Return the project path a fixture file stands for (components percent-decoded)."""
    return "/".join(unquote(part) for part in source.relative_to(folder).parts)


@dataclass(frozen=True)
class Case:
    """One bad-input case.

    Attributes:
        name: Folder under ``tests/fixtures/bad_input/``.
        prefix: The start of the line the validator must print: ``path:line[:col]: error:
            field: message``.
        contains: Further fragments the same line must hold.
        solo: Why the case needs a build of its own (empty: it can share one).
    """

    name: str
    prefix: str
    contains: tuple[str, ...] = ()
    solo: str = ""

    @property
    def files(self) -> frozenset[str]:
        """Project paths the case adds, replaces or removes."""
        folder = CASES_DIR / self.name
        return frozenset(
            _project_path(p, folder).removesuffix(DELETE_SUFFIX)
            for p in folder.rglob("*")
            if p.is_file()
        )

    @property
    def stage(self) -> str:
        """``pages`` for cases in ``docs/`` (checked only once the data load), else ``data``."""
        return "pages" if any(f.startswith("docs/") for f in self.files) else "data"


def _case(name: str, prefix: str, *contains: str, solo: str = "") -> Case:
    return Case(name, prefix, contains, solo)


_NO_DESIGNS = "without a usable designs.yaml no record's design is checked"

CASES: tuple[Case, ...] = (
    # --- YAML syntax and typing -----------------------------------------------------------
    _case(
        "record_duplicate_key",
        f"{ALBOTT}:14:3: error: participants.n: duplicate key 'n' (first defined on line 13)",
    ),
    _case(
        "record_yaml11_boolean",
        f"{F21}:25:14: error: outcomes[0].primary: ambiguous value 'no': YAML 1.1 reads it as "
        "a boolean",
    ),
    _case(
        "record_yaml11_octal",
        f"{F21}:13:6: error: participants.n: ambiguous value '012': YAML 1.1 reads a leading "
        "zero as an octal number",
    ),
    _case(
        "record_yaml11_sexagesimal",
        f"{MILLS}:25:28: error: intervention.session_minutes.value: ambiguous value '10:00': "
        "YAML 1.1 reads it as a base-60 number",
    ),
    _case("record_alias_bomb", f"{MILLS}:71:7: error: lol1: YAML anchor '&a' is not allowed"),
    _case(
        "record_python_tag",
        f"{F21}:20:13: error: intervention.schedule: YAML tag "
        "'!!python/object/apply:os.system' is not allowed",
    ),
    _case(
        "record_custom_tag",
        f"{ALBOTT}:21:13: error: intervention.schedule: YAML tag '!include' is not allowed",
    ),
    _case(
        "record_tab_indent",
        f"{MILLS}:12:1: error: YAML syntax: tab character used for indentation; indent with spaces",
    ),
    _case("record_latin1", f"{F21}:10:27: error: file is not valid UTF-8 (byte 0xfc)"),
    _case("record_nul_byte", f"{ALBOTT}:10:24: error: file contains a NUL byte"),
    _case(
        "record_empty",
        "data/studies/pradhan-2017.yaml:1: error: file is empty; expected a mapping of fields",
    ),
    _case(
        "record_top_level_list",
        "data/studies/pradhan-2018.yaml:1:1: error: top level is a list; expected a mapping",
    ),
    _case(
        "record_several_documents",
        f"{MILLS}:71:1: error: YAML syntax: file holds several YAML documents",
    ),
    # --- shape and types --------------------------------------------------------------------
    _case(
        "record_unknown_field",
        f"{F21}:22:1: error: follow_upp: unknown field 'follow_upp' (did you mean "
        "'follow_up'?); allowed: added, adverse_events,",
    ),
    _case("record_missing_required", f"{ALBOTT}:2:1: error: comparator: required field is missing"),
    _case(
        "record_primary_without_n",
        f"{REC}:14:3: error: participants.n: required field is missing (primary studies must "
        "give n)",
    ),
    _case(
        "record_wrong_type",
        f"{REC}:14:6: error: participants.n: expected an integer, got text 'forty-one'",
    ),
    _case(
        "record_n_not_whole",
        f"{REC}:14:6: error: participants.n: expected an integer, got number 41.0",
    ),
    # --- impossible numbers -----------------------------------------------------------------
    _case(
        "record_not_a_number",
        f"{F21}:32:17: error: outcomes[0].effect.estimate: '.nan' is not a usable number",
    ),
    _case(
        "record_events_exceed_n",
        f"{MILLS}:40:42: error: outcomes[0].arms[0].events: events 12 exceed the arm's n 9",
    ),
    _case(
        "record_n_negative",
        f"{REC}:14:6: error: participants.n: number -3 is too small; must be at least 1",
    ),
    _case(
        "record_n_zero",
        f"{ALBOTT}:13:6: error: participants.n: number 0 is too small; must be at least 1",
    ),
    _case(
        "record_ci_reversed",
        f"{F21}:33:17: error: outcomes[0].effect.ci_lower: confidence interval is reversed: "
        "lower 1.91 > upper 0.36",
    ),
    _case(
        "record_percent_over_100",
        f"{F21}:41:35: error: outcomes[1].arms[0].percent: number 167 is too large; must be "
        "at most 100",
    ),
    _case(
        "record_sd_negative",
        f"{MILLS}:13:31: error: participants.age_years.sd: number -6.5 is too small; must be "
        "at least 0",
    ),
    _case(
        "record_range_reversed",
        f"{MILLS}:24:19: error: intervention.sessions.min: range is reversed: min 15 > max 2",
    ),
    # --- impossible dates -------------------------------------------------------------------
    _case(
        "record_date_impossible",
        f"{ALBOTT}:75:8: error: added: '2023-02-30' is not a real date (YYYY-MM-DD)",
    ),
    _case("record_date_future", f"{F21}:65:10: error: updated: date 2999-01-01 is in the future"),
    _case(
        "record_updated_before_added",
        f"{REC}:53:10: error: updated: updated date is before the added date",
    ),
    # --- ids --------------------------------------------------------------------------------
    _case(
        "record_id_not_file_name",
        f"{ALBOTT}:2:5: error: id: id 'albott-2019' must equal the file name 'albott-2018'",
    ),
    _case(
        "record_id_path_value",
        f"{REC}:2:5: error: id: text '../etc' has the wrong form: Lowercase "
        "<first-author-surname>-<year>",
    ),
    _case(
        "record_id_collision_case",
        "data/studies/Feder-2014.yaml:1: error: id: record id 'Feder-2014' collides with "
        "'data/studies/feder-2014.yaml' (ids must differ by more than case",
    ),
    _case(
        "record_id_collision_unicode_normalization",
        "data/studies/mu\u0308ller-2020.yaml:1: error: id: record id 'mu\\u0308ller-2020' "
        "collides with 'data/studies/m\\xfcller-2020.yaml' (ids must differ by more than case, "
        "Unicode normalization",
    ),
    _case(
        "record_id_collision_zero_width",
        "data/studies/feder\u200b-2014.yaml:1: error: id: record id 'feder\\u200b-2014' collides "
        "with 'data/studies/feder-2014.yaml' (ids must differ by more than case, Unicode "
        "normalization or invisible characters)",
    ),
    _case(
        "record_id_dotdot_file",
        "data/studies/...yaml:2:5: error: id: text '..' has the wrong form: Lowercase",
    ),
    _case(
        "record_id_in_subfolder",
        "data/studies/a: error: unexpected folder; records are YAML files named <id>.yaml "
        "directly in data/studies/",
    ),
    # --- cross-checks -----------------------------------------------------------------------
    _case(
        "record_unknown_vocabulary_term",
        f"{ALBOTT}:18:12: error: intervention.routes[0]: 'intravenous' is not in "
        "vocabularies/routes.yaml",
        "; allowed: iv, im, intranasal, oral, sublingual, not-reported",
    ),
    _case(
        "record_unknown_reference_key",
        f"{MILLS}:53:14: error: references[0]: unknown reference key 'mils1998' (not in "
        "references.bib)",
        "; did you mean 'mills1998'?",
    ),
    _case(
        "record_diagnosis_of_other_condition",
        f"{REC}:17:13: error: diagnoses[0]: diagnosis 'AN-R' belongs to condition "
        "'eating-disorders', not 'ptsd'",
    ),
    _case(
        "record_url_javascript",
        f"{REC}:39:6: error: url: text 'javascript:alert(1)' has the wrong form",
        "https?://",
    ),
    _case(
        "trial_registry_id_mismatch",
        "data/trials/nct04714541.yaml:3:14: error: registry_id: registry_id 'NCT04714542' does "
        "not match id 'nct04714541'",
    ),
    _case(
        "trial_unknown_status",
        "data/trials/nct04714541.yaml:8:9: error: status: 'paused' is not in "
        "vocabularies/trial_statuses.yaml",
        "; allowed: not-yet-recruiting, recruiting,",
    ),
    # --- vocabularies and glossary ----------------------------------------------------------
    _case(
        "vocabulary_duplicate_term",
        "data/vocabularies/designs.yaml:31:9: error: terms[6].id: duplicate term 'Case-Series' "
        "(also terms[5])",
    ),
    _case(
        "vocabulary_missing_file",
        "data/vocabularies/designs.yaml: error: required vocabulary file is missing",
        solo=_NO_DESIGNS,
    ),
    _case(
        "vocabulary_name_not_file_name",
        "data/vocabularies/designs.yaml:4:7: error: name: vocabulary name 'design' must equal "
        "the file name 'designs'",
        solo=_NO_DESIGNS,
    ),
    _case(
        "glossary_duplicate_abbreviation",
        "data/glossary.yaml:11:11: error: terms[3].abbr: abbreviation 'AN' is defined twice",
    ),
    # --- references.bib ---------------------------------------------------------------------
    _case(
        "bib_unbalanced_braces",
        f"{BIB}:135: error: feder2014: could not parse this @article block",
        "check for unbalanced braces",
    ),
    _case(
        "bib_duplicate_key",
        f"{BIB}:147: error: feder2014: duplicate key 'feder2014': already defined at line 135",
    ),
    _case(
        "bib_duplicate_key_differing_in_case",
        f"{BIB}:147: error: Feder2014: duplicate key 'Feder2014': 'feder2014' at line 135 "
        "differs only in case",
    ),
    _case(
        "bib_duplicate_field",
        f"{BIB}:135: error: feder2014.year: field 'year' is given 2 times (lines 139, 140)",
    ),
    _case(
        "bib_undefined_macro",
        f"{BIB}:135: error: feder2014.journal: undefined @string macro 'jamapsych'",
    ),
    _case(
        "bib_missing_crossref_target",
        f"{BIB}:135: error: feder2014.crossref: crossref target 'jamapsychiatry2014' is not in "
        "the bibliography",
    ),
    _case("bib_latin1", f"{BIB}:136:155: error: file is not valid UTF-8: byte 0xfc"),
    _case("bib_nul_byte", f"{BIB}:144:17: error: file contains a NUL byte (0x00)"),
    _case("bib_missing_title", f"{BIB}:135: error: feder2014.title: missing field: title"),
    _case("bib_missing_year", f"{BIB}:135: error: feder2014.year: missing field: year"),
    _case("bib_missing_author", f"{BIB}:135: error: feder2014.author: missing field: author"),
    # --- Markdown pages ---------------------------------------------------------------------
    _case(
        "page_unknown_citation_key",
        "docs/about.md:4:15: error: citation: unknown citation key 'feder2104' (not in "
        "references.bib); did you mean 'feder2014'?",
    ),
    _case(
        "page_unknown_citation_key_after_front_matter",
        "docs/contributing.md:7:8: error: citation: unknown citation key 'mils1998' (not in "
        "references.bib); did you mean 'mills1998'?",
    ),
    _case(
        "page_unknown_marker",
        "docs/methods.md:3:11: error: marker: unknown marker '[[count bogus]]'",
    ),
    _case(
        "page_bad_marker_filter",
        "docs/trials.md:3:11: error: marker: bad filter 'colour=red' in marker; allowed: "
        "condition=<id>, design=<id>, kind=<id>, group=<id>",
    ),
    _case(
        "page_unknown_filter_value",
        "docs/outcome-measures.md:3:1: error: marker: unknown condition 'ptds' in marker; "
        "allowed: eating-disorders, ptsd",
    ),
    _case(
        "page_collides_with_generated_page",
        "docs/studies/feder-2014.md:1: error: this page collides with the generated page "
        "'studies/feder-2014.md'",
        solo="a collision stops the build before pages are read",
    ),
    _case(
        "page_latin1",
        "docs/eating-disorders.md:3:13: error: file is not valid UTF-8 (byte 0xfc)",
    ),
    _case(
        "page_nul_byte",
        "docs/ptsd.md:3:7: error: file contains a NUL byte",
    ),
    # --- data/versions.yaml (releases) ----------------------------------------------------
    _case(
        "versions_malformed_entry",
        "data/versions.yaml:6:18: error: versions[0].conclusions: text 'maybe' is not allowed",
        "allowed: changed, unchanged",
    ),
    _case(
        "versions_snapshot_study_without_record",
        "data/versions.yaml:11:9: error: versions[0].snapshot.studies: study 'ghost-2020' has no "
        "record in data/studies/ and is not listed under removed",
    ),
    _case(
        "versions_version_goes_backwards",
        "data/versions.yaml:6:14: error: versions[1].version: version 0.2.0 is greater than "
        "0.1.1 above it",
    ),
)


@dataclass(frozen=True)
class Group:
    """Cases checked by one strict build."""

    name: str
    cases: tuple[Case, ...]


def build_groups(cases: tuple[Case, ...]) -> tuple[Group, ...]:
    """Pack cases into builds: same stage, no shared file, solo cases alone (first fit)."""
    packed: list[list[Case]] = []
    for case in cases:
        for group in packed:
            if (
                not case.solo
                and not group[0].solo
                and group[0].stage == case.stage
                and all(other.files.isdisjoint(case.files) for other in group)
            ):
                group.append(case)
                break
        else:
            packed.append([case])
    return tuple(
        Group(
            f"{group[0].stage}-{i:02d}-"
            + (group[0].name if len(group) == 1 else f"{len(group)}-cases"),
            tuple(group),
        )
        for i, group in enumerate(packed, start=1)
    )


GROUPS = build_groups(CASES)


def overlay(root: Path, case_dir: Path) -> None:
    """Lay the files of ``case_dir`` over the project copy at ``root`` (see module docstring)."""
    for source in sorted(case_dir.rglob("*")):
        if source.is_dir():
            continue
        relative = _project_path(source, case_dir)
        if relative.endswith(DELETE_SUFFIX):
            target = root / relative[: -len(DELETE_SUFFIX)]
            assert target.is_file(), f"{case_dir.name}: nothing to delete at {target}"
            target.unlink()
            continue
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def expected_line(output: str, case: Case) -> str | None:
    """Return the first line of ``output`` with the case's prefix and fragments, if any."""
    for line in output.splitlines():
        if line.startswith(case.prefix) and all(f in line for f in case.contains):
            return line
    return None


def _load_validate_script() -> ModuleType:
    """Import ``scripts/validate.py`` by path (a module named ``validate`` may exist elsewhere)."""
    spec = importlib.util.spec_from_file_location(
        "validate_script", ROOT / "scripts" / "validate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


validate_script = _load_validate_script()


def run_validate_and_build(
    root: Path, site_dir: Path
) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    """Run ``scripts/validate.py`` and a strict build of ``root``, side by side."""
    commands = (
        [*VALIDATE, "--root", str(root)],
        [*MKDOCS_BUILD, "--site-dir", str(site_dir)],
    )
    with ThreadPoolExecutor(max_workers=2) as pool:
        validate, build = pool.map(
            lambda command: subprocess.run(
                command, cwd=root, capture_output=True, text=True, timeout=300
            ),
            commands,
        )
    return validate, build


def test_every_fixture_folder_is_a_case() -> None:
    folders = sorted(p.name for p in CASES_DIR.iterdir() if p.is_dir())
    assert folders == sorted(c.name for c in CASES)
    assert len(CASES) >= 40
    assert all(case.files for case in CASES)


def test_every_case_is_built_exactly_once() -> None:
    built = [case.name for group in GROUPS for case in group.cases]
    assert sorted(built) == sorted(c.name for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_validator_rejects_case(
    case: Case,
    project_copy: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = project_copy(site=True)
    overlay(root, CASES_DIR / case.name)
    before = snapshot(root)
    monkeypatch.chdir(root)  # a command run by a YAML tag would write here, into the snapshot

    status = validate_script.main(["--root", str(root)])  # an exception fails the test

    out = capsys.readouterr()
    assert status == 1, out.out + out.err
    assert expected_line(out.out, case), f"no line starts with {case.prefix!r}:\n{out.out}"
    assert snapshot(root) == before


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: g.name)
def test_strict_build_rejects_cases(
    group: Group, project_copy: Callable[..., Path], tmp_path: Path
) -> None:
    root = project_copy(site=True)
    for case in group.cases:
        overlay(root, CASES_DIR / case.name)
    before = snapshot(root)

    validate, build = run_validate_and_build(root, tmp_path / "site")

    # The validator as a command: status 1, no traceback, every member's line.
    output = validate.stdout + validate.stderr
    assert "Traceback" not in output, output
    assert validate.returncode == 1, output
    lines = {case.name: expected_line(validate.stdout, case) for case in group.cases}
    hidden = [name for name, line in lines.items() if line is None]
    assert not hidden, f"cases hidden in this group: {hidden}\n{validate.stdout}"
    # Nothing was written into the inputs (the python/object tag would have made PWNED).
    assert snapshot(root) == before
    assert not (root / "PWNED").exists()

    # The strict build: fails, with the validator's very lines and no traceback.
    missing = [line for line in lines.values() if line not in build.stderr]
    assert build.returncode != 0, build.stderr
    assert "Traceback" not in build.stderr, build.stderr
    assert not missing, f"not in the build's output: {missing}\n{build.stderr}"
