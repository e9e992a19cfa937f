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
)
from .schema import schema_problems, schema_validator


def load_prisma(root: Path) -> tuple[Prisma | None, list[Problem]]:
    """Load and validate ``data/prisma.yaml`` against ``data/schema/prisma.schema.json``.

    Beyond the schema, checks that each column adds up (identified − removed = screened, ...)
    and that a source listing record ids lists as many as it counts. Checks against the records
    themselves are in :func:`check_prisma`.

    Args:
        root: Project root (holds ``data/``).

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
    prisma = _build_prisma(doc)
    return prisma, _arithmetic_problems(prisma)


def _counts(raw: list[dict[str, Any]]) -> tuple[PrismaCount, ...]:
    return tuple(PrismaCount(r["reason"], r["count"]) for r in raw)


def _build_prisma(doc: Document) -> Prisma:
    d = doc.data
    db, om, inc = d["databases_registers"], d["other_methods"], d["included"]
    sources = tuple(
        PrismaSource(
            label=s["label"],
            count=s["count"],
            studies=tuple(s.get("studies", [])),
            trials=tuple(s.get("trials", [])),
            note=s.get("note", ""),
        )
        for s in om["sources"]
    )
    db_fields = {k: v for k, v in db.items() if k not in ("reports_excluded", "note")}
    return Prisma(
        path=doc.path,
        databases_registers=DatabasesColumn(
            **db_fields, reports_excluded=_counts(db["reports_excluded"]), note=db.get("note", "")
        ),
        other_methods=OtherMethodsColumn(
            sources=sources,
            duplicates_removed=om["duplicates_removed"],
            not_sought=_counts(om["not_sought"]),
            sought=om["sought"],
            not_retrieved=om["not_retrieved"],
            assessed=om["assessed"],
            reports_excluded=_counts(om["reports_excluded"]),
            note=om.get("note", ""),
        ),
        included=Included(
            studies=inc["studies"],
            reports=inc["reports"],
            ongoing_trials=inc.get("ongoing_trials"),
            note=inc.get("note", ""),
        ),
        updated=d["updated"],
        positions=MappingProxyType({format_field(p): pos for p, pos in doc.values.items()}),
    )


def _arithmetic_problems(p: Prisma) -> list[Problem]:
    """Check that each box follows from the boxes above it."""
    db, om = p.databases_registers, p.other_methods
    removed = db.duplicates_removed + db.automation_removed + db.other_removed
    not_sought = sum(c.count for c in om.not_sought)
    db_in = db.assessed - sum(c.count for c in db.reports_excluded)
    om_in = om.assessed - sum(c.count for c in om.reports_excluded)
    checks = [
        (
            "databases_registers.screened",
            db.screened,
            db.databases + db.registers - removed,
            f"records identified ({db.databases} + {db.registers}) minus records removed before "
            f"screening ({removed})",
        ),
        (
            "databases_registers.sought",
            db.sought,
            db.screened - db.records_excluded,
            f"records screened ({db.screened}) minus records excluded ({db.records_excluded})",
        ),
        (
            "databases_registers.assessed",
            db.assessed,
            db.sought - db.not_retrieved,
            f"reports sought ({db.sought}) minus reports not retrieved ({db.not_retrieved})",
        ),
        (
            "other_methods.sought",
            om.sought,
            om.identified - om.duplicates_removed - not_sought,
            f"records identified ({om.identified}) minus duplicates ({om.duplicates_removed}) "
            f"and records not sought ({not_sought})",
        ),
        (
            "other_methods.assessed",
            om.assessed,
            om.sought - om.not_retrieved,
            f"reports sought ({om.sought}) minus reports not retrieved ({om.not_retrieved})",
        ),
        (
            "included.reports",
            p.included.reports,
            db_in + om_in,
            f"reports assessed minus reports excluded, over both columns ({db_in} + {om_in})",
        ),
    ]
    problems = [
        p.problem(name, f"is {have}, but {how} gives {want}")
        for name, have, want, how in checks
        if have != want
    ]
    if p.included.studies > p.included.reports:
        msg = f"{p.included.studies} studies cannot come from {p.included.reports} reports"
        problems.append(p.problem("included.studies", msg))
    for i, src in enumerate(om.sources):
        listed = len(src.studies) + len(src.trials)
        if (src.studies or src.trials) and listed != src.count:
            msg = f"count is {src.count}, but {listed} record id(s) are listed"
            problems.append(p.problem(f"other_methods.sources[{i}].count", msg))
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
    return problems
