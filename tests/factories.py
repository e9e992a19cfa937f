"""Build model objects for tests without writing files.

Catalogs use the project's real vocabularies (``data/vocabularies/*.yaml``), read with the
project's own loader, so tests exercise the real designs, scales and risk-of-bias tools;
studies are built from the model dataclasses with defaults that any test can override.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import replace
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from livingreview.load import load_yaml
from livingreview.model import (
    AdverseEvents,
    Catalog,
    Effect,
    Outcome,
    Provenance,
    RiskOfBias,
    Source,
    Study,
    Term,
    Trial,
    Vocabulary,
)

ROOT = Path(__file__).resolve().parents[1]


@cache
def real_vocabularies() -> Mapping[str, Vocabulary]:
    """Return every vocabulary in ``data/vocabularies/``, as the validator builds them."""
    vocabularies = {}
    for path in sorted((ROOT / "data" / "vocabularies").glob("*.yaml")):
        doc, problems = load_yaml(path, ROOT)
        assert doc is not None and not problems, problems
        terms = tuple(
            Term(
                id=raw["id"],
                label=raw["label"],
                abbreviation=raw.get("abbreviation", ""),
                description=raw.get("description", ""),
                extra=MappingProxyType(
                    {
                        k: v
                        for k, v in raw.items()
                        if k not in ("id", "label", "abbreviation", "description")
                    }
                ),
            )
            for raw in doc.data["terms"]
        )
        vocabularies[path.stem] = Vocabulary(path.stem, terms)
    return MappingProxyType(vocabularies)


def vocabularies_with(name: str, term_id: str, **changes: Any) -> Mapping[str, Vocabulary]:
    """Return the real vocabularies with one term changed (a label with markup, say)."""
    vocabularies = dict(real_vocabularies())
    vocab = vocabularies[name]
    terms = tuple(replace(t, **changes) if t.id == term_id else t for t in vocab.terms)
    vocabularies[name] = Vocabulary(name, terms)
    return MappingProxyType(vocabularies)


def make_effect(
    measure: str = "MD",
    estimate: float = -2.0,
    ci_lower: float | None = -4.0,
    ci_upper: float | None = -0.5,
    **changes: Any,
) -> Effect:
    """Return an effect estimate (a mean difference with its 95% CI by default)."""
    return Effect(measure, estimate, ci_lower, ci_upper, **changes)


def make_outcome(measure: str = "CAPS-5", effect: Effect | None = None, **changes: Any) -> Outcome:
    """Return an outcome with a finding and a source."""
    values: dict[str, Any] = {
        "measure": measure,
        "finding": "Scores fell.",
        "source": Source("smith2020", "Abstract"),
        "effect": effect,
    }
    values.update(changes)
    return Outcome(**values)


def make_rob(
    tool: str = "rob2",
    domains: Mapping[str, str] | None = None,
    overall: str = "low",
    ref: str = "smith2020",
) -> RiskOfBias:
    """Return a sourced risk-of-bias assessment."""
    return RiskOfBias(tool, Source(ref, "Table 2"), MappingProxyType(dict(domains or {})), overall)


def make_study(study_id: str = "smith-2020", **changes: Any) -> Study:
    """Return a study record; every field has a plain default and any can be overridden."""
    values: dict[str, Any] = {
        "id": study_id,
        "path": f"data/studies/{study_id}.yaml",
        "condition": "ptsd",
        "design": "rct",
        "summary": "A randomized trial of ketamine.",
        "population": "Adults with PTSD.",
        "population_group": "not-applicable",
        "setting": "",
        "country": "",
        "n": 10,
        "n_female": None,
        "female_percent": None,
        "age_years": None,
        "illness_duration_years": None,
        "studies_included": None,
        "groups": (),
        "diagnoses": ("PTSD",),
        "comorbidities": (),
        "drug": "racemic-ketamine",
        "routes": ("iv",),
        "dose": None,
        "sessions": None,
        "session_minutes": None,
        "schedule": "",
        "intervention_description": "",
        "co_interventions": (),
        "comparator": "midazolam",
        "comparator_detail": "",
        "follow_up": "",
        "outcomes": (),
        "result_category": "improvement",
        "result_summary": "Symptoms improved.",
        "adverse_events": AdverseEvents(
            "none-reported",
            "The abstract has no statement on adverse events.",
            Source("smith2020", "Abstract"),
        ),
        "registration": "",
        "url": "",
        "discrepancies": (),
        "references": ("smith2020",),
        "provenance": (Provenance("smith2020", ("design",), "verified", basis="abstract"),),
        "bibliographic_status": "verified",
        "bibliographic_note": "",
        "risk_of_bias": (),
        "notes": (),
        "added": "2026-01-01",
        "updated": "2026-01-01",
    }
    values.update(changes)
    return Study(**values)


def make_trial(trial_id: str = "nct01234567", **changes: Any) -> Trial:
    """Return a registered trial."""
    values: dict[str, Any] = {
        "id": trial_id,
        "path": f"data/trials/{trial_id}.yaml",
        "registry_id": trial_id.upper(),
        "condition": "ptsd",
        "design": "Randomized.",
        "population": "Adults.",
        "intervention": "Ketamine.",
        "status": "recruiting",
        "source_description": "Registry record.",
        "source_ref": "",
        "source_locator": "",
        "verification_status": "verified",
        "verification_note": "",
    }
    values.update(changes)
    return Trial(**values)


def make_catalog(
    studies: Iterable[Study],
    trials: Iterable[Trial] = (),
    vocabularies: Mapping[str, Vocabulary] | None = None,
) -> Catalog:
    """Return a catalog, with studies ordered as the validator orders them (year, id)."""
    return Catalog(
        studies=tuple(sorted(studies, key=lambda s: (s.year, s.id))),
        trials=tuple(trials),
        vocabularies=vocabularies or real_vocabularies(),
    )


def _name(i: int) -> str:
    letters = string.ascii_lowercase
    out = ""
    i += 26 * 27  # at least three letters
    while i:
        i, r = divmod(i, 26)
        out = letters[r] + out
    return out


#: (design, condition, comparator, kind) combinations cycled through by :func:`many_studies`.
_MIX = (
    ("rct", "ptsd", "midazolam"),
    ("randomized-crossover", "ptsd", "placebo"),
    ("open-label", "eating-disorders", "none"),
    ("observational-cohort", "ptsd", "none"),
    ("retrospective-cohort", "ptsd", "no-ketamine"),
    ("case-series", "eating-disorders", "none"),
    ("case-report", "eating-disorders", "none"),
    ("systematic-review", "ptsd", "various"),
    ("narrative-review", "eating-disorders", "none"),
    ("controlled-trial", "ptsd", "placebo"),
)


def many_studies(count: int) -> list[Study]:
    """Return ``count`` distinct studies spread over designs, conditions and 30 years.

    Reviews (every eighth and ninth design) leave ``n`` out on every third study, as real
    reviews sometimes do.
    """
    studies = []
    for i in range(count):
        design, condition, comparator = _MIX[i % len(_MIX)]
        review = design in ("systematic-review", "narrative-review")
        studies.append(
            make_study(
                f"{_name(i)}-{1995 + (i * 7) % 30}",
                design=design,
                condition=condition,
                comparator=comparator,
                diagnoses=("PTSD",) if condition == "ptsd" else ("AN",),
                n=None if review and i % 3 == 0 else 5 + i % 40,
                studies_included=4 if review else None,
                result_category="evidence-synthesis" if review else "improvement",
            )
        )
    return studies
