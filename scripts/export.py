#!/usr/bin/env python3
"""Write the review as a plain MkDocs project: the final Markdown, buildable without our hooks.

Usage: ``python scripts/export.py [--root DIR] [--out DIR]`` (``make export`` writes
``export/``). The output holds ``docs/`` with every page as the hooks hand it to MkDocs
(markers and citations expanded, generated pages written out), the assets, the feed and the
downloads, and an ``mkdocs.yml`` without ``hooks:``. ``mkdocs build`` on it gives the same
pages as the review's own build, so the review stays buildable if MkDocs or its theme must be
replaced.

The tree is made by the benchmark's instrumented build (``scripts/bench.py``), which already
records each page's final Markdown and every file the hooks add; this script only runs it on
the real project and writes the result.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import _paths
from bench import driver_cmd, write_plain_project


def main(argv: list[str] | None = None) -> int:
    """Export the project at ``--root`` into ``--out``; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=_paths.ROOT, help="the project to export")
    parser.add_argument("--out", type=Path, default=_paths.ROOT / "export", help="output folder")
    args = parser.parse_args(argv)
    root: Path = args.root.resolve()
    out: Path = args.out.resolve()
    if out.exists() and any(out.iterdir()):
        if not (out / "mkdocs.yml").is_file() or not (out / "docs").is_dir():
            print(
                f"error: {out} exists and is not an earlier export; not removing it",
                file=sys.stderr,
            )
            return 1
        shutil.rmtree(out)
    elif out.exists():
        out.rmdir()
    with tempfile.TemporaryDirectory(prefix="review-export-") as tmp:
        work = Path(tmp)
        command = driver_cmd(
            "build",
            "--root",
            str(root),
            "--site-dir",
            str(work / "site"),
            "--report",
            str(work / "report.json"),
            "--dump-final",
            str(work / "final-md"),
        )
        result = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            sys.stderr.write(result.stdout + result.stderr)
            print("error: the review's own build failed; nothing exported", file=sys.stderr)
            return 1
        report = json.loads((work / "report.json").read_text(encoding="utf-8"))
        write_plain_project(root, out, work / "final-md", report)
    print(f"Exported {len(report['pages'])} pages to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
