"""The figure registry: marker name -> renderer.

A new figure is one module in this package with a ``render_<name>`` function and one entry in
:data:`FIGURES`; ``[[figure <name> ...]]`` markers then reach it, and the marker check lists
it among the allowed names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from ..model import Catalog, Prisma
from .evidence_map import render_evidence_map
from .forest import render_forest
from .prisma import render_prisma
from .rob import render_rob
from .svg import figure_id
from .timeline import render_timeline

#: A renderer: (catalog, filters, element id, page source, PRISMA numbers) -> Markdown.
Renderer = Callable[[Catalog, Mapping[str, str], str, str, Prisma | None], str]

#: Figures a ``[[figure <name>]]`` marker may use, in the order the README lists them.
FIGURES: Mapping[str, Renderer] = MappingProxyType(
    {
        # The PRISMA diagram describes the whole review: filters are ignored.
        "prisma": lambda _catalog, _filters, fig_id, _page, prisma: render_prisma(prisma, fig_id),
        "evidence-map": lambda catalog, filters, fig_id, page, _prisma: render_evidence_map(
            catalog, filters, fig_id, page
        ),
        "timeline": lambda catalog, filters, fig_id, page, _prisma: render_timeline(
            catalog, filters, fig_id, page
        ),
        "rob": lambda catalog, filters, fig_id, page, _prisma: render_rob(
            catalog, filters, fig_id, page
        ),
        "forest": lambda catalog, filters, fig_id, page, _prisma: render_forest(
            catalog, filters, fig_id, page
        ),
    }
)
#: Figures whose element id ignores the marker's filters.
_WHOLE_REVIEW = frozenset({"prisma"})


def render_figure(
    name: str,
    catalog: Catalog,
    filters: dict[str, str],
    page_src: str,
    *,
    prisma: Prisma | None = None,
) -> str | None:
    """Return the Markdown for a ``[[figure <name> ...]]`` marker, or ``None`` if unknown.

    Args:
        name: A key of :data:`FIGURES`.
        catalog: The validated records.
        filters: Marker filters (``condition``, ``design``, ``kind``, ``group``), applied with
            :meth:`Catalog.select`; ``prisma`` ignores them.
        page_src: Source path of the page in ``docs/`` (``ptsd.md``), for links to studies.
        prisma: The validated ``data/prisma.yaml``, needed by ``prisma``.

    Returns:
        Markdown: raw-HTML ``<figure>`` blocks and ``<details>`` data tables, separated by
        blank lines; the marker must stand on a line of its own.
    """
    renderer = FIGURES.get(name)
    if renderer is None:
        return None
    fig_id = figure_id(name, {} if name in _WHOLE_REVIEW else filters)
    return renderer(catalog, filters, fig_id, page_src, prisma)
