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
numbers a case expects depend only on its fixture.

For every case, all of:

1. ``scripts/validate.py --root <copy>`` exits 1, prints no traceback, and prints a line that
   starts with the case's expected ``path:line[:column]: error: field: message`` prefix (and
   holds the case's other expected fragments: allowed values, a did-you-mean);
2. every file of the copy is byte-identical afterwards (validation and build only read);
3. the strict build (``mkdocs build --strict``, as in ``tests/test_build.py``) fails, its
   stderr holds exactly that line, and it has no traceback.

The validator and the build of one case run at the same time (two processes), which keeps
the module at about one build's time per case.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest
from conftest import FIXTURES, ROOT, snapshot

CASES_DIR = FIXTURES / "bad_input"
VALIDATE = [sys.executable, str(ROOT / "scripts" / "validate.py")]
#: Exactly the command of ``tests/test_build.py``: strict, never ``-q`` or ``-v``.
MKDOCS_BUILD = [sys.executable, "-m", "mkdocs", "build", "--strict"]
DELETE_SUFFIX = ".delete"

REC = "data/studies/feder-2014.yaml"
BIB = "references.bib"
PAGE = "docs/about.md"


@dataclass(frozen=True)
class Case:
    """One bad-input case.

    Attributes:
        name: Folder under ``tests/fixtures/bad_input/``.
        prefix: The start of the line the validator must print: ``path:line[:col]: error:
            field: message``.
        contains: Further fragments the same line must hold.
        build_bug: When set, the strict build is known to fail this case uncleanly (outside
            the files this suite may fix); the build check is then an expected failure, and
            the test fails as soon as the build gets it right, so the note gets removed.
    """

    name: str
    prefix: str
    contains: tuple[str, ...] = ()
    build_bug: str = ""


def _case(name: str, prefix: str, *contains: str, build_bug: str = "") -> Case:
    return Case(name, prefix, contains, build_bug)


_PAGE_READ_BUG = (
    "hooks/mkdocs_hooks.py on_nav reads hand-written pages with File.content_string, which "
    "raises on invalid UTF-8 and lets NUL bytes through; it should read them with "
    "livingreview.load.read_text and report its problems"
)

CASES: tuple[Case, ...] = (
    # --- YAML syntax and typing -----------------------------------------------------------
    _case(
        "record_duplicate_key",
        f"{REC}:15:3: error: participants.n: duplicate key 'n' (first defined on line 14)",
    ),
    _case(
        "record_yaml11_boolean",
        f"{REC}:29:14: error: outcomes[0].primary: ambiguous value 'no': YAML 1.1 reads it as "
        "a boolean",
    ),
    _case(
        "record_yaml11_octal",
        f"{REC}:14:6: error: participants.n: ambiguous value '012': YAML 1.1 reads a leading "
        "zero as an octal number",
    ),
    _case(
        "record_yaml11_sexagesimal",
        f"{REC}:23:28: error: intervention.session_minutes.value: ambiguous value '1:20': "
        "YAML 1.1 reads it as a base-60 number",
    ),
    _case("record_alias_bomb", f"{REC}:48:7: error: lol1: YAML anchor '&a' is not allowed"),
    _case(
        "record_python_tag",
        f"{REC}:24:13: error: intervention.schedule: YAML tag "
        "'!!python/object/apply:os.system' is not allowed",
    ),
    _case(
        "record_custom_tag",
        f"{REC}:24:13: error: intervention.schedule: YAML tag '!include' is not allowed",
    ),
    _case(
        "record_tab_indent",
        f"{REC}:14:1: error: YAML syntax: tab character used for indentation; indent with "
        "spaces",
    ),
    _case("record_latin1", f"{REC}:10:27: error: file is not valid UTF-8 (byte 0xfc)"),
    _case("record_nul_byte", f"{REC}:12:18: error: file contains a NUL byte"),
    _case("record_empty", f"{REC}:1: error: file is empty; expected a mapping of fields"),
    _case("record_top_level_list", f"{REC}:1:1: error: top level is a list"),
    _case(
        "record_several_documents",
        f"{REC}:53:1: error: YAML syntax: file holds several YAML documents",
    ),
    # --- shape and types --------------------------------------------------------------------
    _case(
        "record_unknown_field",
        f"{REC}:27:1: error: follow_upp: unknown field 'follow_upp' (did you mean "
        "'follow_up'?); allowed: added, adverse_events,",
    ),
    _case("record_missing_required", f"{REC}:2:1: error: comparator: required field is missing"),
    _case(
        "record_primary_without_n",
        f"{REC}:14:3: error: participants.n: required field is missing (primary studies must "
        "give n)",
    ),
    _case(
        "record_wrong_type",
        f"{REC}:14:6: error: participants.n: expected an integer, got text 'forty-one'",
    ),
    # --- impossible numbers -----------------------------------------------------------------
    _case(
        "record_events_exceed_n",
        f"{REC}:36:41: error: outcomes[0].arms[0].events: events 45 exceed the arm's n 41",
    ),
    _case(
        "record_n_negative",
        f"{REC}:14:6: error: participants.n: number -3 is too small; must be at least 1",
    ),
    _case(
        "record_n_zero",
        f"{REC}:14:6: error: participants.n: number 0 is too small; must be at least 1",
    ),
    _case(
        "record_ci_reversed",
        f"{REC}:35:51: error: outcomes[0].effect.ci_lower: confidence interval is reversed: "
        "lower -2 > upper -8",
    ),
    _case(
        "record_percent_over_100",
        f"{REC}:15:19: error: participants.female_percent: number 146 is too large; must be at "
        "most 100",
    ),
    _case(
        "record_sd_negative",
        f"{REC}:16:29: error: participants.age_years.sd: number -2 is too small; must be at "
        "least 0",
    ),
    _case(
        "record_range_reversed",
        f"{REC}:22:19: error: intervention.sessions.min: range is reversed: min 6 > max 2",
    ),
    # --- impossible dates -------------------------------------------------------------------
    _case(
        "record_date_impossible",
        f"{REC}:51:8: error: added: '2023-02-30' is not a real date (YYYY-MM-DD)",
    ),
    _case("record_date_future", f"{REC}:52:10: error: updated: date 2999-01-01 is in the future"),
    _case(
        "record_updated_before_added",
        f"{REC}:52:10: error: updated: updated date is before the added date",
    ),
    # --- ids --------------------------------------------------------------------------------
    _case(
        "record_id_not_file_name",
        f"{REC}:2:5: error: id: id 'feder-2015' must equal the file name 'feder-2014'",
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
        f"{REC}:20:12: error: intervention.routes[0]: 'intravenous' is not in "
        "vocabularies/routes.yaml",
        "; allowed: iv, im, intranasal, oral, sublingual, not-reported",
    ),
    _case(
        "record_unknown_reference_key",
        f"{REC}:39:14: error: references[0]: unknown reference key 'feder2104' (not in "
        "references.bib)",
        "did you mean 'feder2014'?",
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
    ),
    _case(
        "vocabulary_name_not_file_name",
        "data/vocabularies/designs.yaml:4:7: error: name: vocabulary name 'design' must equal "
        "the file name 'designs'",
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
        f"{PAGE}:4:15: error: citation: unknown citation key 'feder2104' (not in "
        "references.bib); did you mean 'feder2014'?",
    ),
    _case(
        "page_unknown_citation_key_after_front_matter",
        f"{PAGE}:7:8: error: citation: unknown citation key 'mils1998' (not in "
        "references.bib); did you mean 'mills1998'?",
    ),
    _case(
        "page_unknown_marker",
        f"{PAGE}:3:11: error: marker: unknown marker '[[count bogus]]'",
    ),
    _case(
        "page_bad_marker_filter",
        f"{PAGE}:3:11: error: marker: bad filter 'colour=red' in marker; allowed: "
        "condition=<id>, design=<id>, kind=<id>, group=<id>",
    ),
    _case(
        "page_unknown_filter_value",
        f"{PAGE}:3:1: error: marker: unknown condition 'ptds' in marker; allowed: "
        "eating-disorders, ptsd",
    ),
    _case(
        "page_collides_with_generated_page",
        "docs/studies/feder-2014.md:1: error: this page collides with the generated page "
        "'studies/feder-2014.md'",
    ),
    _case(
        "page_latin1",
        f"{PAGE}:3:13: error: file is not valid UTF-8 (byte 0xfc)",
        build_bug=_PAGE_READ_BUG,
    ),
    _case("page_nul_byte", f"{PAGE}:3:7: error: file contains a NUL byte", build_bug=_PAGE_READ_BUG),
)


def overlay(root: Path, case_dir: Path) -> None:
    """Lay the files of ``case_dir`` over the project copy at ``root`` (see module docstring)."""
    for source in sorted(case_dir.rglob("*")):
        if source.is_dir():
            continue
        relative = "/".join(unquote(part) for part in source.relative_to(case_dir).parts)
        if relative.endswith(DELETE_SUFFIX):
            target = root / relative[: -len(DELETE_SUFFIX)]
            assert target.is_file(), f"{case_dir.name}: nothing to delete at {target}"
            target.unlink()
            continue
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def run_validate_and_build(
    root: Path, site_dir: Path
) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    """Run ``scripts/validate.py`` and a strict build of ``root`` side by side."""
    commands = (
        ([*VALIDATE, "--root", str(root)], root),
        ([*MKDOCS_BUILD, "--site-dir", str(site_dir)], root),
    )
    with ThreadPoolExecutor(max_workers=2) as pool:
        validate, build = pool.map(
            lambda job: subprocess.run(
                job[0], cwd=job[1], capture_output=True, text=True, timeout=300
            ),
            commands,
        )
    return validate, build


def test_cases_match_fixture_folders() -> None:
    folders = sorted(p.name for p in CASES_DIR.iterdir() if p.is_dir())
    assert folders == sorted(c.name for c in CASES)
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bad_input_is_rejected_cleanly(
    case: Case, project_copy: Callable[..., Path], tmp_path: Path
) -> None:
    root = project_copy(site=True)
    overlay(root, CASES_DIR / case.name)
    before = snapshot(root)

    validate, build = run_validate_and_build(root, tmp_path / "site")

    # 1. The validator: exit status 1, no traceback, the expected line.
    output = validate.stdout + validate.stderr
    assert "Traceback" not in output, output
    assert validate.returncode == 1, output
    lines = [line for line in validate.stdout.splitlines() if line.startswith(case.prefix)]
    assert lines, f"no line starts with {case.prefix!r}:\n{validate.stdout}"
    line = lines[0]
    for fragment in case.contains:
        assert fragment in line, (fragment, line)

    # 2. Nothing was written into the inputs.
    assert snapshot(root) == before
    assert not (root / "PWNED").exists()

    # 3. The strict build fails with the same line and no traceback.
    clean = build.returncode != 0 and line in build.stderr and "Traceback" not in build.stderr
    if case.build_bug:
        if clean:
            pytest.fail(f"the build now rejects {case.name} cleanly; remove its build_bug note")
        pytest.xfail(case.build_bug)
    assert build.returncode != 0, build.stderr
    assert "Traceback" not in build.stderr, build.stderr
    assert line in build.stderr, f"{line!r} not in the build's output:\n{build.stderr}"
