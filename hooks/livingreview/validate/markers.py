"""Page markers: filters checked against the vocabularies (markers themselves: ..markers)."""

from __future__ import annotations

from ..markers import Marker
from ..model import Catalog
from .claims import POPULATION_GROUPS


def marker_filter_problem(catalog: Catalog, marker: Marker) -> str | None:
    """Return what is wrong with a marker's filters (unknown ids, filters it cannot take)."""
    if marker.what == "trials":
        other = sorted(set(marker.filters) - {"condition"})
        if other:
            return f"trials can only be filtered by condition, not by {', '.join(other)}"
    vocab_for = {"condition": "conditions", "design": "designs"}
    for key, value in marker.filters.items():
        if key in vocab_for and value not in catalog.vocab(vocab_for[key]):
            allowed = ", ".join(catalog.vocab(vocab_for[key]).ids())
            return f"unknown {key} '{value}' in marker; allowed: {allowed}"
        if key == "group" and value not in POPULATION_GROUPS:
            return f"unknown group '{value}' in marker; allowed: {', '.join(POPULATION_GROUPS)}"
        if key == "kind" and value not in ("primary", "review"):
            return f"unknown kind '{value}' in marker; allowed: primary, review"
    return None
