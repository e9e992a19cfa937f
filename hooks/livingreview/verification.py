"""What a record's verification label says, derived from its provenance entries.

A record never types its own label. Each provenance entry names the ``basis`` it was checked
against (the abstract, the full text, the bibliographic record, a review's description, a
registry record, or nothing found) and a status; the label shown to readers is computed here
from those entries and the bibliographic status, so it cannot claim more than was checked. In
particular a record whose only checked source is a bibliographic record reads "Bibliographic
record only", never "Verified".
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Catalog, Study

#: What each provenance basis is called in a label ("checked against the abstract").
BASIS_TEXT = {
    "full-text": "the full text",
    "abstract": "the abstract",
    "registry-record": "the registry record",
    "secondary-source": "a review's description",
    "bibliographic-record": "the bibliographic record",
}
#: Bases that contain study data (a title and citation do not).
_STUDY_DATA_BASES = ("full-text", "abstract", "registry-record", "secondary-source")

#: The only wording allowed to claim that a whole record was checked.
FULL_VERIFICATION = "Verified: every part of this record was checked"


@dataclass(frozen=True)
class VerificationLabel:
    """A record's derived verification label.

    Attributes:
        level: ``verified``, ``partial`` or ``unverified`` (colour class; text carries meaning).
        short: Badge text, for example "Checked against the abstract".
        detail: One or two sentences for the study page.
    """

    level: str
    short: str
    detail: str


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def checked_bases(study: Study) -> list[str]:
    """Return the bases of provenance entries that were at least partly checked, in order."""
    bases: list[str] = []
    for p in study.provenance:
        if p.status in ("verified", "partial") and p.basis in BASIS_TEXT and p.basis not in bases:
            bases.append(p.basis)
    return bases


def verification_label(study: Study) -> VerificationLabel:
    """Return the label a record earns from its provenance entries and bibliographic status."""
    bases = checked_bases(study)
    complete = (
        all(p.status == "verified" for p in study.provenance)
        and study.bibliographic_status == "verified"
    )
    data_bases = [b for b in bases if b in _STUDY_DATA_BASES]
    if not bases:
        return VerificationLabel(
            "unverified",
            "Unverified",
            "No part of this record could be checked against a source.",
        )
    if not data_bases:
        return VerificationLabel(
            "partial",
            "Bibliographic record only",
            "Only the bibliographic record (title and citation details) was checked; no study "
            "detail was checked against the report's abstract or full text.",
        )
    against = _join([BASIS_TEXT[b] for b in data_bases])
    if complete and data_bases == ["secondary-source"]:
        return VerificationLabel(
            "partial",
            "Checked against a review's description, not the study's own report",
            "Every detail comes from a review's description of the study; none was checked "
            "against the study's own report.",
        )
    if complete and "secondary-source" not in data_bases:
        return VerificationLabel(
            "verified",
            f"Checked against {against}",
            f"{FULL_VERIFICATION} against {against} of the sources named below.",
        )
    if complete:
        return VerificationLabel(
            "partial",
            f"Checked against {against}",
            f"Every detail was checked against {against}; details from a review's description "
            "were not checked against the study's own report.",
        )
    return VerificationLabel(
        "partial",
        f"Checked against {against}; parts unverified",
        f"Parts of this record were checked against {against}; what could not be checked is "
        "listed below.",
    )


def reference_labels(catalog: Catalog) -> dict[str, tuple[str, str]]:
    """Return ``{key: (level, label)}`` for primary references of records not fully checked.

    The References page and the PDF's bibliography show these next to the reference, so a
    partly verified reference carries the same label as its record.
    """
    labels: dict[str, tuple[str, str]] = {}
    for study in catalog.studies:
        derived = verification_label(study)
        if derived.level != "verified":
            labels.setdefault(study.references[0], (derived.level, derived.short))
    return labels
