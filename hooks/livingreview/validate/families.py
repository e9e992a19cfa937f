"""Outcome families: the vocabulary's cross-references and the families study outcomes name.

``outcome_families.yaml`` says which families the summary of findings has rows for, on which
condition pages, with any certainty rating a named source published. ``outcome_measures.yaml``
gives each measure's family; a study's outcome may name another. Every reference between these
files is checked here, with the position of the value at fault and the allowed values.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import Problem
from ..load import Document
from ..model import Vocabulary
from .checks import KeySet, walk_fields
from .schema import did_you_mean, problem_at

FAMILIES = "outcome_families"


def _unknown(value: object, vocab: Vocabulary, name: str) -> str:
    hint = did_you_mean(str(value), vocab.ids())
    return f"'{value}' is not in vocabularies/{name}.yaml{hint}; allowed: {', '.join(vocab.ids())}"


def check_vocabulary_links(
    docs: Mapping[str, Document], vocabularies: Mapping[str, Vocabulary], keys: KeySet
) -> list[Problem]:
    """Check the links between vocabularies that the outcome families rely on.

    Args:
        docs: Loaded vocabulary files by name (for positions).
        vocabularies: The vocabularies built from them.
        keys: The bibliography, for the sources of certainty ratings.

    Returns:
        One problem per measure naming an unknown family, per family naming an unknown
        condition, and per certainty rating citing a key not in ``references.bib``.
    """
    problems: list[Problem] = []
    # A vocabulary that did not load is reported already (missing, or its own problems), so
    # links into it are not checked: one cause, one line.
    families = vocabularies.get(FAMILIES)
    measures = docs.get("outcome_measures")
    if measures is not None and families is not None:
        for path, value in walk_fields(measures.data, "terms[].family"):
            if value not in families:
                problems.append(problem_at(measures, path, _unknown(value, families, FAMILIES)))
    family_doc = docs.get(FAMILIES)
    if family_doc is None:
        return problems
    conditions = vocabularies.get("conditions")
    for path, value in walk_fields(family_doc.data, "terms[].conditions[]"):
        if conditions is not None and value not in conditions:
            problems.append(problem_at(family_doc, path, _unknown(value, conditions, "conditions")))
    for path, value in walk_fields(family_doc.data, "terms[].certainty[].source.ref"):
        if value not in keys:
            suggestions = keys.suggest(str(value))
            hint = f"; did you mean '{suggestions[0]}'?" if suggestions else ""
            msg = f"unknown reference key '{value}' (not in references.bib){hint}"
            problems.append(problem_at(family_doc, path, msg))
    return problems


def check_outcome_families(
    doc: Document, vocabularies: Mapping[str, Vocabulary], problems: list[Problem]
) -> None:
    """Report a study outcome's ``family`` that is unknown or not shown for its condition."""
    families = vocabularies.get(FAMILIES)
    if families is None:
        return
    condition = doc.data.get("condition")
    for path, value in walk_fields(doc.data, "outcomes[].family"):
        if value not in families:
            problems.append(problem_at(doc, path, _unknown(value, families, FAMILIES)))
            continue
        shown_for = families[value].get("conditions") or []
        if condition not in shown_for:
            allowed = [t.id for t in families.terms if condition in (t.get("conditions") or [])]
            msg = (
                f"family '{value}' is not shown for condition '{condition}'; "
                f"allowed: {', '.join(allowed) or 'none (no family lists this condition)'}"
            )
            problems.append(problem_at(doc, path, msg))
