"""Files under ``docs/``: every file MkDocs would read or publish must be a safe input."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import Problem
from ..load import check_input_path


def docs_files(docs_dir: Path) -> list[Path]:
    """Return every file under ``docs_dir`` as MkDocs finds them (following symlinked folders).

    A symlinked folder that loops back on itself is listed as the folder, so that the check
    reports it instead of walking it forever.
    """
    found: list[Path] = []
    for folder, dirs, files in os.walk(docs_dir, followlinks=False):
        base = Path(folder)
        found.extend(base / name for name in files)
        # Symlinked folders are not walked here; they are checked as inputs themselves.
        found.extend(base / name for name in dirs if (base / name).is_symlink())
    return sorted(found)


def check_docs_files(paths: list[Path], root: Path) -> list[Problem]:
    """Return one problem per file MkDocs would read or publish that is not a safe input.

    MkDocs copies every file under ``docs/`` into the site: a symlink to a file outside the
    project would publish it, and one to a FIFO or device would hang the build. Symlinks to
    folders inside the project are fine; everything else must be a regular file inside it.
    """
    problems: list[Problem] = []
    base = Path(root).resolve()
    for path in paths:
        if path.is_symlink() and path.is_dir():
            try:
                inside = path.resolve(strict=True).is_relative_to(base)
            except (OSError, RuntimeError):
                inside = False
            if inside:
                continue
        refused = check_input_path(path, root)
        if refused is not None:
            problems.append(refused)
    return problems
