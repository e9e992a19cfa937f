#!/usr/bin/env python3
"""Performance benchmark of the site build on synthetic reviews of N studies.

Usage: ``python scripts/bench.py [--sizes 500,1000] [--repeat 3] [--json PATH]
[--skip-bibtex] [--skip-serve] [--skip-pdf] [--profile N]`` (``make bench`` runs 500 and
1,000 with every part; ``make bench-large`` the builds alone at 2,000 and 4,000). For every
N it writes a synthetic project (real schema and vocabularies, N valid records citing 3-5
of ``10 * N`` references made from ``shared/data/HEPML.bib``, N/10 narrative pages citing
about 30 keys each), then measures, side by side in one run:

1. overhead: our strict build / plain MkDocs building the same final Markdown as static pages
   (same theme and settings, ``hooks:`` removed);
2. scaling: build(2N) / build(N);
3. citations: time in citation parsing and formatting, against mkdocs-bibtex 4.4.0 (installed
   in its own venv under ``build/bench-venv``, never in the project's lock file);
4. serve rebuild: from saving an edited record to the rebuilt page under ``mkdocs serve``,
   and the share of the hooks in that rebuild; whether parsed inputs are reused;
5. PDF: pages per second and peak memory per page, when ``scripts/build_pdf.py`` exists;
6. memory: peak RSS of every build (each in a fresh process).

Every timed build is a fresh ``python -m mkdocs build --strict`` subprocess (the flags of
``make site``); ours and plain runs alternate and each is repeated ``--repeat`` times, the
median is kept and only ratios of runs made side by side are reported, because the machine is
shared. Instrumented numbers (hooks, citations) come from one extra in-process build per N in
a subprocess that wraps the library calls with timers (``bench.py driver ...``). Progress goes
to stderr, the table to stdout.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmark.common import DEFAULT_BIB, DEFAULT_WORK, Run, driver_cmd, run_measured, say
from benchmark.driver import Recorder, driver_main
from benchmark.projects import write_plain_project
from benchmark.report import table
from benchmark.runner import Bench


def parse_sizes(text: str) -> list[int]:
    """Parse ``500,1000`` into sizes."""
    sizes = [int(part) for part in text.split(",") if part.strip()]
    if not sizes or min(sizes) < 10:
        raise argparse.ArgumentTypeError("sizes must be integers >= 10, e.g. 500,1000")
    return sizes


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or, with ``driver``, one instrumented MkDocs process)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "driver":
        return driver_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=parse_sizes, default=parse_sizes("500,1000"))
    parser.add_argument("--repeat", type=int, default=3, help="timed builds per side and N")
    parser.add_argument("--json", type=Path, help="write the full report here")
    parser.add_argument("--bib", type=Path, default=DEFAULT_BIB, help="real-world .bib source")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--skip-bibtex", action="store_true", help="no mkdocs-bibtex comparison")
    parser.add_argument("--skip-serve", action="store_true", help="no mkdocs serve rebuilds")
    parser.add_argument("--skip-pdf", action="store_true", help="no PDF measurement")
    parser.add_argument("--bibtex-size", type=int, help="N for mkdocs-bibtex (default 1000)")
    parser.add_argument("--serve-size", type=int, help="N for mkdocs serve (default 1000)")
    parser.add_argument("--pdf-size", type=int, help="synthetic N for the PDF (default 500)")
    parser.add_argument("--profile", type=int, metavar="N", help="cProfile a build at N")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if not args.bib.exists():
        parser.error(f"{args.bib} does not exist (pass --bib)")
    args.work_dir = args.work_dir.resolve()
    bench = Bench(args)
    data = bench.run()
    print(table(data))
    if args.json:
        say(f"wrote {args.json}")
    if bench.failed:
        say(f"failed parts: {', '.join(bench.failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = [
    "Bench",
    "Recorder",
    "Run",
    "driver_cmd",
    "main",
    "run_measured",
    "table",
    "write_plain_project",
]
