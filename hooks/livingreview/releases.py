"""Releases of the living review (PRISMA-LSR): versions, snapshots, what changed, how to cite.

``data/versions.yaml`` holds, newest first, every released version with its date, what
triggered it and whether the conclusions changed, and (for versions cut with
``scripts/release.py``) a *snapshot*: every study id with a hash of its record and the PRISMA
counts at that version. What changed between two versions is computed from their snapshots,
so it needs no git history and survives a fresh clone. The file also holds the living-mode
plan (PRISMA-LSR item L1: search schedule, triggers, retirement, last search) and the studies
removed from the review, each with a date and a reason.

Record hashes are taken over the record's parsed data (canonical JSON), not its bytes, so a
comment or a re-indentation is not reported as an update.

Everything here is a pure function of validated inputs except :func:`load_release_log` and
:func:`record_hashes`, which belong to the load stage.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from .errors import Problem, relative_path
from .load import Document, FieldPath, format_field, load_yaml
from .model import Catalog
from .validate import _schema_problems, schema_validator, today

VERSIONS_FILE = "data/versions.yaml"
CITATION_FILE = "CITATION.cff"
ZENODO_FILE = ".zenodo.json"
#: Hex digits of SHA-256 kept per record: enough to tell versions of one record apart.
HASH_DIGITS = 16
#: PRISMA counts kept in a snapshot, in the order tables show them, with their headings.
PRISMA_COUNTS = (
    ("identified", "Identified"),
    ("screened", "Screened"),
    ("assessed", "Assessed"),
    ("studies", "Studies"),
    ("reports", "Reports"),
    ("ongoing_trials", "Ongoing trials"),
)
CONCLUSIONS = ("changed", "unchanged")
_SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")


@dataclass(frozen=True)
class StudyState:
    """One study as a snapshot records it."""

    condition: str
    sha256: str


@dataclass(frozen=True)
class Snapshot:
    """What the review held at one version: studies by id, and the PRISMA counts."""

    studies: Mapping[str, StudyState]
    prisma: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Release:
    """One released version, as recorded in ``data/versions.yaml``.

    Attributes:
        version: ``MAJOR.MINOR.PATCH``.
        date: Release date, ``YYYY-MM-DD``.
        trigger: What triggered the version (``""`` when an old entry did not record it).
        conclusions: ``changed``, ``unchanged`` or ``""`` (not recorded).
        summary: Free text, or ``""``.
        snapshot: What the review held, or ``None`` for versions cut before snapshots.
    """

    version: str
    date: str
    trigger: str = ""
    conclusions: str = ""
    summary: str = ""
    snapshot: Snapshot | None = None


@dataclass(frozen=True)
class Removal:
    """A study taken out of the review."""

    id: str
    date: str
    reason: str


@dataclass(frozen=True)
class LivingMode:
    """Living-mode parameters (PRISMA-LSR item L1)."""

    status: str
    basis: str
    search_schedule: str
    triggers: str
    retirement: str
    last_searched: str
    search_method: str = ""


@dataclass(frozen=True)
class ReleaseLog:
    """Everything ``data/versions.yaml`` says, validated."""

    releases: tuple[Release, ...] = ()
    living: LivingMode | None = None
    removed: tuple[Removal, ...] = ()

    @property
    def current(self) -> Release | None:
        """The newest release, or ``None``."""
        return self.releases[0] if self.releases else None

    def removal(self, study_id: str) -> Removal | None:
        """Return the removal of a study, if it was removed."""
        return next((r for r in self.removed if r.id == study_id), None)


@dataclass(frozen=True)
class Diff:
    """Studies added, updated and removed between two snapshots (ids, sorted)."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.updated or self.removed)


# --- versions ------------------------------------------------------------------------------


def version_key(version: str) -> tuple[int, int, int]:
    """Return a ``MAJOR.MINOR.PATCH`` version as a tuple that sorts by precedence."""
    match = _SEMVER.match(version)
    if not match:
        raise ValueError(f"'{version}' is not MAJOR.MINOR.PATCH")
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


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
    if not path.is_file():
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
    if _schema_problems(doc, schema_validator(root, "versions"), problems):
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


# --- snapshots and differences -------------------------------------------------------------


def record_hash(data: Any) -> str:
    """Return the hash of a record's parsed data (comments and layout do not count)."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_DIGITS]


def record_hashes(root: Path, catalog: Catalog) -> dict[str, str]:
    """Return the hash of every study record by id (load stage: the files are cached)."""
    out: dict[str, str] = {}
    for study in catalog.studies:
        doc, _ = load_yaml(Path(root) / study.path, Path(root))
        out[study.id] = record_hash(doc.data if doc is not None else None)
    return out


def prisma_counts(prisma: Any, catalog: Catalog) -> dict[str, int]:
    """Return the snapshot's PRISMA counts from the flow (``figures.Prisma``), if any."""
    if prisma is None:
        return {"studies": len(catalog.studies)}
    db, other, included = prisma.databases_registers, prisma.other_methods, prisma.included
    counts = {
        "identified": db.databases + db.registers + sum(s.count for s in other.sources),
        "screened": db.screened,
        "assessed": db.assessed + other.assessed,
        "studies": included.studies,
        "reports": included.reports,
    }
    if included.ongoing_trials is not None:
        counts["ongoing_trials"] = included.ongoing_trials
    return counts


def current_snapshot(catalog: Catalog, hashes: Mapping[str, str], prisma: Any) -> Snapshot:
    """Return what the review holds now, in snapshot form."""
    studies = {
        s.id: StudyState(s.condition, hashes[s.id])
        for s in sorted(catalog.studies, key=lambda s: s.id)
    }
    return Snapshot(MappingProxyType(studies), MappingProxyType(prisma_counts(prisma, catalog)))


def diff(old: Snapshot, new: Snapshot) -> Diff:
    """Return the studies added, updated (hash differs) and removed from ``old`` to ``new``."""
    return Diff(
        added=tuple(sorted(set(new.studies) - set(old.studies))),
        updated=tuple(
            sorted(
                sid
                for sid in set(new.studies) & set(old.studies)
                if new.studies[sid].sha256 != old.studies[sid].sha256
            )
        ),
        removed=tuple(sorted(set(old.studies) - set(new.studies))),
    )


def for_condition(d: Diff, condition: str, *snapshots: Snapshot) -> Diff:
    """Keep only the studies of one condition (looked up in the given snapshots)."""

    def keep(sid: str) -> bool:
        return any(sid in s.studies and s.studies[sid].condition == condition for s in snapshots)

    return Diff(
        tuple(filter(keep, d.added)), tuple(filter(keep, d.updated)), tuple(filter(keep, d.removed))
    )


@dataclass(frozen=True)
class VersionChanges:
    """What one version changed, for the What's new page and the feed.

    Attributes:
        release: The version.
        diff: Changes since the previous version, or ``None`` when they cannot be computed
            (this version or the one before it recorded no snapshot).
        previous: The version before it, or ``None`` for the first.
    """

    release: Release
    diff: Diff | None
    previous: Release | None


def version_changes(log: ReleaseLog) -> list[VersionChanges]:
    """Return, newest first, what each released version changed."""
    out = []
    releases = log.releases
    for i, release in enumerate(releases):
        previous = releases[i + 1] if i + 1 < len(releases) else None
        d: Diff | None = None
        if release.snapshot is not None:
            if previous is None:
                d = Diff(added=tuple(release.snapshot.studies))
            elif previous.snapshot is not None:
                d = diff(previous.snapshot, release.snapshot)
        out.append(VersionChanges(release, d, previous))
    return out


def unreleased(log: ReleaseLog, now: Snapshot) -> Diff | None:
    """Return changes since the newest version, or ``None`` when it has no snapshot."""
    current = log.current
    if current is None or current.snapshot is None:
        return None
    return diff(current.snapshot, now)


# --- citation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Citation:
    """What ``CITATION.cff`` says, every value kept as the text written (``1.10`` stays)."""

    title: str = ""
    authors: tuple[str, ...] = ()
    version: str = ""
    date_released: str = ""
    doi: str = ""
    url: str = ""

    def text(self) -> str:
        """Return the suggested citation as plain text."""
        parts = [", ".join(self.authors) or "Anonymous", self.title or "Untitled review"]
        if self.version:
            parts.append(f"Version {self.version}")
        if self.date_released:
            parts.append(self.date_released)
        out = ". ".join(p.rstrip(".") for p in parts) + "."
        if self.doi:
            out += f" doi:{self.doi}"
        elif self.url:
            out += f" {self.url}"
        return out

    @property
    def doi_url(self) -> str:
        """The DOI as a resolver URL, or ``""``."""
        return f"https://doi.org/{self.doi}" if self.doi else ""


def read_citation(root: Path) -> Citation:
    """Read ``CITATION.cff`` with a YAML parser, keeping every scalar as its text.

    This is the one place the review's version is read: ``version: 1.10`` is ``"1.10"``, not
    the number 1.1. A missing or unparsable file gives an empty :class:`Citation`.
    """
    data = cff_data(root)
    authors = tuple(_author(a) for a in data.get("authors") or [] if isinstance(a, dict))
    return Citation(
        title=_text(data.get("title")),
        authors=tuple(a for a in authors if a),
        version=_text(data.get("version")),
        date_released=_text(data.get("date-released")),
        doi=_text(data.get("doi")),
        url=_text(data.get("url") or data.get("repository-code")),
    )


def cff_data(root: Path) -> dict[str, Any]:
    """Return ``CITATION.cff`` as dicts, lists and strings (no YAML typing), or ``{}``."""
    path = Path(root) / CITATION_FILE
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    data = _plain(node)
    return data if isinstance(data, dict) else {}


def _plain(node: yaml.Node | None) -> Any:
    """Return a composed YAML node as dicts, lists and strings (scalars untyped)."""
    if isinstance(node, yaml.MappingNode):
        return {_text(_plain(k)): _plain(v) for k, v in node.value}
    if isinstance(node, yaml.SequenceNode):
        return [_plain(v) for v in node.value]
    if isinstance(node, yaml.ScalarNode):
        return node.value
    return None


def _text(value: Any) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _author(author: Mapping[str, Any]) -> str:
    if author.get("name"):
        return _text(author["name"])
    parts = [author.get("given-names"), author.get("name-particle"), author.get("family-names")]
    return " ".join(_text(p) for p in parts if _text(p))


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
