"""Problems found in the review's inputs, and the one way they are printed.

Every check in the library reports a :class:`Problem` instead of raising, so that one run can
collect every problem in every file. The build and ``scripts/validate.py`` print the same lines.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in one input file.

    Attributes:
        path: File path, relative to the project root where possible (``data/studies/x.yaml``).
        line: 1-based line number, or ``None`` when unknown.
        column: 1-based column number, or ``None`` when unknown.
        field: Dotted field path inside the file (``outcomes[0].measure``), or ``""`` for the
            whole file.
        message: What is wrong and, where there is a list, which values are allowed.
        severity: ``error`` (the build fails) or ``warning`` (printed; a strict build fails).
    """

    path: str
    line: int | None
    column: int | None
    field: str
    message: str
    severity: str = "error"

    def format(self) -> str:
        """Return the problem as ``path:line:col: error: field: message``."""
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        field = f"{self.field}: " if self.field else ""
        return f"{where}: {self.severity}: {field}{self.message}"

    def github_annotation(self) -> str:
        """Return the problem as a GitHub Actions ``::error`` workflow command."""
        props = [f"file={_escape_property(self.path)}"]
        if self.line is not None:
            props.append(f"line={self.line}")
            if self.column is not None:
                props.append(f"col={self.column}")
        field = f"{self.field}: " if self.field else ""
        return f"::{self.severity} {','.join(props)}::{_escape_data(field + self.message)}"


class ProblemsFound(Exception):
    """Raised by high-level entry points when inputs have problems.

    Attributes:
        problems: Every problem found, sorted by file and position.
    """

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems), key=_sort_key)
        super().__init__(f"{len(self.problems)} problem(s) in the review's inputs")

    def report(self) -> str:
        """Return one line per problem."""
        return "\n".join(p.format() for p in self.problems)


def sort_problems(problems: list[Problem]) -> list[Problem]:
    """Return problems without duplicates, ordered by file, line and column."""
    return sorted(set(problems), key=_sort_key)


def relative_path(path: Path | str, root: Path | str) -> str:
    """Return ``path`` relative to ``root`` with forward slashes, or as given if outside it."""
    try:
        rel = os.path.relpath(Path(path).resolve(), Path(root).resolve())
    except ValueError:
        return str(path)
    if rel.startswith(".."):
        return str(path)
    return rel.replace(os.sep, "/")


def _sort_key(p: Problem) -> tuple[str, int, int, str, str]:
    return (p.path, p.line or 0, p.column or 0, p.field, p.message)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
