"""Unit tests of the model: labels, years, verification status and the notation of numbers."""

from __future__ import annotations

import pytest
from factories import make_catalog, make_study, make_trial, real_vocabularies
from livingreview.model import Catalog, Dose, Provenance, Quantity, Vocabulary


@pytest.mark.parametrize(
    ("study_id", "label", "year"),
    [
        ("feder-2014", "Feder 2014", 2014),
        ("ragnhildstveit-2021", "Ragnhildstveit 2021", 2021),
        ("van-der-kolk-2020", "Van Der Kolk 2020", 2020),
        ("smith-2020a", "Smith 2020a", 2020),
    ],
)
def test_label_and_year_come_from_the_id(study_id: str, label: str, year: int) -> None:
    study = make_study(study_id)
    assert study.label == label
    assert study.year == year


def _provenance(*statuses: str) -> tuple[Provenance, ...]:
    return tuple(Provenance(f"src{i}", ("design",), status) for i, status in enumerate(statuses))


@pytest.mark.parametrize(
    ("provenance", "bibliographic", "expected"),
    [
        (("verified",), "verified", "verified"),
        (("verified", "verified"), "partial", "partial"),
        (("partial", "verified"), "verified", "partial"),
        (("verified", "unverified"), "partial", "unverified"),
        (("verified",), "unverified", "unverified"),
        ((), "partial", "partial"),
    ],
)
def test_status_is_the_worst_of_provenance_and_bibliographic(
    provenance: tuple[str, ...], bibliographic: str, expected: str
) -> None:
    study = make_study(provenance=_provenance(*provenance), bibliographic_status=bibliographic)
    assert study.status == expected


def test_verified_study_has_no_unverified_notes() -> None:
    assert make_study().unverified_notes() == []


def test_unverified_notes_name_each_unchecked_part() -> None:
    study = make_study(
        provenance=(
            Provenance("a2020", ("design",), "verified", note="Checked."),
            Provenance("b2021", ("outcomes",), "partial", note="Effect sizes unchecked."),
            Provenance("c2022", ("n",), "unverified"),
        ),
        bibliographic_status="partial",
        bibliographic_note="Page numbers unknown.",
    )
    assert study.unverified_notes() == [
        "Bibliographic details (partial): Page numbers unknown.",
        "Effect sizes unchecked.",
        "Data from c2022 are unverified.",
    ]


def test_unverified_bibliography_without_a_note_gets_a_default_sentence() -> None:
    study = make_study(bibliographic_status="unverified")
    assert study.unverified_notes() == [
        "Bibliographic details (unverified): Bibliographic details are not fully verified."
    ]


@pytest.mark.parametrize(
    ("quantity", "unit", "text"),
    [
        (Quantity(mean=33.3, sd=6.5), "years", "33.3±6.5 years (mean±SD)"),
        (Quantity(mean=36), "years", "36 years (mean)"),
        (Quantity(mean=20, sd=0), "", "20±0 (mean±SD)"),
        (Quantity(median=29.5), "years", "29.5 years (median)"),
        (Quantity(value=6.0), "", "6"),
        (Quantity(value=40), "min", "40 min"),
        (Quantity(min=2, max=15), "", "2–15"),
        (Quantity(min=0.5, max=1.25), "h", "0.5–1.25 h"),
        (Quantity(min=18), "years", "≥18 years"),
        (Quantity(max=65), "years", "≤65 years"),
        (Quantity(), "years", ""),
        (Quantity(value=3, mean=4), "", "4 (mean)"),  # a mean wins over a bare value
    ],
)
def test_quantity_text(quantity: Quantity, unit: str, text: str) -> None:
    assert quantity.text(unit) == text


@pytest.mark.parametrize(("value", "text"), [(12345.67, "12345.67"), (0.00003, "0.00003")])
def test_quantity_shows_the_number_as_reported(value: float, text: str) -> None:
    assert Quantity(value=value).text() == text


@pytest.mark.parametrize(
    ("quantity", "central"),
    [
        (Quantity(value=5), 5),
        (Quantity(mean=33.3, sd=6.5), 33.3),
        (Quantity(median=29), 29),
        (Quantity(min=2, max=15), 8.5),
        (Quantity(min=2), None),
        (Quantity(), None),
    ],
)
def test_quantity_central(quantity: Quantity, central: float | None) -> None:
    assert quantity.central() == central


@pytest.mark.parametrize(
    ("dose", "text"),
    [
        (Dose("mg/kg", value=0.5), "0.5 mg/kg"),
        (Dose("mg/kg", min=0.75, max=1.2), "0.75–1.2 mg/kg"),
        (Dose("mg/h", value=20.0), "20 mg/h"),
        (Dose("mg"), "mg"),
    ],
)
def test_dose_text(dose: Dose, text: str) -> None:
    assert dose.text() == text


@pytest.mark.parametrize(
    ("registry_id", "url"),
    [
        ("NCT04714541", "https://clinicaltrials.gov/study/NCT04714541"),
        ("ACTRN12618001393246", "https://www.anzctr.org.au/ACTRN12618001393246.aspx"),
        ("ISRCTN12345678", "https://www.isrctn.com/ISRCTN12345678"),
    ],
)
def test_trial_registry_url(registry_id: str, url: str) -> None:
    assert make_trial(registry_id=registry_id).registry_url == url


def _mixed_catalog() -> Catalog:
    return make_catalog(
        [
            make_study("rct-2020", design="rct", condition="ptsd"),
            make_study("open-2019", design="open-label", condition="eating-disorders"),
            make_study(
                "sr-2022", design="systematic-review", condition="ptsd", population_group="veterans"
            ),
            make_study("nr-2018", design="narrative-review", condition="eating-disorders"),
        ]
    )


def test_catalog_orders_studies_by_year_then_id() -> None:
    assert [s.id for s in _mixed_catalog().studies] == [
        "nr-2018",
        "open-2019",
        "rct-2020",
        "sr-2022",
    ]


@pytest.mark.parametrize(
    ("criteria", "ids"),
    [
        ({}, ["nr-2018", "open-2019", "rct-2020", "sr-2022"]),
        ({"kind": "primary"}, ["open-2019", "rct-2020"]),
        ({"kind": "review"}, ["nr-2018", "sr-2022"]),
        ({"condition": "ptsd"}, ["rct-2020", "sr-2022"]),
        ({"condition": "ptsd", "kind": "review"}, ["sr-2022"]),
        ({"design": "open-label"}, ["open-2019"]),
        ({"group": "veterans"}, ["sr-2022"]),
        ({"condition": "eating-disorders", "design": "rct"}, []),
    ],
)
def test_catalog_select(criteria: dict[str, str], ids: list[str]) -> None:
    assert [s.id for s in _mixed_catalog().select(**criteria)] == ids


def test_catalog_study_lookup() -> None:
    catalog = _mixed_catalog()
    assert catalog.study("rct-2020").design == "rct"
    with pytest.raises(KeyError):
        catalog.study("missing-2020")


def test_vocabulary_lookups() -> None:
    conditions: Vocabulary = real_vocabularies()["conditions"]
    assert conditions.ids() == ["eating-disorders", "ptsd"]
    assert "ptsd" in conditions and "anorexia" not in conditions
    assert conditions.label("ptsd") == "Post-traumatic stress disorder"
    assert conditions["ptsd"].abbreviation == "PTSD"
    assert real_vocabularies()["designs"]["rct"].get("kind") == "primary"
    assert real_vocabularies()["designs"]["rct"].get("absent", "x") == "x"
    with pytest.raises(KeyError):
        conditions["anorexia"]
