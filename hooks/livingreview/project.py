"""The whole review as one object: bibliography, catalog, and what pages compute from them.

:func:`load_project` is the single entry point used by the MkDocs adapter and by
``scripts/validate.py``: one loader, one validator, one list of problems.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import changes, explorer, figures, findings, history, pages, release_views, releases
from .bibliography import Bibliography, load_bibliography
from .citations.masking import front_matter_end
from .citing import PageSource, check_keys
from .errors import Problem, ProblemsFound, relative_path, sort_problems
from .load import read_text
from .markers import CLAIM, FILTERS, Marker, expand_markers
from .model import (
    PRISMA_FILE,
    Catalog,
    Prisma,
    ReleaseLog,
    Snapshot,
    Study,
    Version,
    format_number,
    versions_from,
)
from .validate import check_prisma, load_catalog, load_prisma
from .validate.claims import claim_problem
from .validate.docs import check_docs_files, docs_files
from .validate.markers import marker_filter_problem
from .validate.versions import check_release_log, load_release_log, release_warnings


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
    prisma: Prisma | None = None
    versions: tuple[Version, ...] = ()
    #: ``data/versions.yaml`` in full: releases with snapshots, living mode, removals.
    release_log: ReleaseLog = field(default_factory=ReleaseLog)
    #: Hash of every study record by id (what a release snapshot records).
    record_hashes: Mapping[str, str] = field(default_factory=dict)
    #: Problems that do not stop the build by themselves (a strict build fails on them).
    warnings: tuple[Problem, ...] = ()

    def snapshot(self) -> Snapshot:
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
    if os.path.lexists(root / PRISMA_FILE):
        prisma, found = load_prisma(root, catalog)
        problems.extend(found)
        if prisma is not None and catalog is not None:
            problems.extend(check_prisma(prisma, catalog))
    log, found = load_release_log(root)
    problems.extend(found)
    if log is not None:
        problems.extend(check_release_log(root, log))
    if problems or catalog is None:
        raise ProblemsFound(problems)
    assert log is not None
    return Project(
        root=root,
        catalog=catalog,
        bibliography=bibliography,
        prisma=prisma,
        versions=tuple(versions_from(log)),
        release_log=log,
        record_hashes=releases.record_hashes(root, catalog),
        warnings=tuple(release_warnings(root, log)),
    )


#: Source path of the generated References page.
REFERENCES_SRC = "references.md"


def generated_sources(catalog: Catalog) -> list[str]:
    """Return the source paths of every page the build generates (they must stay free).

    The one list of generated pages: the build generates exactly these (see
    :meth:`.site.SiteBuild.generated_pages`) and the validator keeps hand-written pages off them.
    """
    return [pages.STUDIES_INDEX, REFERENCES_SRC, explorer.EXPLORER_SRC, changes.WHATS_NEW_SRC] + [
        pages.study_src(s.id) for s in catalog.studies
    ]


def split_front_matter(content: str) -> tuple[str, int]:
    """Return a page's Markdown without YAML front matter, and the lines removed."""
    end = front_matter_end(content)
    return content[end:], content.count("\n", 0, end)


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


@dataclass(frozen=True)
class MarkerContext:
    """What a marker handler may use: the review, and the page the marker is on."""

    project: Project
    page_src: str


#: ``[[count fewest-sessions ...]]`` and ``[[count most-sessions ...]]``: the range of doses
#: per person over the selected primary studies, from each record's ``sessions``.
SESSION_BOUNDS = ("fewest-sessions", "most-sessions")


def session_bound(catalog: Catalog, what: str, filters: dict[str, str]) -> str:
    """Return the fewest or most sessions any selected study gave, or "not reported"."""
    selected = dict(filters)
    selected.setdefault("kind", "primary")
    bounds: list[float] = []
    for study in catalog.select(**selected):
        q = study.sessions
        if q is None:
            continue
        bound = q.min if what == "fewest-sessions" else q.max
        bound = bound if bound is not None else q.value
        if bound is not None:
            bounds.append(bound)
    if not bounds:
        return "not reported"
    return format_number(min(bounds) if what == "fewest-sessions" else max(bounds))


def _count_marker(ctx: MarkerContext, marker: Marker) -> str | None:
    if marker.what in SESSION_BOUNDS:
        return session_bound(ctx.project.catalog, marker.what, marker.filters)
    value = count(ctx.project.catalog, marker.what, marker.filters)
    return None if value is None else str(value)


def _table_marker(ctx: MarkerContext, marker: Marker) -> str | None:
    catalog = ctx.project.catalog
    if marker.what == "characteristics":
        studies = select_studies(catalog, marker.filters)
        return pages.characteristics_table(studies, catalog, ctx.page_src)
    if marker.what == "trials":
        wanted = marker.filters.get("condition")
        trials = [t for t in catalog.trials if wanted in (None, t.condition)]
        return pages.trials_table(trials, catalog)
    if marker.what == "measures":
        return pages.measures_table(catalog, ctx.page_src)
    if marker.what == "safety":
        studies = select_studies(catalog, marker.filters)
        return pages.safety_table(studies, catalog, ctx.page_src)
    if marker.what == "findings":
        return findings.findings_table(catalog, marker.filters, ctx.page_src)
    return None


def _review_marker(ctx: MarkerContext, marker: Marker) -> str | None:
    if marker.what == "updated":
        return history.last_updated(ctx.project.catalog)
    if marker.what == "version":
        return history.review_version(ctx.project.root) or "unversioned"
    if marker.what == "last-searched":
        living = ctx.project.release_log.living
        return living.last_searched if living else "not recorded"
    if marker.what == "living-mode":
        return release_views.living_mode_markdown(ctx.project.release_log) or (
            "No living-mode plan is recorded in data/versions.yaml."
        )
    return None


def _figure_marker(ctx: MarkerContext, marker: Marker) -> str | None:
    return figures.render_figure(
        marker.what,
        ctx.project.catalog,
        marker.filters,
        ctx.page_src,
        prisma=ctx.project.prisma,
    )


def _claim_marker(ctx: MarkerContext, marker: Marker) -> str | None:
    # The text between the markers is the page's own; the markers themselves leave nothing.
    return ""


#: Marker kinds and their handlers: a handler returns the Markdown that replaces the marker,
#: or ``None`` when the marker's second word is unknown. A new marker kind is one entry here
#: (and a line in the README's list of markers).
MARKERS: dict[str, Callable[[MarkerContext, Marker], str | None]] = {
    "count": _count_marker,
    "table": _table_marker,
    "review": _review_marker,
    "figure": _figure_marker,
    CLAIM: _claim_marker,
}


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
    context = MarkerContext(project, page_src)
    problems: list[Problem] = []

    def expand(marker: Marker) -> str | None:
        if marker.kind == CLAIM:
            # Checked here, in the validation stage, so a stale claim has its page and line.
            stale = None if marker.closing else claim_problem(catalog, marker)
            if stale:
                problems.append(Problem(path, marker.line, marker.column, CLAIM, stale))
        bad = marker_filter_problem(catalog, marker)
        if bad:
            problems.append(Problem(path, marker.line, marker.column, "marker", bad))
            return ""
        if marker.kind == "figure" and marker.what == "prisma" and project.prisma is None:
            msg = f"[[figure prisma]] needs {PRISMA_FILE}, which does not exist"
            problems.append(Problem(path, marker.line, marker.column, "marker", msg))
            return ""
        handler = MARKERS.get(marker.kind)
        if handler is not None:
            return handler(context, marker)
        other = (extra or {}).get(marker.kind)
        if callable(other):
            return other(marker, page_src)
        return None

    text, found = expand_markers(markdown, path, expand, line_offset)
    return text, sort_problems(problems + found)


__all__ = ["FILTERS", "ProblemsFound", "Project", "count", "expand_page", "load_project"]
