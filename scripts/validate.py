#!/usr/bin/env python3
"""Check the review's inputs and print one line per problem.

Usage: ``python scripts/validate.py [--root DIR]``. DIR holds ``data/`` and ``references.bib``
(default: this repository); its ``docs/`` pages, if present, are checked for unknown citation
keys, bad markers and collisions with generated pages. Exit status: 0 when everything is valid,
1 when any problem was found, 2 on a bug in the validator (one line saying so). Nothing is ever
written. Under GitHub Actions (``GITHUB_ACTIONS=true``) each problem is also printed as an
``::error`` annotation.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import _paths
from livingreview.errors import Problem, ProblemsFound, internal_error, sort_problems
from livingreview.project import check_docs, load_project
from livingreview.validate.options import check_site_options, read_site_options


def main(argv: list[str] | None = None) -> int:
    """Run the validator; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--root", type=Path, default=_paths.ROOT, help="directory holding data/ and references.bib"
    )
    args = parser.parse_args(argv)
    root: Path = args.root
    problems: list[Problem] = []
    summary = ""
    try:
        # The site options in mkdocs.yml, checked by the same function as the build's on_config.
        _, problems = check_site_options(*read_site_options(root), root)
        project = load_project(root)
        # Warnings (a release cut without a search since the one before) do not fail here.
        for warning in project.warnings:
            print(warning.format())
        if (root / "docs").is_dir():
            problems += check_docs(project, root / "docs")
    except ProblemsFound as exc:
        problems += exc.problems
    except Exception as exc:  # a bug: one line that says so, not a traceback
        print(internal_error(exc, "validating the inputs"), file=sys.stderr)
        return 2
    else:
        cat = project.catalog
        summary = (
            f"{len(cat.studies)} studies, {len(cat.trials)} trials, "
            f"{len(project.bibliography.entries)} references"
        )
    problems = sort_problems(problems)
    annotate = os.environ.get("GITHUB_ACTIONS") == "true"
    for problem in problems:
        print(problem.format())
        if annotate:
            print(problem.github_annotation())
    if problems:
        print(f"{len(problems)} problem(s) found.", file=sys.stderr)
        return 1
    print(f"OK: {summary} validated.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
