"""The whole review as one object: bibliography, catalog, and what pages compute from them.

:func:`load_project` is the single entry point used by the MkDocs adapter and by
``scripts/validate.py``: one loader, one validator, one list of problems.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import changes, explorer, figures, history, pages
from .bibliography import Bibliography, load_bibliography
from .citations.masking import front_matter_end
from .citing import PageSource, check_keys
from .errors import Problem, ProblemsFound, relative_path, sort_problems
from .load import read_text
from .markers import FILTERS, Marker, expand_markers
from .model import PRISMA_FILE, Catalog, Prisma, Study, Version
from .validate import check_prisma, load_catalog, load_prisma, load_versions
from .validate.markers import marker_filter_problem


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
    if (root / PRISMA_FILE).exists():
        prisma, found = load_prisma(root)
        problems.extend(found)
        if prisma is not None and catalog is not None:
            problems.extend(check_prisma(prisma, catalog))
    versions, found = load_versions(root)
    problems.extend(found)
    if problems or catalog is None:
        raise ProblemsFound(problems)
    return Project(
        root=root,
        catalog=catalog,
        bibliography=bibliography,
        prisma=prisma,
        versions=tuple(versions),
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
    problems: list[Problem] = []
    generated = set(generated_sources(project.catalog))
    for path in sorted(docs_dir.rglob("*.md")):
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


def _count_marker(ctx: MarkerContext, marker: Marker) -> str | None:
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
    return None


def _review_marker(ctx: MarkerContext, marker: Marker) -> str | None:
    if marker.what == "updated":
        return history.last_updated(ctx.project.catalog)
    if marker.what == "version":
        return history.review_version(ctx.project.root) or "unversioned"
    return None


def _figure_marker(ctx: MarkerContext, marker: Marker) -> str | None:
    return figures.render_figure(
        marker.what,
        ctx.project.catalog,
        marker.filters,
        ctx.page_src,
        prisma=ctx.project.prisma,
    )


#: Marker kinds and their handlers: a handler returns the Markdown that replaces the marker,
#: or ``None`` when the marker's second word is unknown. A new marker kind is one entry here
#: (and a line in the README's list of markers).
MARKERS: dict[str, Callable[[MarkerContext, Marker], str | None]] = {
    "count": _count_marker,
    "table": _table_marker,
    "review": _review_marker,
    "figure": _figure_marker,
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
