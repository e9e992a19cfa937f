"""What the build knows about the review's history: git availability, version, dates.

The per-page "last updated" dates come from git through mkdocs-git-revision-date-localized-
plugin. Where there is no git history (a tarball, a copied fixture), that plugin would fall
back to the wall-clock time, which makes two builds of the same sources differ; the adapter
switches it off instead, and pages show the records' own dates.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from collections.abc import Mapping
from pathlib import Path

from .model import Catalog
from .releases import read_citation


def has_git_history(root: Path) -> bool:
    """Return True when ``root`` is inside a git work tree with at least one commit."""
    if shutil.which("git") is None:
        return False
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--verify", "--quiet", "HEAD"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        inside = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    if result.returncode != 0 or inside.returncode != 0:
        return False
    # A fixture copied under a temporary directory inside some other repository must not
    # borrow that repository's history.
    return Path(inside.stdout.strip()).resolve() == Path(root).resolve()


def review_version(root: Path) -> str:
    """Return the review's version from ``CITATION.cff``, else ``pyproject.toml``, else ``""``.

    The one place the version is read: the site (footer, ``[[review version]]``) and the PDF
    both call it. Both files are read with a parser and the version is kept as the text
    written, so ``version: 1.10`` is ``"1.10"`` here, on the site and on the PDF cover alike.
    """
    version = read_citation(root).version
    if version:
        return version
    path = Path(root) / "pyproject.toml"
    try:
        project = tomllib.loads(path.read_text(encoding="utf-8")).get("project", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return ""
    value = project.get("version") if isinstance(project, dict) else None
    return value.strip() if isinstance(value, str) else ""


def env_epoch(environ: Mapping[str, str] | None = None) -> int | None:
    """Return ``SOURCE_DATE_EPOCH`` as whole seconds, or ``None`` when it is not set.

    The one reader of the variable: the validator's "today", the PDF's dates and the scaffold
    all go through it, so they agree on what a valid value is.

    Raises:
        ValueError: The variable is set but is not a whole number of seconds.
    """
    env = os.environ if environ is None else environ
    value = env.get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        return None
    # Whole seconds that are a real date (year 9999 at most): no bigger time stamp converts.
    # isdigit() alone also accepts digits such as "²".
    if not (value.isascii() and value.isdigit()) or int(value) > 253402300799:
        raise ValueError(f"SOURCE_DATE_EPOCH must be whole seconds since 1970, not {value!r}")
    return int(value)


def last_updated(catalog: Catalog) -> str:
    """Return the newest ``updated`` date of any record (YYYY-MM-DD), or ``""``."""
    dates = [s.updated for s in catalog.studies] + [t.updated for t in catalog.trials]
    return max(dates, default="")
