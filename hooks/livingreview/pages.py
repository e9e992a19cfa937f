"""Markdown for generated pages and tables, built from the catalog only.

Every value from data passes through :func:`render.escape_data` (the Jinja environment's
``finalize``); only fragments built here (links, citation syntax) are marked trusted.
Citations are written in Pandoc syntax (``[@key]``) and numbered later with the rest of the
site, so tables and study pages cite exactly like hand-written pages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from markupsafe import Markup

from .exports import download_markdown
from .model import STATUS_LABELS, Catalog, Effect, Quantity, Study, Term, Trial, format_number
from .render import escape_data, relative_src, render, trusted
from .verification import verification_label

#: Source path of the generated page for a study; its URL is ``studies/<id>/``.
STUDY_DIR = "studies"
STUDIES_INDEX = "studies/index.md"

_STATUS_ADMONITION = {"verified": "success", "partial": "warning", "unverified": "danger"}
#: Reader-facing names of provenance bases (``checked against``).
BASIS_LABELS = {
    "full-text": "Full text",
    "abstract": "Abstract",
    "registry-record": "Registry record",
    "secondary-source": "A review's description",
    "bibliographic-record": "Bibliographic record",
    "not-found": "Nothing found to check",
}


def study_src(study_id: str) -> str:
    """Return the virtual source path of a study's page."""
    return f"{STUDY_DIR}/{study_id}.md"


def study_url(study_id: str) -> str:
    """Return the URL of a study's page, relative to the site root (directory URLs).

    The one place the URL is built: the feed, the explorer and the PDF's appendix use it.
    """
    return f"{STUDY_DIR}/{study_id}/"


def cite(key: str) -> Markup:
    """Return citation syntax for one key (resolved and numbered by the citation stage)."""
    return trusted(f"[@{key}]")


def num(value: float | int | None) -> str:
    """Return a number without a needless ``.0``, or an em dash when missing."""
    return "—" if value is None else format_number(value)


@dataclass(frozen=True)
class Labels:
    """Vocabulary lookups for templates."""

    catalog: Catalog

    def label(self, vocab: str, term_id: str) -> str:
        """Return a term's label."""
        return self.catalog.vocab(vocab).label(term_id)

    def short(self, vocab: str, term_id: str) -> str:
        """Return a term's abbreviation if it has one, else its label."""
        term = self.catalog.vocab(vocab)[term_id]
        return term.abbreviation or term.label


class StatusView:
    """How verification statuses look to readers."""

    @staticmethod
    def label(status: str) -> str:
        """Return the reader-facing name of a status."""
        return STATUS_LABELS[status]

    @staticmethod
    def badge(status: str) -> Markup:
        """Return an inline badge (text, not colour alone, carries the meaning)."""
        return trusted(
            f'<span class="review-status review-status--{status}">{STATUS_LABELS[status]}</span>'
        )

    @staticmethod
    def record_badge(study: Study) -> Markup:
        """Return a record's badge, its text derived from the provenance entries."""
        derived = verification_label(study)
        return trusted(
            f'<span class="review-status review-status--{derived.level}">'
            f"{escape_data(derived.short)}</span>"
        )

    @staticmethod
    def block(study: Study) -> Markup:
        """Return an admonition stating what the record was checked against and what was not."""
        derived = verification_label(study)
        kind = _STATUS_ADMONITION[derived.level]
        lines = [f'!!! {kind} "Verification: {escape_data(derived.short)}"', ""]
        lines.append(f"    {escape_data(derived.detail)}")
        notes = study.unverified_notes()
        if notes:
            lines.append("")
            for note in notes:
                lines.append(f"    - {escape_data(note)}")
        return trusted("\n".join(lines))


def regimen_text(s: Study, labels: Labels) -> str:
    """Return the regimen in one line: ``IV racemic ketamine, 0.5 mg/kg, 6 sessions, 40 min``."""
    drug = labels.label("drugs", s.drug)
    routes = [r for r in s.routes if r != "not-reported"]
    if routes:
        parts = ["/".join(labels.short("routes", r) for r in routes) + " " + drug.lower()]
    else:
        parts = [f"{drug}, route not reported"]
    if s.dose:
        parts.append(s.dose.text())
    if s.sessions:
        count = s.sessions.text()
        parts.append(f"{count} session{'s' if count != '1' else ''}")
    if s.session_minutes:
        parts.append(f"over {s.session_minutes.text('min')}")
    return ", ".join(parts)


def participants_text(s: Study) -> str:
    """Return sample size and age: ``N = 15; age 33.3±6.5 years``."""
    parts = []
    if s.n is not None:
        parts.append(f"N = {s.n}")
    elif s.n_not_reported:
        parts.append("N not reported")
    if s.studies_included is not None:
        parts.append(f"{s.studies_included} studies")
    if s.age_years:
        parts.append(f"age {s.age_years.text('years')}")
    return "; ".join(parts) or "Not reported"


def effect_text(e: Effect, labels: Labels) -> str:
    """Return an effect estimate as text: ``Risk ratio 0.81 (95% CI 0.63 to 1.04), p = 0.1``."""
    text = f"{labels.label('effect_measures', e.measure)} {e.number(e.estimate)}"
    if e.ci_lower is not None and e.ci_upper is not None:
        level = (
            f"{format_number(e.ci_level)}% CI" if e.ci_level is not None else "CI, level not stated"
        )
        text += f" ({level} {e.number(e.ci_lower)} to {e.number(e.ci_upper)})"
    if e.p_value is not None:
        text += f", p = {format_number(e.p_value)}"
    if e.pooled:
        extra = []
        if e.studies:
            extra.append(f"{e.studies} studies")
        if e.n:
            extra.append(f"n = {e.n}")
        text += "; pooled estimate" + (f" ({', '.join(extra)})" if extra else "")
    return text


def _quantity_row(q: Quantity | None, unit: str) -> str | None:
    if q is None:
        return None
    return q.text(unit) + (f" — {q.note}" if q.note else "")


def study_rows(s: Study, labels: Labels) -> list[tuple[str, str | Markup]]:
    """Return the characteristics of a study as (label, value) rows, omitting empty ones."""
    rows: list[tuple[str, str | Markup | None]] = [
        ("Design", labels.label("designs", s.design)),
        ("Condition", labels.label("conditions", s.condition)),
        ("Population", s.population),
        ("Setting", s.setting or None),
        ("Country", s.country or None),
        (
            "Participants",
            (
                str(s.n)
                + (
                    f" (includes participants without the condition: "
                    f"{s.n_includes_without_condition})"
                    if s.n_includes_without_condition
                    else ""
                )
            )
            if s.n is not None
            else (s.n_not_reported or None),
        ),
        ("Studies included", str(s.studies_included) if s.studies_included else None),
        (
            "Groups",
            "; ".join(f"{name}: {n}" for name, n in s.groups) if s.groups else None,
        ),
        ("Women", str(s.n_female) if s.n_female is not None else None),
        ("Women (%)", num(s.female_percent) if s.female_percent is not None else None),
        ("Age", _quantity_row(s.age_years, "years")),
        ("Illness duration", _quantity_row(s.illness_duration_years, "years")),
        ("Diagnoses", ", ".join(labels.short("diagnoses", d) for d in s.diagnoses)),
        (
            "Comorbidities",
            ", ".join(labels.short("comorbidities", c) for c in s.comorbidities) or None,
        ),
        ("Drug", labels.label("drugs", s.drug)),
        ("Route", ", ".join(labels.label("routes", r) for r in s.routes)),
        (
            "Dose per session",
            s.dose.text() + (f" — {s.dose.note}" if s.dose.note else "") if s.dose else None,
        ),
        ("Number of sessions", _quantity_row(s.sessions, "")),
        ("Session duration", _quantity_row(s.session_minutes, "min")),
        ("Schedule", s.schedule or None),
        ("Regimen details", s.intervention_description or None),
        (
            "Co-interventions",
            "; ".join(
                f"{labels.label('co_intervention_kinds', k)}: {d}" for k, d in s.co_interventions
            )
            or None,
        ),
        ("Comparator", labels.label("comparators", s.comparator)),
        ("Comparator details", s.comparator_detail or None),
        ("Follow-up", s.follow_up or None),
        ("Trial registration", s.registration or None),
    ]
    return [(label, value) for label, value in rows if value]


def study_page(s: Study, catalog: Catalog, edit_url: str) -> str:
    """Return the Markdown of a study's page."""
    labels = Labels(catalog)
    return render(
        "study.md.jinja",
        s=s,
        v=labels,
        cite=cite,
        num=num,
        effect=lambda e: effect_text(e, labels),
        status=_StatusContext(s),
        rows=study_rows(s, labels),
        edit_url=trusted(edit_url),
    )


class _StatusContext:
    def __init__(self, study: Study) -> None:
        self.admonition = StatusView.block(study)

    @staticmethod
    def label(status: str) -> str:
        return StatusView.label(status)

    @staticmethod
    def basis(basis: str) -> str:
        return BASIS_LABELS.get(basis, "Not stated")


def _study_link(s: Study, page_src: str) -> Markup:
    return trusted(f"[{escape_data(s.label)}]({relative_src(study_src(s.id), page_src)})")


def _row(s: Study, labels: Labels, page_src: str) -> dict[str, str | Markup]:
    outcomes = ", ".join(labels.short("outcome_measures", o.measure) for o in s.outcomes) or "—"
    return {
        "study": trusted(f"{_study_link(s, page_src)} {cite(s.references[0])}"),
        "design": labels.label("designs", s.design),
        "participants": participants_text(s),
        "diagnosis": ", ".join(labels.short("diagnoses", d) for d in s.diagnoses)
        + (
            " + " + ", ".join(labels.short("comorbidities", c) for c in s.comorbidities)
            if s.comorbidities
            else ""
        ),
        "regimen": regimen_text(s, labels),
        "comparator": labels.label("comparators", s.comparator),
        "outcomes": outcomes,
        "result": f"{labels.label('result_categories', s.result_category)}: {s.result_summary}",
        "status": StatusView.record_badge(s),
    }


def characteristics_table(studies: Iterable[Study], catalog: Catalog, page_src: str) -> str:
    """Return the characteristics-of-included-studies table for the selected studies."""
    labels = Labels(catalog)
    rows = [_row(s, labels, page_src) for s in studies]
    caption = (
        f"Characteristics of {len(rows)} included "
        f"{'study' if len(rows) == 1 else 'studies'}. Verification shows whether each "
        "record was checked against its sources; open a study for details."
    )
    return render("characteristics.md.jinja", rows=rows, caption=caption)


def safety_rows(studies: Iterable[Study], page_src: str) -> list[dict[str, str | Markup]]:
    """Return one safety row per study: adverse events, serious events, dropouts, source."""
    rows = []
    for s in studies:
        ae = s.adverse_events
        if ae is None:
            continue
        rows.append(
            {
                "study": _study_link(s, page_src),
                "events": ae.summary if ae.reported else NOT_REPORTED,
                "serious": ae.serious or NOT_REPORTED,
                "dropouts": ae.dropouts or NOT_REPORTED,
                "source": trusted(f"{cite(ae.source.ref)}, {escape_data(ae.source.locator)}"),
            }
        )
    return rows


#: A cell the checked sources say nothing about; the table's note spells out what it means.
NOT_REPORTED = "Not reported"


def safety_table(studies: Iterable[Study], catalog: Catalog, page_src: str) -> str:
    """Return the safety-by-study table for the selected studies ([[table safety]])."""
    return render("safety.md.jinja", rows=safety_rows(studies, page_src))


def studies_index(catalog: Catalog) -> str:
    """Return the Markdown of the index of all study pages."""
    labels = Labels(catalog)
    groups = []
    for term in catalog.vocab("conditions").terms:
        studies = catalog.select(condition=term.id)
        if studies:
            groups.append((term.label, [_row(s, labels, STUDIES_INDEX) for s in studies]))
    downloads = trusted(download_markdown("data", STUDIES_INDEX))
    return render("studies_index.md.jinja", groups=groups, downloads=downloads)


def trials_table(trials: Iterable[Trial], catalog: Catalog) -> str:
    """Return the registered-trials table."""

    def registry_link(t: Trial) -> Markup:
        # No link for a number whose registry record was never found: it may not exist.
        if t.registry_record == "not-found":
            return trusted(f"{escape_data(t.registry_id)} (no registry record found)")
        return trusted(f"[{escape_data(t.registry_id)}]({t.registry_url})")

    return render(
        "trials.md.jinja",
        trials=list(trials),
        v=Labels(catalog),
        cite=cite,
        num=num,
        status=StatusView,
        registry_link=registry_link,
    )


def measures_table(catalog: Catalog, page_src: str) -> str:
    """Return the outcome-measures table with the studies that use each scale."""
    used: dict[str, list[str]] = {t.id: [] for t in catalog.vocab("outcome_measures").terms}
    for s in catalog.studies:
        for o in s.outcomes:
            link = str(_study_link(s, page_src))
            if link not in used[o.measure]:
                used[o.measure].append(link)
    measures = [t for t in catalog.vocab("outcome_measures").terms if used[t.id]]
    return render(
        "measures.md.jinja",
        measures=measures,
        used={k: trusted(", ".join(v)) for k, v in used.items()},
        range_text=_range_text,
        direction=_direction,
        rater=_rater,
    )


def _range_text(term: Term) -> str:
    lo, hi = term.get("min"), term.get("max")
    return (
        f"{format_number(lo)}–{format_number(hi)}"
        if lo is not None and hi is not None
        else "Not reported"
    )


def _direction(term: Term) -> str:
    return {
        "higher-is-worse": "Higher is worse",
        "higher-is-better": "Higher is better",
        "not-applicable": "Not applicable",
        "not-reported": "Not reported by the checked sources",
    }[term.get("direction", "not-applicable")]


def _rater(term: Term) -> str:
    return {"clinician": "Clinician", "self-report": "Self-report", "not-reported": "Not reported"}[
        term.get("rater", "not-reported")
    ]


Renderer = Callable[[Study], str]
