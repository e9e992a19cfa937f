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

Everything here is a pure function of validated inputs except :func:`record_hashes` and
:func:`read_citation`, which belong to the load stage. The log is loaded and checked in
:mod:`.validate.versions` (:func:`~.validate.versions.load_release_log`); its data classes live
in :mod:`.model`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from .load import loaded_yaml
from .model import (
    Catalog,
    Release,
    ReleaseLog,
    Snapshot,
    StudyState,
)

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


# --- snapshots and differences -------------------------------------------------------------


def record_hash(data: Any) -> str:
    """Return the hash of a record's parsed data (comments and layout do not count)."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_DIGITS]


def record_hashes(root: Path, catalog: Catalog) -> dict[str, str]:
    """Return the hash of every study record by id, as loaded for the model."""
    out: dict[str, str] = {}
    for study in catalog.studies:
        doc = loaded_yaml(Path(root) / study.path, Path(root))
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
