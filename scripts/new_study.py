#!/usr/bin/env python3
"""Create a study record from a BibTeX entry, with a TODO for every value to fill in.

Usage: ``python scripts/new_study.py <bibtex-key> [--root DIR] [--id ID] [--condition C]
[--design D]``. Writes ``data/studies/<id>.yaml`` under DIR (default: this repository), where
``<id>`` is the first author's surname and the year (``feder-2014``, or ``feder-2014b`` when
taken) unless ``--id`` is given. The record has every field the schema requires; values that
only the source can give are ``TODO``, and ``scripts/validate.py`` rejects the record until
each one is filled in. Nothing is ever overwritten.

Exit status: 0 when the record was written; 1 (with a one-line error) when the key is not in
``references.bib``, the id or a term is not allowed, or the file already exists.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import sys
from pathlib import Path

import _paths
from livingreview.bibliography import load_bibliography
from livingreview.errors import ProblemsFound, relative_path, visible
from livingreview.load import check_input_path, load_yaml
from livingreview.scaffold import (
    ScaffoldInput,
    base_id,
    free_id,
    scaffold_record,
    vocabulary_ids,
)
from livingreview.validate import today


class Refused(Exception):
    """The record cannot be created; the message says why, on one line."""


def main(argv: list[str] | None = None) -> int:
    """Create the record; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("key", help="BibTeX key of the study's primary report in references.bib")
    parser.add_argument(
        "--root", type=Path, default=_paths.ROOT, help="directory holding data/ and references.bib"
    )
    parser.add_argument("--id", dest="study_id", help="record id (default: <surname>-<year>)")
    parser.add_argument("--condition", help="term from data/vocabularies/conditions.yaml")
    parser.add_argument("--design", help="term from data/vocabularies/designs.yaml")
    args = parser.parse_args(argv)
    try:
        path = create(args.root, args.key, args.study_id, args.condition, args.design)
    except Refused as exc:
        print(f"new_study.py: error: {visible(str(exc))}", file=sys.stderr)
        return 1
    except ProblemsFound as exc:  # an unusable SOURCE_DATE_EPOCH
        print(exc.report(), file=sys.stderr)
        return 1
    rel = relative_path(path, args.root)
    print(f"Wrote {rel}")
    for other in records_citing(args.root, args.key, exclude=path):
        print(
            f"note: {other} also lists {args.key} in its references; make sure the new record "
            "is a different study",
            file=sys.stderr,
        )
    print(
        "Next steps (CONTRIBUTING.md explains each one):\n"
        "  1. Replace every TODO with what the source reports; the comments list the\n"
        "     allowed terms. Delete optional fields the source does not report.\n"
        f"  2. List {path.stem} in data/prisma.yaml under the source that found it\n"
        "     (its counts follow from the ids and the records).\n"
        "  3. Run `python scripts/validate.py` and fix every line it prints.\n"
        f"  4. Cite the study in a page with [@{args.key}], preview with `make serve`,\n"
        "     run `make test`, and open a pull request."
    )
    return 0


def records_citing(root: Path, key: str, exclude: Path) -> list[str]:
    """Return the study records (relative paths) whose ``references`` list ``key``."""
    found = []
    for path in sorted((root / "data" / "studies").glob("*.yaml")):
        if path == exclude:
            continue
        doc, _problems = load_yaml(path, root)
        refs = doc.data.get("references") if doc is not None else None
        if isinstance(refs, list) and key in refs:
            found.append(doc.path)
    return found


def create(
    root: Path,
    key: str,
    study_id: str | None = None,
    condition: str | None = None,
    design: str | None = None,
) -> Path:
    """Write the scaffold for ``key`` and return its path.

    Raises:
        Refused: When the key is unknown, the id or a term is not allowed, or the record
            exists already.
    """
    bib_path = root / "references.bib"
    if not bib_path.is_file():
        raise Refused(f"{relative_path(bib_path, root)} not found; is --root the project root?")
    bibliography, _problems = load_bibliography(bib_path, root)
    entry = bibliography.get(key)
    if entry is None:
        suggestions = bibliography.suggest(key)
        hint = (
            f"did you mean '{suggestions[0]}'?"
            if suggestions
            else "add its BibTeX entry to references.bib first"
        )
        raise Refused(f"'{key}' is not in references.bib; {hint}")
    schema_path = root / "data" / "schema" / "study.schema.json"
    refused = check_input_path(schema_path, root)
    if refused is not None:
        raise Refused(refused.format())
    try:
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise Refused(f"{relative_path(schema_path, root)} is not valid JSON: {exc}") from None
    studies = root / "data" / "studies"
    if study_id is None:
        derived = base_id(entry)
        if derived is None:
            raise Refused(
                f"cannot derive an id from '{key}' (it needs an author and a year); pass --id"
            )
        taken = [p.stem for p in studies.glob("*.yaml")] if studies.is_dir() else []
        try:
            study_id = free_id(derived, taken)
        except ValueError as exc:
            raise Refused(f"{exc}; pass --id") from None
    pattern = schema.get("properties", {}).get("id", {}).get("pattern")
    # In full: with re.search, "$" also matches before a final newline ("feder-2014\n").
    if pattern and not re.fullmatch(pattern, study_id):
        raise Refused(
            f"id '{study_id}' has the wrong form: lowercase <surname>-<year>, plus a letter if "
            "needed (for example feder-2014b)"
        )
    vocabularies = vocabulary_ids(root)
    values: dict[str, str] = {}
    for name, vocab, value in (
        ("condition", "conditions", condition),
        ("design", "designs", design),
    ):
        if value is None:
            continue
        allowed = vocabularies.get(vocab, [])
        if value not in allowed:
            close = difflib.get_close_matches(value, allowed, n=1, cutoff=0.7)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise Refused(
                f"--{name} '{value}' is not in data/vocabularies/{vocab}.yaml{hint}; "
                f"allowed: {', '.join(allowed)}"
            )
        values[name] = value
    path = studies / f"{study_id}.yaml"
    if path.exists():
        raise Refused(f"{relative_path(path, root)} already exists; it was left unchanged")
    text = scaffold_record(
        schema,
        ScaffoldInput(
            study_id=study_id,
            key=key,
            today=today().isoformat(),
            vocabularies=vocabularies,
            values=values,
        ),
    )
    studies.mkdir(parents=True, exist_ok=True)
    _refuse_outside(studies, root)
    try:
        # O_NOFOLLOW: a symlink planted at the record's name is not followed either.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except FileExistsError as exc:
        raise Refused(f"{relative_path(path, root)} already exists; it was left unchanged") from exc
    return path


def _refuse_outside(folder: Path, root: Path) -> None:
    """Refuse to write into ``folder`` unless it is a real folder inside the project.

    A symlinked ``data/studies/`` (or ``data/``) would put the record outside the repository.
    """
    try:
        inside = folder.resolve(strict=True).is_relative_to(Path(root).resolve(strict=True))
    except (OSError, RuntimeError):
        inside = False
    if not inside or folder.is_symlink():
        raise Refused(
            f"{relative_path(folder, root)} is a symlink or resolves outside the project; "
            "refusing to write there"
        )


if __name__ == "__main__":
    sys.exit(main())
