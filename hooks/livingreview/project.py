"""The whole review as one object: bibliography, catalog, and what pages compute from them.

:func:`load_project` is the single entry point used by the MkDocs adapter and by
``scripts/validate.py``: one loader, one validator, one list of problems.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import changes, explorer, figures, history, pages, release_views, releases
from .bibliography import Bibliography, load_bibliography
from .citing import PageSource, check_keys
from .errors import Problem, ProblemsFound, relative_path, sort_problems
from .load import check_input_path, read_text
from .markers import FILTERS, Marker, expand_markers
from .model import Catalog, Study
from .validate import load_catalog

#: The same front-matter pattern MkDocs strips before ``on_page_markdown``.
_FRONT_MATTER = re.compile(r"^-{3}[ \t]*\n(.*?\n)(?:\.{3}|-{3})[ \t]*\n", re.DOTALL)


@dataclass(frozen=True)
class Project:
    """Validated inputs of the review.

    Attributes:
        root: Directory holding ``data/`` and ``references.bib``.
        catalog: Studies, trials and vocabularies.
        bibliography: Parsed ``references.bib``.
    """

    root: Path
    catalog: Catalog
    bibliography: Bibliography
    prisma: figures.Prisma | None = None
    versions: tuple[changes.Version, ...] = ()
    #: ``data/versions.yaml`` in full: releases with snapshots, living mode, removals.
    release_log: releases.ReleaseLog = field(default_factory=releases.ReleaseLog)
    #: Hash of every study record by id (what a release snapshot records).
    record_hashes: Mapping[str, str] = field(default_factory=dict)
    #: Problems that do not stop the build by themselves (a strict build fails on them).
    warnings: tuple[Problem, ...] = ()

    def snapshot(self) -> releases.Snapshot:
        """Return what the review holds now, in the form a release records."""
        return releases.current_snapshot(self.catalog, self.record_hashes, self.prisma)


def load_project(root: Path) -> Project:
    """Load and validate ``references.bib`` and ``data/`` under ``root``.

    Raises:
        ProblemsFound: With every problem found in any input file.
    """
    root = Path(root)
    bibliography, problems = load_bibliography(root / "references.bib", root)
    catalog, found = load_catalog(root, bibliography)
    problems.extend(found)
    prisma = None
    # The PRISMA flow is optional (a fixture may have none); when present its counts must
    # agree with the records, or the build fails.
    if os.path.lexists(root / figures.PRISMA_FILE):
        prisma, found = figures.load_prisma(root)
        problems.extend(found)
        if prisma is not None and catalog is not None:
            problems.extend(figures.check_prisma(prisma, catalog))
    if catalog is not None:
        problems.extend(figures.check_risk_of_bias(catalog))
    log, found = releases.load_release_log(root)
    problems.extend(found)
    if log is not None:
        problems.extend(releases.check_release_log(root, log))
    if problems or catalog is None:
        raise ProblemsFound(problems)
    assert log is not None
    return Project(
        root=root,
        catalog=catalog,
        bibliography=bibliography,
        prisma=prisma,
        versions=tuple(changes.versions_from(log)),
        release_log=log,
        record_hashes=releases.record_hashes(root, catalog),
        warnings=tuple(releases.release_warnings(root, log)),
    )


def generated_sources(catalog: Catalog) -> list[str]:
    """Return the source paths of every page the build generates (they must stay free)."""
    return [pages.STUDIES_INDEX, "references.md", explorer.EXPLORER_SRC, changes.WHATS_NEW_SRC] + [
        pages.study_src(s.id) for s in catalog.studies
    ]


def split_front_matter(content: str) -> tuple[str, int]:
    """Return a page's Markdown without YAML front matter, and the lines removed."""
    match = _FRONT_MATTER.match(content)
    if not match:
        return content, 0
    return content[match.end() :], content.count("\n", 0, match.end())


def check_docs(project: Project, docs_dir: Path) -> list[Problem]:
    """Check hand-written pages: markers, citation keys, and collisions with generated pages.

    Used by ``scripts/validate.py``; the build runs the same checks on the same functions.
    """
    problems: list[Problem] = check_docs_files(docs_files(docs_dir), project.root)
    refused = {p.path for p in problems}
    generated = set(generated_sources(project.catalog))
    for path in sorted(docs_dir.rglob("*.md")):
        if relative_path(path, project.root) in refused:
            continue
        src = path.relative_to(docs_dir).as_posix()
        rel = relative_path(path, project.root)
        if src in generated:
            msg = f"this page collides with the generated page '{src}'; rename or move it"
            problems.append(Problem(rel, 1, None, "", msg))
            continue
        text, found = read_text(path, project.root)
        problems.extend(found)
        if text is None:
            continue
        body, offset = split_front_matter(text)
        _, marker_problems = expand_page(project, body, src, rel, offset)
        problems.extend(marker_problems)
        problems.extend(check_keys(project.bibliography, PageSource(rel, body, offset)))
    return problems


def select_studies(catalog: Catalog, filters: dict[str, str]) -> list[Study]:
    """Return the studies a marker's filters select."""
    return catalog.select(**filters)


def _filter_problems(catalog: Catalog, marker: Marker) -> str | None:
    if marker.what == "trials":
        other = sorted(set(marker.filters) - {"condition"})
        if other:
            return f"trials can only be filtered by condition, not by {', '.join(other)}"
    vocab_for = {"condition": "conditions", "design": "designs"}
    for key, value in marker.filters.items():
        if key in vocab_for and value not in catalog.vocab(vocab_for[key]):
            allowed = ", ".join(catalog.vocab(vocab_for[key]).ids())
            return f"unknown {key} '{value}' in marker; allowed: {allowed}"
        if key == "kind" and value not in ("primary", "review"):
            return f"unknown kind '{value}' in marker; allowed: primary, review"
    return None


def count(catalog: Catalog, what: str, filters: dict[str, str]) -> int | None:
    """Compute a number for a ``[[count ...]]`` marker; ``None`` if ``what`` is unknown."""
    if what == "trials":
        wanted = filters.get("condition")
        return sum(1 for t in catalog.trials if wanted in (None, t.condition))
    if what == "participants":
        selected = dict(filters)
        selected.setdefault("kind", "primary")
        return sum(s.n or 0 for s in catalog.select(**selected))
    studies = catalog.select(**filters)
    if what == "studies":
        return len(studies)
    if what == "designs":
        return len({s.design for s in studies})
    if what == "conditions":
        return len({s.condition for s in studies})
    return None


def expand_page(
    project: Project,
    markdown: str,
    page_src: str,
    path: str,
    line_offset: int = 0,
    extra: dict[str, object] | None = None,
) -> tuple[str, list[Problem]]:
    """Expand every marker in one page.

    Args:
        project: The loaded review.
        markdown: Page source (after front matter).
        page_src: The page's path inside ``docs/`` (for relative links).
        path: The page's path as printed in problems (``docs/index.md``).
        line_offset: Lines of front matter before ``markdown``.
        extra: Additional expanders by marker kind (figures register here).
    """
    catalog = project.catalog
    problems: list[Problem] = []

    def expand(marker: Marker) -> str | None:
        bad = _filter_problems(catalog, marker)
        if bad:
            problems.append(Problem(path, marker.line, marker.column, "marker", bad))
            return ""
        if marker.kind == "count":
            value = count(catalog, marker.what, marker.filters)
            return None if value is None else str(value)
        if marker.kind == "table":
            if marker.what == "characteristics":
                studies = select_studies(catalog, marker.filters)
                return pages.characteristics_table(studies, catalog, page_src)
            if marker.what == "trials":
                wanted = marker.filters.get("condition")
                trials = [t for t in catalog.trials if wanted in (None, t.condition)]
                return pages.trials_table(trials, catalog)
            if marker.what == "measures":
                return pages.measures_table(catalog, page_src)
            if marker.what == "safety":
                studies = select_studies(catalog, marker.filters)
                return pages.safety_table(studies, catalog, page_src)
            return None
        if marker.kind == "review":
            if marker.what == "updated":
                return history.last_updated(catalog)
            if marker.what == "version":
                return history.review_version(project.root) or "unversioned"
            if marker.what == "last-searched":
                living = project.release_log.living
                return living.last_searched if living else "not recorded"
            if marker.what == "living-mode":
                return release_views.living_mode_markdown(project.release_log) or (
                    "No living-mode plan is recorded in data/versions.yaml."
                )
            return None
        if marker.kind == "figure":
            if marker.what == "prisma" and project.prisma is None:
                msg = f"[[figure prisma]] needs {figures.PRISMA_FILE}, which does not exist"
                problems.append(Problem(path, marker.line, marker.column, "marker", msg))
                return ""
            return figures.render_figure(
                marker.what, catalog, marker.filters, page_src, prisma=project.prisma
            )
        handler = (extra or {}).get(marker.kind)
        if callable(handler):
            return handler(marker, page_src)
        return None

    text, found = expand_markers(markdown, path, expand, line_offset)
    return text, sort_problems(problems + found)


__all__ = ["FILTERS", "ProblemsFound", "Project", "count", "expand_page", "load_project"]


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
