"""PRISMA 2020 flow numbers: data/prisma.yaml loaded, checked and checked against the records."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..errors import Problem, relative_path
from ..load import Document, format_field, load_yaml
from ..model import (
    PRISMA_FILE,
    Catalog,
    DatabasesColumn,
    Included,
    OtherMethodsColumn,
    Prisma,
    PrismaCount,
    PrismaSource,
    field_position,
)
from .schema import schema_problems, schema_validator


def load_prisma(root: Path, catalog: Catalog | None = None) -> tuple[Prisma | None, list[Problem]]:
    """Load and validate ``data/prisma.yaml`` against ``data/schema/prisma.schema.json``.

    Only the numbers no data can give are typed: records identified by databases, registers and
    sources that list no ids, records removed, screened out or excluded with reasons. The rest
    is derived, so that removing a study is one edit (its id):

    * a source's (or a reason's) ``count`` is the length of its ``studies``/``trials`` list;
    * ``screened``, ``sought`` and ``assessed`` follow from the boxes above them;
    * ``included.studies`` is the number of study records, ``included.reports`` the number of
      their distinct primary reports (the first key of each record's ``references``), and
      ``included.ongoing_trials`` the number of trial records (shown when any trial is listed).

    A derived number may still be typed; it must then agree, or the problem is at its line.
    Beyond that, each column must add up: reports assessed minus reports excluded must give the
    reports of included studies. Checks of the listed ids against the records are in
    :func:`check_prisma`.

    Args:
        root: Project root (holds ``data/``).
        catalog: The records; without them (the file checked on its own) the included counts
            are the listed study ids, or the typed numbers where nothing is listed.

    Returns:
        The flow numbers (``None`` if the file is missing or malformed) and every problem,
        each with the file's path, line, column and field.
    """
    root = Path(root)
    path = root / PRISMA_FILE
    rel = relative_path(path, root)
    if not (path.exists() or path.is_symlink()):  # a FIFO or symlink there is reported
        msg = "file not found; the PRISMA flow diagram ([[figure prisma]]) is drawn from it"
        return None, [Problem(rel, None, None, "", msg)]
    doc, problems = load_yaml(path, root)
    if doc is None or problems:
        return None, problems
    schema = root / "data" / "schema" / "prisma.schema.json"
    if not schema.is_file():
        msg = f"schema {relative_path(schema, root)} not found; cannot check this file"
        return None, [Problem(rel, None, None, "", msg)]
    if schema_problems(doc, schema_validator(root, "prisma"), problems):
        return None, problems
    builder = _Builder(doc, catalog)
    prisma = builder.build()
    listed = {i for src in prisma.other_methods.sources for i in src.studies}
    # When the listed ids and the records differ, check_prisma names the id to add or remove;
    # the sums that follow from it would only repeat that problem.
    stale = catalog is not None and bool(listed) and listed != {s.id for s in catalog.studies}
    return prisma, builder.problems + _arithmetic_problems(prisma, check_reports=not stale)


class _Builder:
    """Turns the checked document into :class:`Prisma`, deriving what the data gives."""

    def __init__(self, doc: Document, catalog: Catalog | None) -> None:
        self.doc = doc
        self.catalog = catalog
        self.positions = MappingProxyType({format_field(p): pos for p, pos in doc.values.items()})
        self.problems: list[Problem] = []

    def problem(self, field_name: str, message: str) -> None:
        line, col = field_position(self.positions, field_name)
        self.problems.append(Problem(self.doc.path, line, col, field_name, message))

    def derived(self, raw: dict[str, Any], key: str, where: str, value: int, how: str) -> int:
        """Return ``value``; a typed number at ``where`` must equal it."""
        typed = raw.get(key)
        if typed is not None and typed != value:
            self.problem(
                where,
                f"is {typed}, but {how} gives {value}; delete this line: the number is derived",
            )
        return value

    def listed_count(self, raw: dict[str, Any], where: str) -> int:
        """Return an entry's count: the length of its id lists when it has any."""
        listed = len(raw.get("studies", [])) + len(raw.get("trials", []))
        if "studies" in raw or "trials" in raw:
            typed = raw.get("count")
            if typed is not None and typed != listed:
                msg = f"count is {typed}, but {listed} record id(s) are listed; delete the count"
                self.problem(f"{where}.count", msg)
            return listed
        if "count" not in raw:
            self.problem(where, "count: give a count, or list the record ids it stands for")
            return 0
        return int(raw["count"])

    def reasons(self, raw: list[dict[str, Any]], where: str) -> tuple[PrismaCount, ...]:
        return tuple(
            PrismaCount(
                r["reason"], self.listed_count(r, f"{where}[{i}]"), tuple(r.get("trials", []))
            )
            for i, r in enumerate(raw)
        )

    def build(self) -> Prisma:
        d = self.doc.data
        db, om, inc = d["databases_registers"], d["other_methods"], d.get("included", {})
        sources = tuple(
            PrismaSource(
                label=s["label"],
                count=self.listed_count(s, f"other_methods.sources[{i}]"),
                studies=tuple(s.get("studies", [])),
                trials=tuple(s.get("trials", [])),
                note=s.get("note", ""),
            )
            for i, s in enumerate(om["sources"])
        )
        removed = db["duplicates_removed"] + db["automation_removed"] + db["other_removed"]
        identified = db["databases"] + db["registers"]
        screened = self.derived(
            db,
            "screened",
            "databases_registers.screened",
            identified - removed,
            f"records identified ({identified}) minus records removed before screening ({removed})",
        )
        sought = self.derived(
            db,
            "sought",
            "databases_registers.sought",
            screened - db["records_excluded"],
            f"records screened ({screened}) minus records excluded ({db['records_excluded']})",
        )
        assessed = self.derived(
            db,
            "assessed",
            "databases_registers.assessed",
            sought - db["not_retrieved"],
            f"reports sought ({sought}) minus reports not retrieved ({db['not_retrieved']})",
        )
        left = DatabasesColumn(
            databases=db["databases"],
            registers=db["registers"],
            duplicates_removed=db["duplicates_removed"],
            automation_removed=db["automation_removed"],
            other_removed=db["other_removed"],
            screened=screened,
            records_excluded=db["records_excluded"],
            sought=sought,
            not_retrieved=db["not_retrieved"],
            assessed=assessed,
            reports_excluded=self.reasons(
                db["reports_excluded"], "databases_registers.reports_excluded"
            ),
            note=db.get("note", ""),
        )
        not_sought = self.reasons(om["not_sought"], "other_methods.not_sought")
        om_identified = sum(s.count for s in sources)
        skipped = sum(c.count for c in not_sought)
        om_sought = self.derived(
            om,
            "sought",
            "other_methods.sought",
            om_identified - om["duplicates_removed"] - skipped,
            f"records identified ({om_identified}) minus duplicates "
            f"({om['duplicates_removed']}) and records not sought ({skipped})",
        )
        om_assessed = self.derived(
            om,
            "assessed",
            "other_methods.assessed",
            om_sought - om["not_retrieved"],
            f"reports sought ({om_sought}) minus reports not retrieved ({om['not_retrieved']})",
        )
        right = OtherMethodsColumn(
            sources=sources,
            duplicates_removed=om["duplicates_removed"],
            not_sought=not_sought,
            sought=om_sought,
            not_retrieved=om["not_retrieved"],
            assessed=om_assessed,
            reports_excluded=self.reasons(om["reports_excluded"], "other_methods.reports_excluded"),
            note=om.get("note", ""),
        )
        return Prisma(
            path=self.doc.path,
            databases_registers=left,
            other_methods=right,
            included=self.included(inc, sources),
            updated=d["updated"],
            positions=self.positions,
        )

    def included(self, inc: dict[str, Any], sources: tuple[PrismaSource, ...]) -> Included:
        """Return the included box: counted from the records when they are known."""
        listed_studies = {i for s in sources for i in s.studies}
        any_trials = any(s.trials for s in sources)
        catalog = self.catalog
        if catalog is not None:
            studies = self.derived(
                inc,
                "studies",
                "included.studies",
                len(catalog.studies),
                "the study records in data/studies/",
            )
            reports = self.derived(
                inc,
                "reports",
                "included.reports",
                len({s.references[0] for s in catalog.studies if s.references}),
                "the distinct primary reports of the study records",
            )
            ongoing: int | None = None
            if "ongoing_trials" in inc or any_trials:
                ongoing = self.derived(
                    inc,
                    "ongoing_trials",
                    "included.ongoing_trials",
                    len(catalog.trials),
                    "the trial records in data/trials/",
                )
        else:
            # Checked on its own: the listed ids stand in for the records; check_prisma
            # compares the result with the records once they are loaded.
            studies = len(listed_studies) if listed_studies else int(inc.get("studies", 0))
            reports = int(inc.get("reports", studies))
            ongoing = inc.get("ongoing_trials")
            if ongoing is None and any_trials:
                ongoing = len({i for s in sources for i in s.trials})
        if "studies" not in inc and catalog is None and not listed_studies:
            self.problem("included", "studies: list the study ids under the sources")
        return Included(studies, reports, ongoing, inc.get("note", ""))


def _arithmetic_problems(p: Prisma, check_reports: bool = True) -> list[Problem]:
    """Check what the derivation cannot: the columns end in the included reports."""
    db, om = p.databases_registers, p.other_methods
    db_in = db.assessed - sum(c.count for c in db.reports_excluded)
    om_in = om.assessed - sum(c.count for c in om.reports_excluded)
    problems = []
    if check_reports and p.included.reports != db_in + om_in:
        msg = (
            f"reports of included studies are {p.included.reports}, but reports assessed minus "
            f"reports excluded, over both columns, give {db_in + om_in} ({db_in} + {om_in}); "
            "list each study under the source that found it, or correct the typed counts"
        )
        problems.append(p.problem("included.reports", msg))
    if p.included.studies > p.included.reports:
        msg = f"{p.included.studies} studies cannot come from {p.included.reports} reports"
        problems.append(p.problem("included.studies", msg))
    for name, column in (
        ("databases_registers", db),
        ("other_methods", om),
    ):
        for box in ("screened", "sought", "assessed"):
            value = getattr(column, box, 0)
            if value < 0:
                msg = f"is {value}: more records are removed or excluded than the box above holds"
                problems.append(p.problem(f"{name}.{box}", msg))
    return problems


def check_prisma(prisma: Prisma, catalog: Catalog) -> list[Problem]:
    """Check the PRISMA numbers against the records; the build should fail on any problem.

    ``included.studies`` must equal the number of study records and ``included.ongoing_trials``
    (when given) the number of trial records. Every listed study or trial id must exist and be
    listed once; as soon as any source lists ids, every record must be listed under a source.

    Returns:
        Problems located at the field of ``data/prisma.yaml`` that disagrees.
    """
    problems: list[Problem] = []
    n = len(catalog.studies)
    if prisma.included.studies != n:
        msg = (
            f"{prisma.included.studies} studies included, but there are {n} study records in "
            "data/studies/; update the PRISMA numbers"
        )
        problems.append(prisma.problem("included.studies", msg))
    trials = len(catalog.trials)
    if prisma.included.ongoing_trials not in (None, trials):
        msg = (
            f"{prisma.included.ongoing_trials} ongoing trials, but there are {trials} trial "
            "records in data/trials/; update the PRISMA numbers"
        )
        problems.append(prisma.problem("included.ongoing_trials", msg))
    for kind, folder, known in (
        ("studies", "data/studies", {s.id for s in catalog.studies}),
        ("trials", "data/trials", {t.id for t in catalog.trials}),
    ):
        seen: dict[str, str] = {}
        for i, src in enumerate(prisma.other_methods.sources):
            for j, rid in enumerate(getattr(src, kind)):
                where = f"other_methods.sources[{i}].{kind}[{j}]"
                if rid not in known:
                    msg = f"unknown record '{rid}' (no {folder}/{rid}.yaml)"
                    problems.append(prisma.problem(where, msg))
                elif rid in seen:
                    problems.append(prisma.problem(where, f"'{rid}' is listed twice ({seen[rid]})"))
                else:
                    seen[rid] = where
        missing = sorted(known - set(seen))
        if seen and missing:
            msg = (
                f"records in {folder}/ not listed under any source: {', '.join(missing)}; list "
                "each under the source that found it"
            )
            problems.append(prisma.problem("other_methods.sources", msg))
    problems.extend(_reason_id_problems(prisma, {t.id for t in catalog.trials}))
    return problems


def _reason_id_problems(prisma: Prisma, known: set[str]) -> list[Problem]:
    """Check the trial ids that reasons (records not sought, reports excluded) list."""
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    columns = (
        ("databases_registers", (), prisma.databases_registers.reports_excluded),
        ("other_methods", prisma.other_methods.not_sought, prisma.other_methods.reports_excluded),
    )
    for name, not_sought, excluded in columns:
        for box, reasons in (("not_sought", not_sought), ("reports_excluded", excluded)):
            for i, reason in enumerate(reasons):
                for j, rid in enumerate(reason.trials):
                    where = f"{name}.{box}[{i}].trials[{j}]"
                    if rid not in known:
                        msg = f"unknown record '{rid}' (no data/trials/{rid}.yaml)"
                        problems.append(prisma.problem(where, msg))
                    elif rid in seen:
                        msg = f"'{rid}' is listed twice ({seen[rid]})"
                        problems.append(prisma.problem(where, msg))
                    else:
                        seen[rid] = where
    return problems
