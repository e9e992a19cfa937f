"""Smoke run of the performance benchmark (``scripts/bench.py``) on tiny synthetic reviews.

The real benchmark (``make bench``) takes about 20 minutes; this runs the code paths that need
no extra installs (generation, instrumented build, timed ours/plain builds, the table and
the JSON report) at N = 20 and 40 in well under a minute, and checks the synthetic data.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT

BENCH = ROOT / "scripts" / "bench.py"
HEPML = ROOT.parent / "shared" / "data" / "HEPML.bib"

needs_hepml = pytest.mark.skipif(not HEPML.exists(), reason="shared/data/HEPML.bib is absent")


@needs_hepml
def test_synthetic_bibliography_suffixes_keys_and_loads_cleanly() -> None:
    from livingreview.bibliography import parse_bibtex_bytes
    from livingreview.synthetic import make_bibliography

    text, keys = make_bibliography(HEPML, 3000)
    assert len(keys) == len(set(keys)) == 3000
    assert all(k.rsplit("-s", 1)[1] in ("0", "1") for k in keys)
    assert "Feickert:2021ajf-s0" in keys
    bibliography, problems = parse_bibtex_bytes(text.encode("utf-8"), "references.bib")
    assert problems == []
    assert len(bibliography) == 3000


@needs_hepml
def test_synthetic_project_passes_the_validator(tmp_path: Path) -> None:
    from livingreview.project import check_docs, load_project
    from livingreview.synthetic import make_project

    made = make_project(tmp_path / "p", 30, repo=ROOT, bib_source=HEPML)
    project = load_project(made.root)  # raises ProblemsFound on any invalid record
    assert len(project.catalog.studies) == 30
    assert len(project.bibliography) >= 300
    assert {s.condition for s in project.catalog.studies} == {"eating-disorders", "ptsd"}
    assert len({s.design for s in project.catalog.studies}) >= 4
    assert check_docs(project, made.root / "docs") == []
    first = (made.root / "docs" / made.pages[0]).read_text(encoding="utf-8")
    assert "[[table characteristics]]" in first
    assert first.count("@") >= 30


@needs_hepml
def test_bench_smoke_run_prints_the_table_and_writes_the_json(tmp_path: Path) -> None:
    report = tmp_path / "bench.json"
    result = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--sizes",
            "20,40",
            "--repeat",
            "1",
            "--json",
            str(report),
            "--work-dir",
            str(tmp_path / "work"),
            "--skip-bibtex",
            "--skip-serve",
            "--skip-pdf",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| N | build (s) | plain MkDocs (s) | overhead |" in result.stdout
    assert "| 40 |" in result.stdout
    data = json.loads(report.read_text(encoding="utf-8"))
    assert [r["n"] for r in data["results"]] == [20, 40]
    for r in data["results"]:
        for key in ("n", "build_s", "plain_s", "overhead", "citation_s", "peak_rss_mb"):
            assert isinstance(r[key], (int, float)), key
        assert r["build_s"] > 0 and r["plain_s"] > 0 and r["peak_rss_mb"] > 0
        assert r["overhead"] == pytest.approx(r["build_s"] / r["plain_s"], rel=0.01)
        # Cold (no .cache) and warm (the cache an earlier build left) are both measured.
        assert r["overhead_cold"] == r["overhead"]
        assert r["build_warm_s"] > 0
        assert r["overhead_warm"] == pytest.approx(r["build_warm_s"] / r["plain_s"], rel=0.01)
        # The .bib parse is timed (and counted in the citation time) in the cold build.
        assert r["timers_s"]["lib.parse_bibtex_bytes"] > 0
        assert r["citation_s"] >= r["timers_s"]["lib.parse_bibtex_bytes"]
        # Every citation in the generated pages was resolved by our build.
        assert r["citations_resolved"] == r["citations"] > 0
    assert data["results"][1]["scaling"] is not None
    for key in ("mkdocs_bibtex", "serve", "pdf"):
        assert key in data and data[key] is None
    machine = data["machine"]
    for key in ("platform", "cpu_count", "cpu_model", "memory_gb", "python", "date"):
        assert key in machine


@pytest.mark.parametrize(
    ("log", "expected"),
    [
        # What scripts/build_pdf.py prints today (after its progress lines).
        (
            "build_pdf: rendering 40 site pages\n"
            "build_pdf: wrote review.pdf: 84 pages from 40 site pages, 3.1 MB, "
            "11.8 s (7 pages/s)\n",
            {"pages": 84, "seconds": 11.8},
        ),
        # Other wording, thousands separators, a rate before the count, whole seconds.
        (
            "done: 18 pages/s, 1,225 pages written in 68 seconds\n",
            {"pages": 1225, "seconds": 68.0},
        ),
        ("wrote x.pdf: 1 page, 0.4 s\n", {"pages": 1, "seconds": 0.4}),
        # No count, or only a rate: the caller falls back to pypdf and the wall time.
        ("build_pdf: error: the site has no review-pages.json\n", None),
        ("12 pages/s\n", None),
    ],
)
def test_pdf_report_is_read_from_the_scripts_output(
    log: str, expected: dict[str, float] | None
) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    from benchmark.runner import parse_pdf_report

    assert parse_pdf_report(log) == expected


def test_mkdocs_bibtex_comparison_alternates_the_sides_and_compares_medians(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The citation speed-up is a ratio of medians of runs made in ABBA order (the load drifts)."""
    import argparse

    from benchmark import runner

    order: list[str] = []
    ours = iter([3.0, 2.0, 4.0])
    theirs = iter([12.0, 10.0, 9.0])
    main = {"main_report": {"on_config": 1.0, "on_page_markdown": 1.0}}

    def instrumented(self: Any, root: Path, tag: str, **_: Any) -> tuple[dict[str, Any], None]:
        (root.parent / "expanded-md").mkdir(parents=True, exist_ok=True)
        (root.parent / "site-instrumented").mkdir(exist_ok=True)
        if tag.startswith("colonfree-"):
            order.append("ours")
            seconds = {"lib.load_bibliography": next(ours)}
        else:
            seconds = {"lib.load_bibliography": 1.0}
        return {"builds": [{"seconds": seconds}]}, None

    def bibtex_build(self: Any, python: Path, root: Path, tag: str) -> dict[str, Any]:
        (root / "site").mkdir(parents=True, exist_ok=True)
        log = root / "log.txt"
        log.write_text("", encoding="utf-8")
        if tag.startswith("fair-"):
            order.append("theirs")
            return {
                "on_config": 0.0,
                "on_page_markdown": next(theirs),
                "build": 1.0,
                "log": str(log),
            }
        return {**main["main_report"], "build": 1.0, "log": str(log)}

    def project(self: Any, n: int, *, colon_free: bool = False) -> Path:
        root = tmp_path / f"n{n}{'-colonfree' if colon_free else ''}" / "ours"
        root.mkdir(parents=True, exist_ok=True)
        return root

    monkeypatch.setattr(runner.Bench, "instrumented", instrumented)
    monkeypatch.setattr(runner.Bench, "_bibtex_build", bibtex_build)
    monkeypatch.setattr(runner.Bench, "project", project)
    monkeypatch.setattr(runner, "ensure_bibtex_venv", lambda: Path(sys.executable))
    monkeypatch.setattr(
        runner, "write_bibtex_project", lambda *a: (a[1] / "docs").mkdir(parents=True)
    )
    monkeypatch.setattr(runner, "citation_seconds", lambda s: s["lib.load_bibliography"])
    args = argparse.Namespace(repeat=3, work_dir=tmp_path / "work", json=None)
    bench = runner.Bench.__new__(runner.Bench)
    bench.args, bench.work = args, tmp_path / "work"
    out = bench.bibtex(100)
    assert order == ["ours", "theirs", "theirs", "ours", "ours", "theirs"]
    assert out["ours_runs_s"] == [3.0, 2.0, 4.0] and out["theirs_runs_s"] == [12.0, 10.0, 9.0]
    # Medians 3.0 and 10.0; the per-pair ratios are in run order.
    assert out["ours_citation_s"] == 3.0 and out["citation_s"] == 10.0
    assert out["speedup"] == round(10.0 / 3.0, 2) and out["speedups"] == [4.0, 5.0, 2.25]


def test_measured_memory_counts_the_worker_processes(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    from benchmark.common import run_measured

    # Two forked children that hold 100 MB each at the same time, as the PDF's workers do:
    # the tree's peak is their sum; the largest single process holds one block.
    code = (
        "import os, time\n"
        "pids = []\n"
        "for _ in range(2):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        '        block = b"x" * (100 * 1024 * 1024)  # written: counted in RSS\n'
        "        time.sleep(1.5)\n"
        "        os._exit(0)\n"
        "    pids.append(pid)\n"
        "for pid in pids:\n"
        "    os.waitpid(pid, 0)\n"
    )
    run = run_measured([sys.executable, "-c", code], tmp_path, tmp_path / "log.txt")
    assert run.returncode == 0
    assert 100 < run.rss_mb < 150, run
    assert run.tree_rss_mb > 200, run


def test_measured_memory_is_not_the_callers(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    from benchmark.common import run_measured

    # wait4's ru_maxrss would report at least this process's size (copied at the fork before
    # the exec); a child that only sleeps holds a few MB.
    ballast = b"x" * (200 * 1024 * 1024)
    code = "import time; time.sleep(0.5)"
    run = run_measured([sys.executable, "-c", code], tmp_path, tmp_path / "log.txt")
    assert len(ballast) and run.returncode == 0
    assert 0 < run.rss_mb < 60, run
