"""Problems found in the review's inputs, and the one way they are printed.

Every check in the library reports a :class:`Problem` instead of raising, so that one run can
collect every problem in every file. The build and ``scripts/validate.py`` print the same lines.
"""

from __future__ import annotations

import os
import re
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any


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
        """Return the problem as ``path:line:col: error: field: message``, always one line.

        Paths, fields and messages quote user text (file names, keys, values), so every part
        goes through :func:`visible`: a newline, ANSI escape or bidi override in the text is
        shown escaped and cannot start a line of its own (a forged ``::error`` annotation)
        or disguise the line in a terminal.
        """
        where = visible(self.path)
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        field = f"{visible(self.field)}: " if self.field else ""
        return f"{where}: {self.severity}: {field}{visible(self.message)}"

    def github_annotation(self) -> str:
        """Return the problem as a GitHub Actions ``::error`` workflow command."""
        props = [f"file={_escape_property(visible(self.path))}"]
        if self.line is not None:
            props.append(f"line={self.line}")
            if self.column is not None:
                props.append(f"col={self.column}")
        field = f"{self.field}: " if self.field else ""
        text = visible(field + self.message)
        return f"::{self.severity} {','.join(props)}::{_escape_data(text)}"


def problem_to_json(problem: Problem) -> list[Any]:
    """Return a problem as a plain JSON list (for the cache across builds)."""
    return [
        problem.path,
        problem.line,
        problem.column,
        problem.field,
        problem.message,
        problem.severity,
    ]


def problem_from_json(data: Any) -> Problem:
    """Rebuild a problem from :func:`problem_to_json`.

    Raises:
        ValueError: ``data`` is not such a list.
    """
    path, line, column, field, message, severity = data
    if not (
        isinstance(path, str)
        and isinstance(field, str)
        and isinstance(message, str)
        and severity in ("error", "warning")
        and all(v is None or type(v) is int for v in (line, column))
    ):
        raise ValueError("not a stored problem")
    return Problem(path, line, column, field, message, severity)


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


def internal_error(exc: BaseException, during: str) -> str:
    """Return one line naming a bug in our code: what failed, where, and that it is a bug.

    Bad input is reported as :class:`Problem` lines; anything else that escapes the library is
    a bug, and a bare traceback would hide which step failed. The line names the step, the
    exception and the innermost frame of the library, with user text made :func:`visible`.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "livingreview" in f.filename or "hooks" in f.filename]
    frame = (ours or frames)[-1] if frames else None
    where = f" at {Path(frame.filename).name}:{frame.lineno} in {frame.name}" if frame else ""
    detail = str(exc)
    detail = detail if len(detail) <= 200 else detail[:197] + "..."
    return visible(
        f"internal error while {during}: {type(exc).__name__}: {detail}{where}; "
        "this is a bug in the review's build code, not in your input: please report it"
    )


def sort_problems(problems: list[Problem]) -> list[Problem]:
    """Return problems without duplicates, ordered by file, line and column."""
    return sorted(set(problems), key=_sort_key)


def relative_path(path: Path | str, root: Path | str) -> str:
    """Return ``path`` relative to ``root`` with forward slashes, or as given if outside it."""
    # The path as written first: a symlink inside the project is named by its own name, not
    # by where it points (which may be outside, or nowhere).
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
    if not rel.startswith(".."):
        return rel.replace(os.sep, "/")
    try:
        rel = os.path.relpath(Path(path).resolve(), Path(root).resolve())
    except (ValueError, RuntimeError, OSError):  # RuntimeError: a symlink loop (Python 3.11)
        return str(path)
    if rel.startswith(".."):
        return str(path)
    return rel.replace(os.sep, "/")


#: Characters never printed as they are: C0 and C1 controls (newlines, ESC of ANSI escapes,
#: DEL), the line and paragraph separators, bidi embeddings, overrides and isolates
#: (U+202A-U+202E, U+2066-U+2069, plus the marks U+200E/U+200F and U+061C), and the BOM.
_INVISIBLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\ufeff]"
)


def visible(text: str) -> str:
    r"""Return ``text`` with every control, line-break and bidi character escaped.

    ``"a\n::error::x"`` becomes ``a\\n::error::x`` (a backslash and ``n``), ESC becomes
    ``\x1b`` and U+202E becomes ``\u202e``, so that user text quoted in a problem keeps the
    problem on one line and reads the same in every terminal. A backslash is left as it is:
    only characters that change how a line prints are escaped.
    """
    return _INVISIBLE.sub(_escape_char, text)


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if char in named:
        return named[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _sort_key(p: Problem) -> tuple[str, int, int, str, str]:
    return (p.path, p.line or 0, p.column or 0, p.field, p.message)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
