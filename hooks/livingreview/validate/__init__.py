"""Validate loaded documents into the immutable model, collecting every problem.

Checks run in three layers: the loader (syntax, duplicate keys, YAML 1.1 surprises), the JSON
Schemas in ``data/schema/`` (shape, types, ranges), then cross-checks that a schema cannot
express (ids equal to file names and unique, vocabulary terms, reference keys, ordered ranges,
events within n, real dates not in the future).
"""

from __future__ import annotations

from .checks import KeySet, today
from .placeholders import todo_problems
from .prisma import check_prisma, load_prisma
from .records import REQUIRED_VOCABULARIES, load_catalog
from .schema import schema_validator
from .versions import load_versions

__all__ = [
    "REQUIRED_VOCABULARIES",
    "KeySet",
    "check_prisma",
    "load_catalog",
    "load_prisma",
    "load_versions",
    "schema_validator",
    "today",
    "todo_problems",
]
