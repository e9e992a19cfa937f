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
    """One finished subprocess: wall time, peak memory, exit status.

    Memory is read from ``/proc`` every :data:`TREE_SAMPLE_S` seconds while the run lasts, for
    the process and all its descendants (the PDF's workers): ``rss_mb`` is the largest peak of
    any one of them (its ``VmHWM``, the kernel's own high-water mark since it started its
    program, so exact unless it grew in its last tenth of a second), ``tree_rss_mb`` the peak
    of their RSS summed at the same instant (pages a parent shares with its forked children
    count in each, so an upper bound). ``wait4``'s ``ru_maxrss`` is not used: it includes the
    memory of the process that started the run, copied at the fork before the ``exec``
    (``benchmark.common`` run from a 300 MB process reported 313 MB for ``python -c pass``).
    """

    seconds: float
    rss_mb: float
    returncode: int
    log: str = ""
    tree_rss_mb: float = 0.0


#: Seconds between samples of a measured process tree's memory.
TREE_SAMPLE_S = 0.1


def _status_kb(pid: int, fields: tuple[str, ...]) -> dict[str, int]:
    """Return the given ``/proc/PID/status`` fields in KiB (empty once the process is gone)."""
    found: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                name, _, value = line.partition(":")
                if name in fields:
                    found[name] = int(value.split()[0])
    except (OSError, ValueError, IndexError):
        return {}
    return found


def process_tree(pid: int) -> list[int]:
    """Return ``pid`` and all its descendants alive now."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # the process ended while the table was read
        children.setdefault(parent, []).append(int(entry.name))
    tree, stack = [], [pid]
    while stack:
        current = stack.pop()
        tree.append(current)
        stack.extend(children.get(current, ()))
    return tree


def _sample_tree(pid: int, stop: threading.Event, peaks: dict[str, int]) -> None:
    while True:
        total = 0
        for member in process_tree(pid):
            status = _status_kb(member, ("VmRSS", "VmHWM"))
            total += status.get("VmRSS", 0)
            peaks["process"] = max(peaks["process"], status.get("VmHWM", 0))
        peaks["tree"] = max(peaks["tree"], total)
        if stop.wait(TREE_SAMPLE_S):
            return


def run_measured(
    cmd: list[str],
    cwd: Path,
    log: Path,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 3600,
) -> Run:
    """Run ``cmd`` and return its wall time and peak memory (see :class:`Run`).

    Output goes to ``log``. A run longer than ``timeout`` is killed (its pid only).
    """
    full_env = {**os.environ, **BASE_ENV, **(env or {})}
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=full_env, stdout=out, stderr=subprocess.STDOUT)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        stop, peaks = threading.Event(), {"process": 0, "tree": 0}
        sampler = threading.Thread(target=_sample_tree, args=(proc.pid, stop, peaks), daemon=True)
        sampler.start()
        try:
            _, status, _ = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            stop.set()
            sampler.join()
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    own = peaks["process"] / 1024
    return Run(seconds, own, proc.returncode, str(log), max(own, peaks["tree"] / 1024))


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
