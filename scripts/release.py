#!/usr/bin/env python3
"""Cut a release of the living review: record the version, its snapshot, and citation metadata.

Usage::

    python scripts/release.py VERSION --trigger "TEXT" --conclusions changed|unchanged
        [--date YYYY-MM-DD] [--root DIR]

Runs the validator first and refuses on any problem (one line per problem), on a VERSION that
is not greater than the newest one, or on a date before it. Otherwise it adds VERSION at the
top of ``data/versions.yaml`` with a snapshot (every study id with a hash of its record, and
the PRISMA counts), sets ``version`` and ``date-released`` in ``CITATION.cff`` and writes
``.zenodo.json``. The three files are written all or none; a refused release changes nothing.
Exit status: 0 when released, 1 when refused, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import _paths
from livingreview.errors import relative_path
from livingreview.release_cut import plan_release, write_all
from livingreview.releases import CONCLUSIONS


def main(argv: list[str] | None = None) -> int:
    """Cut a release; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("version", metavar="VERSION", help="new version, MAJOR.MINOR.PATCH")
    parser.add_argument("--trigger", required=True, help="what triggered this version")
    parser.add_argument(
        "--conclusions",
        required=True,
        help=f"whether the review's conclusions changed: {' or '.join(CONCLUSIONS)}",
    )
    parser.add_argument("--date", help="release date, YYYY-MM-DD (default: today)")
    parser.add_argument(
        "--root", type=Path, default=_paths.ROOT, help="directory holding data/ and CITATION.cff"
    )
    args = parser.parse_args(argv)
    plan = plan_release(args.root, args.version, args.trigger, args.conclusions, args.date)
    for warning in plan.warnings:
        print(warning.format())
    if plan.problems:
        for problem in plan.problems:
            print(problem.format())
        refused = f"Release refused: {len(plan.problems)} problem(s); nothing was changed."
        print(refused, file=sys.stderr)
        return 1
    try:
        write_all(plan.files)
    except OSError as exc:
        print(f"release.py: error: cannot write files: {exc.strerror}; nothing was changed.")
        return 1
    assert plan.release is not None
    written = ", ".join(relative_path(p, args.root) for p in plan.files)
    studies = len(plan.release.snapshot.studies) if plan.release.snapshot else 0
    print(
        f"Released {plan.release.version} ({plan.release.date}) with {studies} studies; "
        f"wrote {written}.",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
