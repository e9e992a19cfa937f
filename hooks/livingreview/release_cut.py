"""Cut a release: validate, then write ``data/versions.yaml``, ``CITATION.cff``, ``.zenodo.json``.

:func:`plan_release` computes the new text of every file without writing anything, after
running the project's one validator; it refuses (returns problems) on any problem in the
inputs, on a version not greater than the newest one, or on a date before it.
:func:`write_all` then writes the files all or none. Edits are textual: the new version is
inserted above the newest one in ``versions.yaml`` and two lines of ``CITATION.cff`` are
replaced, so comments and layout elsewhere stay as they were.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import Problem, ProblemsFound, sort_problems
from .load import MAX_FILE_BYTES, load_yaml, parse_yaml
from .model import VERSIONS_FILE, Release, ReleaseLog, Snapshot
from .project import Project, check_docs, load_project
from .releases import CITATION_FILE, CONCLUSIONS, ZENODO_FILE, cff_data, version_key
from .validate.checks import today
from .validate.versions import parse_release_log, release_warnings

#: Where problems with the command's own arguments are reported.
ARGS = "release.py"
MAX_TRIGGER = 500


@dataclass(frozen=True)
class Plan:
    """The outcome of :func:`plan_release`.

    Attributes:
        files: New text of each file to write, by absolute path (empty when refused).
        problems: Why the release is refused (empty when it can go ahead).
        warnings: What the maintainer should know; they do not refuse the release.
        release: The new version (``None`` when refused).
    """

    files: Mapping[Path, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    release: Release | None = None


def validate_all(root: Path) -> tuple[Project | None, list[Problem]]:
    """Run the project's validator (what ``scripts/validate.py`` runs) on ``root``."""
    try:
        project = load_project(root)
    except ProblemsFound as exc:
        return None, exc.problems
    problems = check_docs(project, root / "docs") if (root / "docs").is_dir() else []
    return project, sort_problems(problems)


def _check_args(version: str, date: str, trigger: str, conclusions: str) -> list[Problem]:
    problems = []
    try:
        version_key(version)
    except ValueError:
        msg = f"'{_one_line(version)}' is not a version of the form MAJOR.MINOR.PATCH (0.2.0)"
        problems.append(Problem(ARGS, None, None, "VERSION", msg))
    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        msg = f"'{_one_line(date)}' is not a real date (YYYY-MM-DD)"
        problems.append(Problem(ARGS, None, None, "--date", msg))
    else:
        if len(date) != 10:
            msg = f"'{_one_line(date)}' is not a date of the form YYYY-MM-DD"
            problems.append(Problem(ARGS, None, None, "--date", msg))
        elif day > today():
            problems.append(Problem(ARGS, None, None, "--date", f"date {date} is in the future"))
    if not trigger.strip():
        problems.append(Problem(ARGS, None, None, "--trigger", "must not be empty"))
    elif len(trigger) > MAX_TRIGGER:
        msg = f"text is too long; at most {MAX_TRIGGER} characters"
        problems.append(Problem(ARGS, None, None, "--trigger", msg))
    if conclusions not in CONCLUSIONS:
        msg = f"'{_one_line(conclusions)}' is not allowed; allowed: {', '.join(CONCLUSIONS)}"
        problems.append(Problem(ARGS, None, None, "--conclusions", msg))
    return problems


def _one_line(text: str) -> str:
    shown = " ".join(text.split())
    return shown if len(shown) <= 60 else shown[:57] + "..."


def plan_release(
    root: Path, version: str, trigger: str, conclusions: str, date: str | None = None
) -> Plan:
    """Work out a release without writing anything.

    Args:
        root: Project root.
        version: The new version, ``MAJOR.MINOR.PATCH``, greater than the newest one.
        trigger: What triggered this version (one line is kept; whitespace is collapsed).
        conclusions: ``changed`` or ``unchanged``.
        date: Release date, ``YYYY-MM-DD`` (default: today, or ``SOURCE_DATE_EPOCH``'s date).
    """
    root = Path(root)
    date = date if date is not None else today().isoformat()
    trigger = " ".join(trigger.split())
    problems = _check_args(version, date, trigger, conclusions)
    project, found = validate_all(root)
    problems.extend(found)
    if problems or project is None:
        return Plan(problems=sort_problems(problems))
    log = project.release_log
    newest = log.current
    if newest is not None:
        if version_key(version) <= version_key(newest.version):
            msg = f"version {version} is not greater than the newest version, {newest.version}"
            problems.append(Problem(ARGS, None, None, "VERSION", msg))
        if date < newest.date:
            msg = f"date {date} is before {newest.date}, the date of version {newest.version}"
            problems.append(Problem(ARGS, None, None, "--date", msg))
    if problems:
        return Plan(problems=problems)
    release = Release(version, date, trigger, conclusions, "", project.snapshot())
    versions_text, found = _versions_text(root, release)
    if found:
        return Plan(problems=found)
    new_log = ReleaseLog((release, *log.releases), log.living, log.removed)
    files = {
        root / VERSIONS_FILE: versions_text,
        root / CITATION_FILE: _citation_text(root, release),
        root / ZENODO_FILE: zenodo_json(root, release),
    }
    return Plan(files=files, warnings=release_warnings(root, new_log), release=release)


# --- data/versions.yaml --------------------------------------------------------------------


def _q(text: str) -> str:
    """Return text as a YAML double-quoted scalar (JSON string escapes are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def entry_lines(release: Release, indent: str) -> list[str]:
    """Return the YAML lines of one ``versions`` item, starting with ``- version:``."""
    assert release.snapshot is not None
    pad = indent + "  "
    prisma = ", ".join(f"{k}: {v}" for k, v in release.snapshot.prisma.items())
    lines = [
        f"{indent}- version: {_q(release.version)}",
        f"{pad}date: {_q(release.date)}",
        f"{pad}trigger: {_q(release.trigger)}",
        f"{pad}conclusions: {release.conclusions}",
        f"{pad}# Written by scripts/release.py: what the review held at this version.",
        f"{pad}snapshot:",
        f"{pad}  prisma: {{{prisma}}}",
    ]
    if release.snapshot.studies:
        lines.append(f"{pad}  studies:")
        lines.extend(
            f"{pad}    {sid}: {{condition: {state.condition}, sha256: {state.sha256}}}"
            for sid, state in release.snapshot.studies.items()
        )
    else:
        lines.append(f"{pad}  studies: {{}}")
    return lines


def _versions_text(root: Path, release: Release) -> tuple[str, list[Problem]]:
    path = root / VERSIONS_FILE
    if not path.is_file():
        header = "# yaml-language-server: $schema=schema/versions.schema.json\n"
        text = header + "versions:\n" + "\n".join(entry_lines(release, "  ")) + "\n"
    else:
        old = path.read_text(encoding="utf-8")
        doc, problems = load_yaml(path, root)
        if doc is None or problems:
            return "", problems
        line, col = doc.position(("versions", 0))
        lines = old.splitlines(keepends=True)
        dash = (col or 1) - 3
        first = lines[(line or 1) - 1] if line else ""
        if line is None or dash < 0 or first[dash : dash + 2] != "- " or first[:dash].strip():
            msg = (
                "cannot add a version: write `versions` as a block list ('- version: ...' "
                "items, one per line)"
            )
            return "", [Problem(doc.path, line, col, "versions", msg)]
        start = line - 1
        # Comment lines directly above the newest item belong to it: insert above them.
        while start > 0 and lines[start - 1].strip().startswith("#"):
            if len(lines[start - 1]) - len(lines[start - 1].lstrip()) != dash:
                break
            start -= 1
        block = "".join(f"{ln}\n" for ln in entry_lines(release, " " * dash))
        text = "".join(lines[:start]) + block + "".join(lines[start:])
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        msg = (
            f"with this version the file would be {size} bytes; the loader's limit is "
            f"{MAX_FILE_BYTES} bytes"
        )
        return "", [Problem(VERSIONS_FILE, None, None, "versions", msg)]
    # The new text must load and name the new version first, with the same snapshot.
    doc, problems = parse_yaml(text, VERSIONS_FILE)
    if doc is None or problems:
        return "", problems
    log, problems = parse_release_log(doc, root)
    if log is None or problems:
        return "", problems
    if log.current != release:
        msg = "internal error: the written version does not read back as written"
        return "", [Problem(VERSIONS_FILE, None, None, "versions", msg)]
    return text, []


# --- CITATION.cff and .zenodo.json ---------------------------------------------------------


def _citation_text(root: Path, release: Release) -> str:
    path = root / CITATION_FILE
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    for key, value in (("version", release.version), ("date-released", release.date)):
        line = f"{key}: {_q(value)}"
        pattern = re.compile(rf"^{re.escape(key)}[ \t]*:.*$", re.MULTILINE)
        if pattern.search(text):
            text = pattern.sub(lambda _m, line=line: line, text, count=1)
        else:
            text = (text if not text or text.endswith("\n") else text + "\n") + line + "\n"
    return text


def _creator(author: Mapping[str, Any]) -> dict[str, str]:
    if author.get("name"):
        out = {"name": str(author["name"])}
    else:
        given = " ".join(str(author[k]) for k in ("given-names",) if isinstance(author.get(k), str))
        family = " ".join(
            str(author[k])
            for k in ("name-particle", "family-names")
            if isinstance(author.get(k), str)
        )
        out = {"name": f"{family}, {given}" if given else family}
    if isinstance(author.get("affiliation"), str):
        out["affiliation"] = author["affiliation"]
    orcid = author.get("orcid")
    if isinstance(orcid, str):
        out["orcid"] = orcid.rsplit("/", 1)[-1]
    return out


def zenodo_json(root: Path, release: Release) -> str:
    """Return ``.zenodo.json`` for a release, from ``CITATION.cff`` (Zenodo deposit metadata).

    Zenodo reads this file when a GitHub release is published and gives the deposit a DOI;
    it takes precedence over ``CITATION.cff`` there, so it carries the same title, creators,
    licence and keywords, plus the version, its date and what triggered it.
    """
    cff = cff_data(root)
    abstract = " ".join(str(cff.get("abstract") or "").split())
    conclusions = "changed" if release.conclusions == "changed" else "did not change"
    description = "".join(
        [
            f"<p>{html.escape(abstract)}</p>" if abstract else "",
            f"<p>Version {html.escape(release.version)} ({release.date}): "
            f"{html.escape(release.trigger)}. The review's conclusions {conclusions} "
            "in this version.</p>",
        ]
    )
    authors = [a for a in cff.get("authors") or [] if isinstance(a, dict)]
    related = []
    if isinstance(cff.get("repository-code"), str):
        related.append(
            {"identifier": cff["repository-code"], "relation": "isSupplementTo", "scheme": "url"}
        )
    if isinstance(cff.get("url"), str):
        related.append(
            {"identifier": cff["url"], "relation": "isAlternateIdentifier", "scheme": "url"}
        )
    if isinstance(cff.get("doi"), str):
        related.append({"identifier": cff["doi"], "relation": "isVersionOf", "scheme": "doi"})
    meta: dict[str, Any] = {
        "title": " ".join(str(cff.get("title") or "").split()),
        "version": release.version,
        "publication_date": release.date,
        "upload_type": "software" if cff.get("type") == "software" else "dataset",
        "description": description,
        "creators": [_creator(a) for a in authors],
        "access_right": "open",
        "license": str(cff.get("license") or "").lower(),
        "keywords": [str(k) for k in cff.get("keywords") or [] if isinstance(k, str)],
        "related_identifiers": related,
    }
    return json.dumps(meta, ensure_ascii=False, indent=2) + "\n"


# --- writing -------------------------------------------------------------------------------


def write_all(files: Mapping[Path, str]) -> None:
    """Write every file or none: temporary files first, then renames, undone on failure."""
    temps: dict[Path, Path] = {}
    originals: dict[Path, bytes | None] = {}
    try:
        for path, text in files.items():
            originals[path] = path.read_bytes() if path.exists() else None
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            if originals[path] is not None:
                os.chmod(name, path.stat().st_mode & 0o777)
            temps[path] = Path(name)
        done: list[Path] = []
        try:
            for path, temp in temps.items():
                os.replace(temp, path)
                done.append(path)
        except OSError:
            for path in done:
                original = originals[path]
                if original is None:
                    path.unlink(missing_ok=True)
                else:
                    path.write_bytes(original)
            raise
    finally:
        for temp in temps.values():
            temp.unlink(missing_ok=True)


__all__ = ["Plan", "Snapshot", "plan_release", "validate_all", "write_all", "zenodo_json"]
