"""Trial registrations: cross-checks and the Trial model objects."""

from __future__ import annotations

from ..errors import Problem
from ..load import Document
from ..model import (
    Trial,
    Vocabulary,
)
from .checks import KeySet, check_dates, check_keys, check_terms, problem_at


def check_trial(
    doc: Document, vocabularies: dict[str, Vocabulary], keys: KeySet, problems: list[Problem]
) -> None:
    """Cross-check one trial record (vocabulary terms, reference keys, dates)."""
    check_terms(
        doc, (("condition", "conditions"), ("status", "trial_statuses")), vocabularies, problems
    )
    check_keys(doc, ("source.ref",), keys, problems)
    check_dates(doc, problems)
    if doc.data["registry_id"].lower() != doc.data["id"]:
        problems.append(
            problem_at(
                doc,
                ("registry_id",),
                f"registry_id '{doc.data['registry_id']}' does not match id '{doc.data['id']}'",
            )
        )


def build_trial(doc: Document) -> Trial:
    """Return the model object of one valid trial record."""
    d = doc.data
    return Trial(
        id=d["id"],
        path=doc.path,
        registry_id=d["registry_id"],
        condition=d["condition"],
        design=d["design"],
        population=d["population"],
        intervention=d["intervention"],
        status=d["status"],
        source_description=d["source"]["description"],
        source_ref=d["source"].get("ref", ""),
        source_locator=d["source"].get("locator", ""),
        verification_status=d["verification"]["status"],
        verification_note=d["verification"].get("note", ""),
        acronym=d.get("acronym", ""),
        phase=d.get("phase", ""),
        sponsor=d.get("sponsor", ""),
        target_n=d.get("target_n"),
        primary_outcome=d.get("primary_outcome", ""),
        registry_record=d.get("registry_record", ""),
        added=d["added"],
        updated=d["updated"],
    )
