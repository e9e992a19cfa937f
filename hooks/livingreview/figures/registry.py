"""The figure registry: marker name -> renderer."""

from __future__ import annotations

from ..model import Catalog
from .evidence_map import render_evidence_map
from .forest import render_forest
from .prisma import Prisma, render_prisma
from .rob import render_rob
from .svg import figure_id
from .timeline import render_timeline

#: Figure names a ``[[figure <name>]]`` marker may use.
FIGURES = ("prisma", "evidence-map", "timeline", "rob", "forest")


# --- entry point -------------------------------------------------------------------------------


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
        name: ``prisma``, ``evidence-map``, ``timeline``, ``rob`` or ``forest``.
        catalog: The validated records.
        filters: Marker filters (``condition``, ``design``, ``kind``, ``group``), applied with
            :meth:`Catalog.select`; ``prisma`` ignores them.
        page_src: Source path of the page in ``docs/`` (``ptsd.md``), for links to studies.
        prisma: The loaded ``data/prisma.yaml`` (:func:`load_prisma`), needed by ``prisma``.

    Returns:
        Markdown: raw-HTML ``<figure>`` blocks and ``<details>`` data tables, separated by
        blank lines; the marker must stand on a line of its own.
    """
    if name == "prisma":
        return render_prisma(prisma, figure_id(name, {}))
    renderers = {
        "evidence-map": render_evidence_map,
        "timeline": render_timeline,
        "rob": render_rob,
        "forest": render_forest,
    }
    renderer = renderers.get(name)
    if renderer is None:
        return None
    return renderer(catalog, filters, figure_id(name, filters), page_src)
