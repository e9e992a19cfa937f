"""The review's released versions: ``data/versions.yaml`` loaded and checked.

The release log (versions newest first, snapshots, living-mode plan, removed studies) is
checked here on its own (:func:`load_release_log`) and against the record files and
``CITATION.cff`` (:func:`check_release_log`); :func:`load_versions` gives the short form the
What's new page lists.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..errors import Problem, relative_path
from ..load import Document, FieldPath, format_field, load_yaml
from ..model import (
    VERSIONS_FILE,
    LivingMode,
    Release,
    ReleaseLog,
    Removal,
    Snapshot,
    StudyState,
    Version,
    versions_from,
)
from ..releases import CITATION_FILE, read_citation, version_key
from .checks import today
from .schema import schema_problems, schema_validator


def load_versions(root: Path) -> tuple[list[Version], list[Problem]]:
    """Load ``data/versions.yaml`` (checked by :func:`load_release_log`).

    Args:
        root: Project root (holds ``data/``).

    Returns:
        The versions in file order (empty when the file is missing or has a problem), and every
        problem with the file's path, line and column.
    """
    log, problems = load_release_log(root)
    if log is None or problems:
        return [], problems
    return versions_from(log), []


def load_release_log(root: Path) -> tuple[ReleaseLog | None, list[Problem]]:
    """Load ``data/versions.yaml`` and check it on its own (no records needed).

    Beyond the schema: each date must be a real date, not in the future; each version is
    listed once, newest first by date, each greater than the version below it.

    Returns:
        The log (``None`` when the file has a problem; an empty log when it is missing) and
        every problem with the file's path, line and column.
    """
    root = Path(root)
    path = root / VERSIONS_FILE
    if not (path.exists() or path.is_symlink()):  # a FIFO or symlink there is reported
        return ReleaseLog(), []
    doc, problems = load_yaml(path, root)
    if doc is None or problems:
        return None, problems
    return parse_release_log(doc, root)


def parse_release_log(doc: Document, root: Path) -> tuple[ReleaseLog | None, list[Problem]]:
    """Check a parsed ``versions.yaml`` document and build the :class:`ReleaseLog`."""
    problems: list[Problem] = []
    schema = root / "data" / "schema" / "versions.schema.json"
    if not schema.is_file():
        msg = f"schema {relative_path(schema, root)} not found; cannot check this file"
        return None, [Problem(doc.path, None, None, "", msg)]
    if schema_problems(doc, schema_validator(root, "versions"), problems):
        return None, problems
    releases: list[Release] = []
    seen: dict[str, int] = {}
    previous: dt.date | None = None
    above: str | None = None
    for i, raw in enumerate(doc.data["versions"]):
        where = f"versions[{i}]"
        line, col = doc.position(("versions", i, "date"))
        day = _date(raw["date"], doc, ("versions", i, "date"), problems)
        misplaced = day is not None and previous is not None and day > previous
        if misplaced:
            msg = f"date {raw['date']} is newer than the version above it; list newest first"
            problems.append(Problem(doc.path, line, col, f"{where}.date", msg))
        previous = day or previous
        vline, vcol = doc.position(("versions", i, "version"))
        if raw["version"] in seen:
            first = seen[raw["version"]]
            msg = f"version {raw['version']} is listed twice (also versions[{first}])"
            problems.append(Problem(doc.path, vline, vcol, f"{where}.version", msg))
            continue
        seen[raw["version"]] = i
        # An entry already reported as out of date order is not reported twice.
        if not misplaced and above is not None and version_key(raw["version"]) > version_key(above):
            msg = (
                f"version {raw['version']} is greater than {above} above it; list newest first, "
                "each version greater than the one below it"
            )
            problems.append(Problem(doc.path, vline, vcol, f"{where}.version", msg))
        above = raw["version"]
        releases.append(_release(raw))
    living = None
    if "living" in doc.data:
        raw = doc.data["living"]
        _date(raw["last_searched"], doc, ("living", "last_searched"), problems)
        living = LivingMode(
            status=raw["status"],
            basis=raw["basis"],
            search_schedule=raw["search_schedule"],
            triggers=raw["triggers"],
            retirement=raw["retirement"],
            last_searched=raw["last_searched"],
            search_method=raw.get("search_method", ""),
        )
    removed: list[Removal] = []
    for i, raw in enumerate(doc.data.get("removed", [])):
        _date(raw["date"], doc, ("removed", i, "date"), problems)
        if any(r.id == raw["id"] for r in removed):
            line, col = doc.position(("removed", i, "id"))
            msg = f"study '{raw['id']}' is listed as removed twice"
            problems.append(Problem(doc.path, line, col, f"removed[{i}].id", msg))
        removed.append(Removal(raw["id"], raw["date"], raw["reason"]))
    if problems:
        return None, problems
    return ReleaseLog(tuple(releases), living, tuple(removed)), []


def _date(text: str, doc: Document, where: FieldPath, out: list[Problem]) -> dt.date | None:
    line, col = doc.position(where)
    name = format_field(where)
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        out.append(Problem(doc.path, line, col, name, f"'{text}' is not a real date (YYYY-MM-DD)"))
        return None
    if day > today():
        out.append(Problem(doc.path, line, col, name, f"date {text} is in the future"))
    return day


def _release(raw: Mapping[str, Any]) -> Release:
    snapshot = None
    if "snapshot" in raw:
        snap = raw["snapshot"]
        studies = {
            sid: StudyState(state["condition"], state["sha256"])
            for sid, state in sorted(snap["studies"].items())
        }
        snapshot = Snapshot(MappingProxyType(studies), MappingProxyType(dict(snap["prisma"])))
    return Release(
        version=raw["version"],
        date=raw["date"],
        trigger=raw.get("trigger", ""),
        conclusions=raw.get("conclusions", ""),
        summary=raw.get("summary", ""),
        snapshot=snapshot,
    )


def check_release_log(root: Path, log: ReleaseLog) -> list[Problem]:
    """Check ``data/versions.yaml`` against the record files and ``CITATION.cff``.

    Every study a snapshot names must have a record or be listed under ``removed``; a study
    listed under ``removed`` must have no record; ``CITATION.cff`` must name the newest version
    and its date. Records are the files in ``data/studies/`` (even ones with problems of
    their own), so this check runs, and reports, whatever state the records are in.
    """
    root = Path(root)
    problems: list[Problem] = []
    doc, _ = load_yaml(root / VERSIONS_FILE, root)
    if doc is None:
        return problems
    have = {p.stem for p in (root / "data" / "studies").glob("*.yaml")}
    removed = {r.id for r in log.removed}
    for i, release in enumerate(log.releases):
        if release.snapshot is None:
            continue
        for sid in release.snapshot.studies:
            if sid in have or sid in removed:
                continue
            where = ("versions", i, "snapshot", "studies", sid)
            line, col = doc.position(where, key=True)
            msg = (
                f"study '{sid}' has no record in data/studies/ and is not listed under removed; "
                "restore its record, or list it under removed with a date and a reason"
            )
            problems.append(Problem(doc.path, line, col, f"versions[{i}].snapshot.studies", msg))
    for i, removal in enumerate(log.removed):
        if removal.id in have:
            line, col = doc.position(("removed", i, "id"))
            msg = f"study '{removal.id}' is listed as removed but still has a record"
            problems.append(Problem(doc.path, line, col, f"removed[{i}].id", msg))
    problems.extend(_check_citation(root, log))
    return problems


def release_warnings(root: Path, log: ReleaseLog) -> list[Problem]:
    """Return warnings (not errors): a release cut without a search since the one before it."""
    if log.living is None or len(log.releases) < 2:
        return []
    newest, previous = log.releases[0], log.releases[1]
    if log.living.last_searched >= previous.date:
        return []
    doc, _ = load_yaml(Path(root) / VERSIONS_FILE, Path(root))
    line, col = doc.position(("living", "last_searched")) if doc else (None, None)
    msg = (
        f"the last search ({log.living.last_searched}) is older than version "
        f"{previous.version} ({previous.date}), yet version {newest.version} was released; "
        "search for new reports and set last_searched to the date of that search"
    )
    return [Problem(VERSIONS_FILE, line, col, "living.last_searched", msg, severity="warning")]


def _check_citation(root: Path, log: ReleaseLog) -> list[Problem]:
    path = Path(root) / CITATION_FILE
    current = log.current
    if current is None or not path.is_file():
        return []
    cff = read_citation(root)
    problems = []
    text = path.read_text(encoding="utf-8", errors="replace")
    for key, want, have in (
        ("version", current.version, cff.version),
        ("date-released", current.date, cff.date_released),
    ):
        if have != want:
            line = _key_line(text, key)
            msg = (
                f"'{have}' differs from the newest version in {VERSIONS_FILE} "
                f"({current.version} of {current.date}); cut releases with scripts/release.py"
            )
            problems.append(Problem(CITATION_FILE, line, 1 if line else None, key, msg))
    return problems


def _key_line(text: str, key: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"{re.escape(key)}\s*:", line):
            return number
    return None
