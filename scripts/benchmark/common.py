"""Shared settings of the benchmark and its measured subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "hooks"))

DEFAULT_BIB = ROOT.parent / "shared" / "data" / "HEPML.bib"
DEFAULT_WORK = ROOT / "build" / "bench"
BENCH_VENV = ROOT / "build" / "bench-venv"
BIBTEX_REQUIREMENTS = ("mkdocs==1.6.1", "mkdocs-material==9.8.1", "mkdocs-bibtex==4.4.0")

#: Targets from the benchmark issues (14, then 18: cold build without .cache, warm with it).
TARGET_OVERHEAD_COLD = 1.30
TARGET_OVERHEAD_WARM = 1.10
TARGET_SERVE_S = 10.0
TARGET_SCALING = 2.2
TARGET_BIBTEX_SPEEDUP = 5.0
TARGET_PDF_PAGES_PER_S = 15.0
TARGET_PDF_MB_PER_PAGE = 1.5

#: Library calls counted as citation work (parsing the .bib file, numbering, formatting).
CITATION_CALLS = (
    "lib.parse_bibtex_bytes",
    "Citer.collect",
    "Citer.render",
    "Citer.reference_list",
    "Citer.references_page",
)

#: Quiet the mkdocs-material end-of-life banner in benchmark logs.
BASE_ENV = {"NO_MKDOCS_2_WARNING": "1", "PYTHONDONTWRITEBYTECODE": "1"}


def say(message: str) -> None:
    """Print a progress line to stderr."""
    stamp = time.strftime("%H:%M:%S")
    print(f"bench {stamp}: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Measured subprocesses
# ---------------------------------------------------------------------------------------------


@dataclass
class Run:
    """One finished subprocess: wall time, peak RSS of that process alone, exit status."""

    seconds: float
    rss_mb: float
    returncode: int
    log: str = ""


def run_measured(
    cmd: list[str],
    cwd: Path,
    log: Path,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 3600,
) -> Run:
    """Run ``cmd`` and return its wall time and its own peak RSS (``wait4``, not cumulative).

    Output goes to ``log``. A run longer than ``timeout`` is killed (its pid only).
    """
    full_env = {**os.environ, **BASE_ENV, **(env or {})}
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=full_env, stdout=out, stderr=subprocess.STDOUT)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(seconds, usage.ru_maxrss / 1024, proc.returncode, str(log))


def check(run: Run, what: str) -> Run:
    """Raise with the end of the log when a run failed."""
    if run.returncode != 0:
        tail = Path(run.log).read_text(encoding="utf-8", errors="replace")[-3000:]
        raise RuntimeError(f"{what} failed with exit status {run.returncode}:\n{tail}")
    return run


def mkdocs_build(root: Path, site: Path, log: Path, python: str = sys.executable) -> Run:
    """A strict build exactly as ``make site`` runs it (no ``-q``/``-v``)."""
    cmd = [python, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)]
    return run_measured(cmd, root, log)


def driver_cmd(*args: str) -> list[str]:
    """Command line of this script's instrumented driver."""
    return [sys.executable, str(ROOT / "scripts" / "bench.py"), "driver", *args]
