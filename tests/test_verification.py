"""Verification labels are derived from provenance entries, never typed, and never overclaim."""

from __future__ import annotations

import pytest
from factories import make_catalog, make_study
from livingreview import pages
from livingreview.model import Provenance
from livingreview.verification import (
    FULL_VERIFICATION,
    reference_labels,
    verification_label,
)


def _study(*entries: Provenance, bibliographic: str = "verified", **changes: object):
    return make_study(
        provenance=entries,
        bibliographic_status=bibliographic,
        bibliographic_note="" if bibliographic == "verified" else "DOI unverified.",
        **changes,
    )


def test_bibliographic_record_only_cannot_display_full_verification() -> None:
    study = _study(Provenance("smith2020", ("design",), "verified", basis="bibliographic-record"))
    label = verification_label(study)
    assert (label.level, label.short) == ("partial", "Bibliographic record only")
    page = pages.study_page(study, make_catalog([study]), "")
    assert "every part of this record was checked" not in page.lower()
    assert FULL_VERIFICATION not in page
    assert '!!! warning "Verification: Bibliographic record only"' in page
    table = pages.characteristics_table([study], make_catalog([study]), "ptsd.md")
    assert ">Bibliographic record only</span>" in table
    assert ">Verified</span>" not in table


def test_complete_abstract_check_names_the_abstract() -> None:
    study = _study(Provenance("smith2020", ("design",), "verified", basis="abstract"))
    label = verification_label(study)
    assert (label.level, label.short) == ("verified", "Checked against the abstract")
    assert label.detail.startswith(FULL_VERIFICATION + " against the abstract")


@pytest.mark.parametrize(
    ("entries", "bibliographic", "short", "level"),
    [
        (
            [Provenance("smith2020", ("design",), "partial", basis="abstract")],
            "verified",
            "Checked against the abstract; parts unverified",
            "partial",
        ),
        (
            [Provenance("smith2020", ("design",), "verified", basis="abstract")],
            "partial",
            "Checked against the abstract; parts unverified",
            "partial",
        ),
        (
            [
                Provenance("smith2020", ("design",), "verified", basis="bibliographic-record"),
                Provenance("jones2021", ("n",), "verified", basis="secondary-source"),
            ],
            "verified",
            "Checked against a review's description, not the study's own report",
            "partial",
        ),
        (
            [
                Provenance("smith2020", ("design",), "verified", basis="abstract"),
                Provenance("jones2021", ("n",), "verified", basis="secondary-source"),
            ],
            "verified",
            "Checked against the abstract and a review's description",
            "partial",
        ),
        (
            [
                Provenance("smith2020", ("design",), "partial", basis="abstract"),
                Provenance("smith2020", ("n",), "verified", basis="registry-record"),
            ],
            "verified",
            "Checked against the abstract and the registry record; parts unverified",
            "partial",
        ),
        (
            [Provenance("smith2020", ("design",), "unverified", basis="not-found")],
            "unverified",
            "Unverified",
            "unverified",
        ),
        (
            # Verified in name only: nothing says what it was checked against.
            [Provenance("smith2020", ("design",), "verified")],
            "verified",
            "Unverified",
            "unverified",
        ),
    ],
)
def test_label_follows_the_provenance_entries(
    entries: list[Provenance], bibliographic: str, short: str, level: str
) -> None:
    label = verification_label(_study(*entries, bibliographic=bibliographic))
    assert (label.short, label.level) == (short, level)
    if level != "verified":
        assert FULL_VERIFICATION not in label.detail


def test_label_changes_when_only_the_provenance_changes() -> None:
    checked = _study(Provenance("smith2020", ("design",), "verified", basis="abstract"))
    title_only = _study(
        Provenance("smith2020", ("design",), "verified", basis="bibliographic-record")
    )
    assert verification_label(checked).short != verification_label(title_only).short


def test_reference_labels_cover_only_records_not_fully_checked() -> None:
    full = make_study("aa-2020", references=("aa2020",))
    partial = make_study(
        "bb-2021",
        references=("bb2021", "aa2020"),
        provenance=(Provenance("bb2021", ("design",), "verified", basis="bibliographic-record"),),
    )
    labels = reference_labels(make_catalog([full, partial]))
    assert labels == {"bb2021": ("partial", "Bibliographic record only")}
