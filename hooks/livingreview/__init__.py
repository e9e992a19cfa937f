"""Plain-Python library behind the review site.

Nothing in this package imports MkDocs: the adapter module ``hooks/mkdocs_hooks.py`` is the
only place that does. The flow is one direction: ``load`` (raw values with source positions)
-> ``validate`` (collect every problem) -> ``model`` (frozen objects) -> render modules.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
