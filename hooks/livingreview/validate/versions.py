"""The review's released versions: data/versions.yaml loaded and checked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..errors import Problem, relative_path
from ..load import load_yaml
from ..model import VERSIONS_FILE, Version
from .checks import today
from .schema import schema_problems, schema_validator


def load_versions(root: Path) -> tuple[list[Version], list[Problem]]:
    """Load ``data/versions.yaml`` and check it against ``data/schema/versions.schema.json``.

    Beyond the schema, each date must be a real date, not in the future, each version must be
    listed once, and the list must run newest first (by date).

    Args:
        root: Project root (holds ``data/``).

    Returns:
        The versions in file order (empty when the file is missing or has a problem), and every
        problem with the file's path, line and column.
    """
    root = Path(root)
    path = root / VERSIONS_FILE
    rel = relative_path(path, root)
    if not path.is_file():
        return [], []
    doc, problems = load_yaml(path, root)
    if doc is None or problems:
        return [], problems
    schema = root / "data" / "schema" / "versions.schema.json"
    if not schema.is_file():
        msg = f"schema {relative_path(schema, root)} not found; cannot check this file"
        return [], [Problem(rel, None, None, "", msg)]
    if schema_problems(doc, schema_validator(root, "versions"), problems):
        return [], problems
    versions: list[Version] = []
    seen: dict[str, int] = {}
    previous: dt.date | None = None
    for i, raw in enumerate(doc.data["versions"]):
        where = f"versions[{i}]"
        line, col = doc.position(("versions", i, "date"))
        try:
            day = dt.date.fromisoformat(raw["date"])
        except ValueError:
            msg = f"'{raw['date']}' is not a real date (YYYY-MM-DD)"
            problems.append(Problem(doc.path, line, col, f"{where}.date", msg))
            continue
        if day > today():
            msg = f"date {raw['date']} is in the future"
            problems.append(Problem(doc.path, line, col, f"{where}.date", msg))
        elif previous is not None and day > previous:
            msg = f"date {raw['date']} is newer than the version above it; list newest first"
            problems.append(Problem(doc.path, line, col, f"{where}.date", msg))
        previous = day
        if raw["version"] in seen:
            vline, vcol = doc.position(("versions", i, "version"))
            msg = (
                f"version {raw['version']} is listed twice (also versions[{seen[raw['version']]}])"
            )
            problems.append(Problem(doc.path, vline, vcol, f"{where}.version", msg))
            continue
        seen[raw["version"]] = i
        versions.append(Version(raw["version"], raw["date"], raw["summary"]))
    if problems:
        return [], problems
    return versions, []
