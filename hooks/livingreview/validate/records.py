"""Study records, vocabularies and the glossary: loading, cross-checks and the Catalog."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..errors import Problem, relative_path
from ..load import Document, load_yaml
from ..model import (
    AdverseEvents,
    Arm,
    Catalog,
    Discrepancy,
    Dose,
    Effect,
    Outcome,
    Provenance,
    Quantity,
    RiskOfBias,
    Source,
    Study,
    Term,
    Vocabulary,
)
from .checks import (
    ZERO_WIDTH,
    KeySet,
    check_dates,
    check_effect_ranges,
    check_keys,
    check_numbers,
    check_terms,
    problem_at,
    walk_fields,
)
from .evidence import check_evidence_claims
from .families import check_outcome_families, check_vocabulary_links
from .placeholders import todo_problems
from .rob import check_risk_of_bias
from .schema import schema_problems, schema_validator, shown_name
from .trials import build_trial, check_trial

#: Vocabularies every dataset needs, by file stem in ``data/vocabularies/``.
REQUIRED_VOCABULARIES = (
    "conditions",
    "diagnoses",
    "comorbidities",
    "designs",
    "drugs",
    "routes",
    "comparators",
    "outcome_measures",
    "result_categories",
    "co_intervention_kinds",
    "trial_statuses",
    "effect_measures",
    "outcome_families",
)

#: Which vocabulary each term field of a study record draws from.
_STUDY_TERMS: tuple[tuple[str, str], ...] = (
    ("condition", "conditions"),
    ("design", "designs"),
    ("diagnoses[]", "diagnoses"),
    ("comorbidities[]", "comorbidities"),
    ("intervention.drug", "drugs"),
    ("intervention.routes[]", "routes"),
    ("co_interventions[].kind", "co_intervention_kinds"),
    ("comparator", "comparators"),
    ("outcomes[].measure", "outcome_measures"),
    ("outcomes[].effect.measure", "effect_measures"),
    ("result.category", "result_categories"),
)


def load_catalog(root: Path, keys: KeySet) -> tuple[Catalog | None, list[Problem]]:
    """Load and validate everything under ``root/data`` into a :class:`Catalog`.

    Args:
        root: Directory holding ``data/``.
        keys: The loaded bibliography (for reference keys).

    Returns:
        The catalog, or ``None`` when any problem was found, and every problem.
    """
    data = root / "data"
    problems: list[Problem] = []
    if not data.is_dir():
        return None, [Problem(relative_path(data, root), None, None, "", "directory not found")]
    vocabulary_docs: dict[str, Document] = {}
    vocabularies = _load_vocabularies(root, problems, vocabulary_docs)
    problems.extend(check_vocabulary_links(vocabulary_docs, vocabularies, keys))
    glossary = _load_glossary(root, problems)
    studies = _load_records(root, "studies", "study", problems)
    trials = _load_records(root, "trials", "trial", problems)
    if problems and not vocabularies:
        return None, problems
    study_models = []
    for doc in studies:
        count = len(problems)
        _check_study(doc, vocabularies, keys, problems)
        if len(problems) == count:
            study_models.append(_build_study(doc, _author_name(keys, doc.data)))
    trial_models = []
    for doc in trials:
        count = len(problems)
        check_trial(doc, vocabularies, keys, problems)
        if len(problems) == count:
            trial_models.append(build_trial(doc))
    if problems:
        return None, problems
    catalog = Catalog(
        studies=tuple(sorted(study_models, key=lambda s: (s.year, s.id))),
        trials=tuple(sorted(trial_models, key=lambda t: t.id)),
        vocabularies=MappingProxyType(vocabularies),
        glossary=glossary,
    )
    return catalog, []


def _record_files(folder: Path, root: Path, problems: list[Problem]) -> list[Path]:
    """Return the ``*.yaml`` files of a record folder; report anything else in it.

    Hidden files (``.DS_Store``) and hidden folders are skipped, but a hidden name ending in
    ``.yaml`` (``...yaml``) is loaded like any record, so that its id is checked instead of the
    record silently vanishing; so is a sub-folder reported, as a record in it would never load.
    """
    if not folder.is_dir():
        return []
    files = []
    for path in sorted(folder.iterdir()):
        hidden = path.name.startswith(".")
        if path.is_dir():
            if not hidden:
                rel = relative_path(path, root)
                msg = (
                    f"unexpected folder; records are YAML files named <id>.yaml directly in "
                    f"{relative_path(folder, root)}/"
                )
                problems.append(Problem(rel, None, None, "", msg))
            continue
        if path.name.endswith(".yaml"):
            files.append(path)
        elif not hidden:
            rel = relative_path(path, root)
            msg = "unexpected file; records are YAML files named <id>.yaml"
            problems.append(Problem(rel, None, None, "", msg))
    return files


def _load_records(root: Path, folder: str, schema: str, problems: list[Problem]) -> list[Document]:
    docs = []
    files = _record_files(root / "data" / folder, root, problems)
    _check_id_collisions(files, root, problems)
    validator = schema_validator(root, schema)
    for path in files:
        doc, found = load_yaml(path, root)
        if doc is not None:
            # A TODO left by scripts/new_study.py: one clear line, instead of a type error.
            found = [*found, *todo_problems(doc, validator.schema)]
        problems.extend(found)
        if doc is None:
            continue
        if schema_problems(doc, validator, problems, already=found):
            continue
        stem = path.name[: -len(".yaml")]
        if doc.data.get("id") != stem:
            line, col = doc.position(("id",))
            msg = f"id '{doc.data.get('id')}' must equal the file name {shown_name(stem)}"
            problems.append(Problem(doc.path, line, col, "id", msg))
            continue
        if not found:
            docs.append(doc)
    return docs


def _load_vocabularies(
    root: Path, problems: list[Problem], docs: dict[str, Document] | None = None
) -> dict[str, Vocabulary]:
    """Load every vocabulary file; ``docs`` receives the loaded files by name (positions)."""
    folder = root / "data" / "vocabularies"
    validator = schema_validator(root, "vocabulary")
    vocabularies: dict[str, Vocabulary] = {}
    for path in _record_files(folder, root, problems):
        doc, found = load_yaml(path, root)
        problems.extend(found)
        if doc is None or found or schema_problems(doc, validator, problems):
            continue
        stem = path.stem
        if doc.data["name"] != stem:
            line, col = doc.position(("name",))
            msg = f"vocabulary name '{doc.data['name']}' must equal the file name '{stem}'"
            problems.append(Problem(doc.path, line, col, "name", msg))
            continue
        terms = []
        seen: dict[str, int] = {}
        for i, raw in enumerate(doc.data["terms"]):
            key = raw["id"].casefold()
            if key in seen:
                line, col = doc.position(("terms", i, "id"))
                msg = f"duplicate term '{raw['id']}' (also terms[{seen[key]}])"
                problems.append(Problem(doc.path, line, col, f"terms[{i}].id", msg))
                continue
            seen[key] = i
            extra = {
                k: v
                for k, v in raw.items()
                if k not in ("id", "label", "abbreviation", "description")
            }
            terms.append(
                Term(
                    id=raw["id"],
                    label=raw["label"],
                    abbreviation=raw.get("abbreviation", ""),
                    description=raw.get("description", ""),
                    extra=MappingProxyType(extra),
                )
            )
        vocabularies[stem] = Vocabulary(stem, tuple(terms))
        if docs is not None:
            docs[stem] = doc
    for name in REQUIRED_VOCABULARIES:
        if name not in vocabularies and not any(p.path.endswith(f"/{name}.yaml") for p in problems):
            rel = f"data/vocabularies/{name}.yaml"
            problems.append(Problem(rel, None, None, "", "required vocabulary file is missing"))
    return vocabularies


def _load_glossary(root: Path, problems: list[Problem]) -> tuple[tuple[str, str], ...]:
    """Load ``data/glossary.yaml`` (optional): abbreviation -> definition, unique."""
    path = root / "data" / "glossary.yaml"
    if not os.path.lexists(path):  # a dangling symlink or FIFO is reported, not skipped
        return ()
    doc, found = load_yaml(path, root)
    problems.extend(found)
    if doc is None or found or schema_problems(doc, schema_validator(root, "glossary"), problems):
        return ()
    terms: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, raw in enumerate(doc.data["terms"]):
        if raw["abbr"] in seen:
            line, col = doc.position(("terms", i, "abbr"))
            msg = f"abbreviation '{raw['abbr']}' is defined twice"
            problems.append(Problem(doc.path, line, col, f"terms[{i}].abbr", msg))
            continue
        # Each definition becomes one Markdown line (``*[abbr]: definition``) on every page: a
        # line break would end it, and the next line would be read as page content (raw HTML).
        definition = raw["definition"].rstrip("\n")  # a folded scalar's final newline is fine
        if len(definition.splitlines()) > 1 or any(
            unicodedata.category(c) == "Cc" for c in definition
        ):
            line, col = doc.position(("terms", i, "definition"))
            msg = (
                "a definition must be one line of text; remove the line break or control character"
            )
            problems.append(Problem(doc.path, line, col, f"terms[{i}].definition", msg))
            continue
        seen.add(raw["abbr"])
        terms.append((raw["abbr"], definition))
    return tuple(terms)


def _check_id_collisions(files: list[Path], root: Path, problems: list[Problem]) -> None:
    """Report file names that differ only by case, Unicode normalization or invisible marks.

    Such names would map to the same URL on case-insensitive hosts and look identical to a
    reviewer, so the second one is an error even where the file system keeps both.
    """

    def key(path: Path) -> str:
        stem = path.name[: -len(".yaml")]
        return ZERO_WIDTH.sub("", unicodedata.normalize("NFKC", stem)).casefold()

    seen: dict[str, Path] = {}
    # A name already in canonical form keeps its place and the look-alike is reported, so
    # the message points at the file that was added, whatever the sort order of the names.
    for path in sorted(files, key=lambda p: (key(p) != p.name[: -len(".yaml")], p.name)):
        stem = path.name[: -len(".yaml")]
        if key(path) in seen:
            rel = relative_path(path, root)
            other = relative_path(seen[key(path)], root)
            msg = (
                f"record id {shown_name(stem)} collides with {shown_name(other)} "
                "(ids must differ by more than case, Unicode normalization or invisible characters)"
            )
            problems.append(Problem(rel, 1, None, "id", msg))
        else:
            seen[key(path)] = path


def _check_study(
    doc: Document, vocabularies: dict[str, Vocabulary], keys: KeySet, problems: list[Problem]
) -> None:
    data = doc.data
    check_terms(doc, _STUDY_TERMS, vocabularies, problems)
    check_keys(
        doc,
        (
            "references[]",
            "provenance[].source",
            "outcomes[].source.ref",
            "discrepancies[].values[].source.ref",
            "risk_of_bias[].source.ref",
            "adverse_events.source.ref",
        ),
        keys,
        problems,
    )
    check_dates(doc, problems)
    check_numbers(doc, problems)
    check_effect_ranges(doc, vocabularies.get("effect_measures"), problems)
    check_evidence_claims(doc, vocabularies, problems)
    check_risk_of_bias(doc, vocabularies, problems)
    check_outcome_families(doc, vocabularies, problems)
    designs = vocabularies.get("designs")
    primary = (
        designs and data["design"] in designs and designs[data["design"]].get("kind") == "primary"
    )
    if primary and not {"n", "n_not_reported"} & set(data["participants"]):
        problems.append(
            problem_at(
                doc,
                ("participants", "n"),
                "required field is missing (primary studies must give n)",
            )
        )
    diagnoses = vocabularies.get("diagnoses")
    if diagnoses:
        for path, code in walk_fields(data, "diagnoses[]"):
            if code in diagnoses and diagnoses[code].get("condition") not in (
                None,
                data["condition"],
            ):
                problems.append(
                    problem_at(
                        doc,
                        path,
                        f"diagnosis '{code}' belongs to condition "
                        f"'{diagnoses[code].get('condition')}', not '{data['condition']}'",
                    )
                )
    refs = data["references"]
    seen: set[str] = set()
    for i, ref in enumerate(refs):
        if ref in seen:
            problems.append(
                problem_at(doc, ("references", i), f"reference '{ref}' is listed twice")
            )
        seen.add(ref)
    for path, entry in walk_fields(data, "provenance[]"):
        if entry.get("status") != "verified" and not entry.get("note"):
            msg = "a note is required when the status is not 'verified': say what is unverified"
            problems.append(problem_at(doc, (*path, "status"), msg))
    bibliographic = data["bibliographic"]
    if bibliographic.get("status") != "verified" and not bibliographic.get("note"):
        msg = "a note is required when the status is not 'verified': say what is unverified"
        problems.append(problem_at(doc, ("bibliographic", "status"), msg))
    for path, source in walk_fields(data, "provenance[].source"):
        if source not in refs:
            problems.append(
                problem_at(
                    doc, path, f"provenance source '{source}' must also be listed in references"
                )
            )


# --- building the model --------------------------------------------------------------------


def _quantity(raw: dict[str, Any] | None) -> Quantity | None:
    return Quantity(**raw) if raw else None


def _source(raw: dict[str, Any]) -> Source:
    return Source(ref=raw["ref"], locator=raw["locator"])


def _author_name(keys: KeySet, data: dict[str, Any]) -> str:
    """Return the primary reference's first-author surname when it matches the record's id.

    The id is lowercase ASCII (``mcghee-2008``); the reference keeps the real spelling
    (``McGhee``). A surname that does not fold to the id is not used, so a label never
    disagrees with the file name.
    """
    get = getattr(keys, "get", None)
    entry = get(data["references"][0]) if callable(get) else None
    authors = entry.csl.get("author") if entry is not None else None
    family = authors[0].get("family", "") if authors and isinstance(authors[0], dict) else ""
    folded = unicodedata.normalize("NFKD", family).encode("ascii", "ignore").decode()
    folded = re.sub(r"[^a-z]+", "-", folded.lower()).strip("-")
    return family if folded and folded == data["id"].rsplit("-", 1)[0] else ""


def _adverse_events(raw: dict[str, Any] | None) -> AdverseEvents | None:
    if not raw:
        return None
    return AdverseEvents(
        reporting=raw["reporting"],
        summary=raw["summary"],
        source=_source(raw["source"]),
        serious=raw.get("serious", ""),
        dropouts=raw.get("dropouts", ""),
    )


def _build_study(doc: Document, author_name: str = "") -> Study:
    d = doc.data
    pop, part, inter, res = d["population"], d["participants"], d["intervention"], d["result"]
    outcomes = []
    for o in d.get("outcomes", []):
        effect = Effect(**o["effect"]) if "effect" in o else None
        arms = tuple(Arm(**a) for a in o.get("arms", []))
        outcomes.append(
            Outcome(
                measure=o["measure"],
                finding=o["finding"],
                source=_source(o["source"]),
                primary=o.get("primary", False),
                timepoint=o.get("timepoint", ""),
                family=o.get("family", ""),
                family_note=o.get("family_note", ""),
                arms=arms,
                effect=effect,
            )
        )
    return Study(
        id=d["id"],
        path=doc.path,
        condition=d["condition"],
        design=d["design"],
        summary=d["summary"],
        population=pop["description"],
        population_group=pop.get("group", "not-applicable"),
        setting=pop.get("setting", ""),
        country=pop.get("country", ""),
        n=part.get("n"),
        n_female=part.get("n_female"),
        female_percent=part.get("female_percent"),
        age_years=_quantity(part.get("age_years")),
        illness_duration_years=_quantity(part.get("illness_duration_years")),
        studies_included=part.get("studies_included"),
        groups=tuple((g["name"], g["n"]) for g in part.get("groups", [])),
        diagnoses=tuple(d["diagnoses"]),
        comorbidities=tuple(d.get("comorbidities", [])),
        drug=inter["drug"],
        routes=tuple(inter["routes"]),
        dose=Dose(**inter["dose"]) if "dose" in inter else None,
        sessions=_quantity(inter.get("sessions")),
        session_minutes=_quantity(inter.get("session_minutes")),
        schedule=inter.get("schedule", ""),
        intervention_description=inter.get("description", ""),
        co_interventions=tuple(
            (c["kind"], c["description"]) for c in d.get("co_interventions", [])
        ),
        comparator=d["comparator"],
        comparator_detail=d.get("comparator_detail", ""),
        follow_up=d.get("follow_up", ""),
        outcomes=tuple(outcomes),
        result_category=res["category"],
        result_summary=res["summary"],
        adverse_events=_adverse_events(d.get("adverse_events")),
        registration=d.get("registration", ""),
        url=d.get("url", ""),
        discrepancies=tuple(
            Discrepancy(x["field"], tuple((v["value"], _source(v["source"])) for v in x["values"]))
            for x in d.get("discrepancies", [])
        ),
        references=tuple(d["references"]),
        provenance=tuple(
            Provenance(
                source=p["source"],
                covers=tuple(p["covers"]),
                status=p["status"],
                locator=p.get("locator", ""),
                note=p.get("note", ""),
                basis=p.get("basis", ""),
            )
            for p in d["provenance"]
        ),
        bibliographic_status=d["bibliographic"]["status"],
        bibliographic_note=d["bibliographic"].get("note", ""),
        risk_of_bias=tuple(
            RiskOfBias(
                r["tool"], _source(r["source"]), MappingProxyType(dict(r["domains"])), r["overall"]
            )
            for r in d.get("risk_of_bias", [])
        ),
        notes=tuple(d.get("notes", [])),
        added=d["added"],
        updated=d["updated"],
        author_name=author_name,
        n_not_reported=part.get("n_not_reported", ""),
        n_includes_without_condition=part.get("n_includes_without_condition", ""),
    )


Checker = Callable[[Document], None]
