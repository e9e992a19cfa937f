r"""Bad input is rejected cleanly: one line per problem, with its position and field.

Each case is a folder ``tests/fixtures/bad_input/<case>/`` that mirrors the project layout
and holds only the files that differ from the real project. The test copies the real project
with ``project_copy(site=True)`` and lays the case over the copy:

* every file in the case folder replaces (or adds) the file at the same relative path, byte
  for byte, so a fixture can hold Latin-1 bytes, NUL bytes or nothing at all;
* a file named ``<name>.delete`` removes ``<name>`` from the copy (its content is ignored);
* a file named ``<name>.symlink`` makes ``<name>`` a symlink to the path the file holds
  (``/dev/zero``, a file outside the project, or its own name for a loop), and
  ``<name>.fifo`` makes ``<name>`` a named pipe, so that cases can hold what git cannot;
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
import os
import resource
import shutil
import socket
import subprocess
import sys
import time
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
SYMLINK_SUFFIX = ".symlink"
FIFO_SUFFIX = ".fifo"
#: Suffixes of fixture files that stand for something other than their content.
SPECIAL_SUFFIXES = (DELETE_SUFFIX, SYMLINK_SUFFIX, FIFO_SUFFIX)

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
            _strip_special(_project_path(p, folder)) for p in folder.rglob("*") if p.is_file()
        )

    @property
    def stage(self) -> str:
        """``pages`` for cases in ``docs/`` (checked only once the data load), else ``data``."""
        return "pages" if any(f.startswith("docs/") for f in self.files) else "data"


def _strip_special(path: str) -> str:
    """Return the project path a fixture file acts on (without ``.delete``, ``.symlink``...)."""
    for suffix in SPECIAL_SUFFIXES:
        if path.endswith(suffix):
            return path[: -len(suffix)]
    return path


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
    # --- issue 12: user text in messages cannot forge lines (workflow commands, ANSI, bidi) -
    _case(
        "record_key_workflow_command",
        "data/studies/abdallah-2022.yaml:70:1: error: x\\n::error file=README.md,line=1::forged"
        "\\x1b[31m: unknown field 'x\\n::error file=README.md,line=1::forged\\x1b[31m'",
    ),
    _case(
        "record_value_ansi_bidi",
        "data/studies/almeida-2024.yaml:2:5: error: id: text 'almeida-2024\\x1b[2J\\u202e\\u2066' "
        "has the wrong form",
    ),
    _case(
        "record_file_name_workflow_command",
        "data/studies/zed-2020\\n::error file=README.md::forged.yaml:2:5: error: id: id 'zed-2020' "
        "must equal the file name 'zed-2020\\n::error file=README.md::forged'",
    ),
    # --- issue 12: symlinks and files that are not regular files ----------------------------
    _case(
        "record_symlink_outside",
        "data/studies/outside-2020.yaml: error: a symlink leads outside the project; refusing "
        "to read it",
    ),
    _case(
        "record_symlink_dev_zero",
        "data/studies/zero-2020.yaml: error: a symlink leads outside the project; refusing to "
        "read it",
    ),
    _case("record_symlink_loop", "data/studies/loop-2020.yaml: error: symlink loop"),
    _case(
        "record_fifo",
        "data/studies/fifo-2020.yaml: error: not a regular file (a FIFO); refusing to read it",
    ),
    _case(
        "versions_fifo",
        "data/versions.yaml: error: not a regular file (a FIFO); refusing to read it",
    ),
    _case(
        "prisma_symlink_dev_zero",
        "data/prisma.yaml: error: a symlink leads outside the project; refusing to read it",
    ),
    _case("glossary_symlink_loop", "data/glossary.yaml: error: symlink loop"),
    _case(
        "docs_symlink_outside",
        "docs/leak.txt: error: a symlink leads outside the project; refusing to read it",
        solo="a refused file in docs/ stops the build before pages are read",
    ),
    _case(
        "bib_symlink_dev_zero",
        f"{BIB}: error: a symlink leads outside the project; refusing to read it",
        solo="without references.bib every reference key is unknown",
    ),
    # --- issue 12: size, depth and count limits ---------------------------------------------
    _case(
        "record_nesting_deep",
        "data/studies/keeler-2021.yaml:35:30: error: deep[0][0]",
        "nested more than 24 levels deep",
    ),
    _case(
        "record_integer_digits",
        "data/studies/calabrese-2022.yaml:13:6: error: participants.n: number has 5000 digits; "
        "at most 18 are allowed",
    ),
    _case(
        "record_too_many_items",
        "data/studies/keeler-2023.yaml:48:3: error: notes: list has 60000 items; at most 1000 "
        "are allowed",
    ),
    _case(
        "record_notes_over_schema_limit",
        "data/studies/timek-2024.yaml:39:3: error: notes: list has 51 items; at most 50 are "
        "allowed",
    ),
    _case(
        "record_text_too_long",
        "data/studies/mion-2017.yaml:5:10: error: summary: text is 6000 characters long; at "
        "most 5000 are allowed",
    ),
    _case(
        "bib_crossref_chain_deep",
        f"{BIB}:346: error: chain8.crossref: crossref chain is deeper than 8 entries",
    ),
    _case(
        "bib_string_macro_bomb",
        f"{BIB}:5: error: @string m4: value is over 10000 characters (after @string expansion)",
    ),
    _case(
        "bib_title_too_long",
        f"{BIB}:290: error: long2020.title: value is over 10000 characters",
    ),
    # --- issue 12: numbers no figure can draw -----------------------------------------------
    _case(
        "record_ci_infinite",
        "data/studies/borgogna-2024.yaml:30:17: error: outcomes[0].effect.ci_lower: number "
        "-1e400 is too large to be used; write a finite number",
    ),
    _case(
        "record_ci_huge",
        f"{F21}:34:17: error: outcomes[0].effect.ci_upper: number 1e+308 is implausibly large; "
        "at most 1,000,000 in size",
    ),
    _case(
        "record_rr_ci_tiny",
        "data/studies/du-2022.yaml:31:17: error: outcomes[0].effect.ci_lower: number 1e-12 is "
        "implausible for this measure; expected 0.0001 to 10000",
    ),
    _case(
        "record_age_infinite",
        "data/studies/dechant-2020.yaml:19:22: error: participants.age_years.value: number "
        "1e400 is too large to be used",
    ),
    # --- issue 12: patterns match in full; blank text ---------------------------------------
    _case(
        "record_id_trailing_newline",
        "data/studies/mcghee-2008.yaml:2:5: error: id: text 'mcghee-2008\\n' has the wrong form",
    ),
    _case(
        "record_summary_blank",
        "data/studies/ross-2019.yaml:5:10: error: summary: text is blank; write the text or "
        "remove the field",
    ),
    _case(
        "version_trailing_newline",
        "data/versions.yaml:5:14: error: versions[0].version: text '0.1.0\\n' has the wrong form",
    ),
    # --- issue 12: input that used to end in a traceback ------------------------------------
    _case(
        "record_escape_byte",
        "data/studies/ragnhildstveit-2021.yaml:11:9: error: file contains U+001B, a control "
        "character YAML does not allow; remove it",
    ),
    _case(
        "record_noncharacter_fffe",
        "data/studies/ragnhildstveit-2022.yaml:11:13: error: file contains U+FFFE, a "
        "noncharacter YAML does not allow; remove it",
    ),
    _case(
        "schema_missing",
        "data/schema/study.schema.json: error: schema file is missing or unreadable",
        solo="without the study schema no record is checked",
    ),
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
        "page_claim_stale",
        "docs/about.md:3:33: error: claim: no study should match condition=eating-disorders "
        "diagnosis=AN, but 9 do: mills-1998,",
        'the text no longer holds: "no report in anorexia nervosa"',
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
        target = root / _strip_special(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() or target.is_symlink():
            target.unlink()
        if relative.endswith(SYMLINK_SUFFIX):
            target.symlink_to(source.read_text(encoding="utf-8").strip())
        elif relative.endswith(FIFO_SUFFIX):
            os.mkfifo(target)
        else:
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


# --- issue 12: what only an environment or GitHub Actions shows -----------------------------

_FORGING_CASES = (
    "record_key_workflow_command",
    "record_value_ansi_bidi",
    "record_file_name_workflow_command",
)


def test_annotations_cannot_be_forged_from_data(
    project_copy: Callable[..., Path], tmp_path: Path
) -> None:
    """Under GitHub Actions each problem is two lines, and only ours start with ``::``."""
    root = project_copy(site=True)
    for name in _FORGING_CASES:
        overlay(root, CASES_DIR / name)
    result = subprocess.run(
        [*VALIDATE, "--root", str(root)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "GITHUB_ACTIONS": "true"},
    )
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    annotations = [line for line in lines if line.startswith("::")]
    assert len(annotations) == len(lines) // 2 == 3, result.stdout
    for annotation in annotations:
        assert annotation.startswith("::error file=data/studies/"), annotation
    for line in lines:
        assert "\x1b" not in line and "\u202e" not in line and "\u2066" not in line, line


def test_unusable_source_date_epoch_is_one_line(
    project_copy: Callable[..., Path], tmp_path: Path
) -> None:
    """``SOURCE_DATE_EPOCH=99999999999999999`` used to end both commands in a traceback."""
    root = project_copy(site=True)
    env = {**os.environ, "SOURCE_DATE_EPOCH": "99999999999999999"}
    expected = "SOURCE_DATE_EPOCH: error: SOURCE_DATE_EPOCH '99999999999999999' is not a usable"
    for command in ([*VALIDATE, "--root", str(root)], [*MKDOCS_BUILD, "-d", str(tmp_path / "s")]):
        result = subprocess.run(
            command, cwd=root, capture_output=True, text=True, timeout=300, env=env
        )
        output = result.stdout + result.stderr
        assert result.returncode != 0, output
        assert "Traceback" not in output, output
        assert expected in output, output


def test_a_bug_in_the_validator_is_one_line_that_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Anything but a problem escaping the library is a bug: one line, exit status 2."""

    def broken(root: Path) -> None:
        raise RecursionError("maximum recursion depth exceeded\nwith a second line")

    monkeypatch.setattr(validate_script, "load_project", broken)
    status = validate_script.main(["--root", str(ROOT)])
    out = capsys.readouterr()
    assert status == 2
    assert out.out == ""
    lines = out.err.splitlines()
    assert len(lines) == 1, out.err
    assert lines[0].startswith(
        "internal error while validating the inputs: RecursionError: maximum recursion depth "
        "exceeded\\nwith a second line at test_bad_input.py:"
    )
    assert lines[0].endswith(
        "this is a bug in the review's build code, not in your input: please report it"
    )


#: The cases that cost the most before their limit: 60,000 list items, a 5,000-long crossref
#: chain, nine levels of @string macros, 1,200 nested lists and a 5,000-digit number.
_HEAVY_CASES = (
    "record_too_many_items",
    "bib_crossref_chain_deep",
    "bib_string_macro_bomb",
    "record_nesting_deep",
    "record_integer_digits",
)
#: Limits from the issue: 10 s and 1.5 GB. CPU time is measured, not wall time: the machine
#: is shared, and waiting for a core is not work done by the build.
_MAX_CPU_SECONDS = 10.0
_MAX_RSS_BYTES = 1536 * 1024 * 1024


def _measured(command: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], float, int]:
    """Run ``command`` in a child; return its result, CPU seconds and peak RSS in bytes."""

    def limit() -> None:  # the address-space cap makes a runaway fail fast instead of swap
        resource.setrlimit(resource.RLIMIT_AS, (2 * _MAX_RSS_BYTES, 2 * _MAX_RSS_BYTES))

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=120, preexec_fn=limit
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss is the largest child so far (KiB on Linux), not a delta: an upper bound.
    return result, cpu, after.ru_maxrss * 1024


@pytest.mark.parametrize("name", _HEAVY_CASES)
def test_heavy_cases_stay_within_time_and_memory(
    name: str, project_copy: Callable[..., Path], tmp_path: Path
) -> None:
    root = project_copy(site=True)
    overlay(root, CASES_DIR / name)
    for command in ([*VALIDATE, "--root", str(root)], [*MKDOCS_BUILD, "-d", str(tmp_path / "s")]):
        result, cpu, rss = _measured(command, root)
        output = result.stdout + result.stderr
        assert result.returncode == 1, output
        assert "Traceback" not in output, output
        assert cpu < _MAX_CPU_SECONDS, f"{command[1]}: {cpu:.1f} s of CPU"
        assert rss < _MAX_RSS_BYTES, f"{command[1]}: {rss / 2**20:.0f} MiB"


def _wait_for(log: Path, text: str, start: int, timeout: float = 90) -> int:
    """Wait until ``text`` appears in ``log`` after offset ``start``; return the new end."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = log.read_text(encoding="utf-8", errors="replace")
        found = content.find(text, start)
        if found >= 0:
            return found + len(text)
        time.sleep(0.5)
    pytest.fail(f"{text!r} not in the serve log:\n{log.read_text(errors='replace')[start:]}")


def test_serve_keeps_running_through_bad_input_and_recovers(
    project_copy: Callable[..., Path], tmp_path: Path
) -> None:
    """``mkdocs serve`` keeps running through bad input and recovers when it is fixed.

    A FIFO and a symlink loop: the rebuild fails with their lines, the server stays up, and
    removing them gives a clean build again.
    """
    root = project_copy(site=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path / "serve.log"
    with log.open("w", encoding="utf-8") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}"],
            cwd=root,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        offset = _wait_for(log, "Serving on", 0)
        studies = root / "data" / "studies"
        (studies / "loop-2020.yaml").symlink_to("loop-2020.yaml")
        os.mkfifo(studies / "fifo-2020.yaml")
        offset = _wait_for(log, "fifo-2020.yaml: error: not a regular file (a FIFO)", offset)
        assert server.poll() is None, "the server stopped"
        (studies / "loop-2020.yaml").unlink()
        (studies / "fifo-2020.yaml").unlink()
        _wait_for(log, "Documentation built", offset)
        assert server.poll() is None, "the server stopped"
        assert "Traceback" not in log.read_text(encoding="utf-8", errors="replace")
    finally:
        server.terminate()
        server.wait(timeout=30)
