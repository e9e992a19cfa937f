#!/usr/bin/env python3
"""Performance benchmark of the site build on synthetic reviews of N studies.

Usage: ``python scripts/bench.py [--sizes 500,1000,2000,4000] [--repeat 3] [--json PATH]
[--skip-bibtex] [--skip-serve] [--skip-pdf] [--profile N]`` (``make bench`` runs the four
sizes). For every N it writes a synthetic project (real schema and vocabularies, N valid
records citing 3-5 of ``10 * N`` references made from ``shared/data/HEPML.bib``, N/10
narrative pages citing about 30 keys each), then measures, side by side in one run:

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
import contextlib
import datetime as dt
import functools
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "hooks"))

DEFAULT_BIB = ROOT.parent / "shared" / "data" / "HEPML.bib"
DEFAULT_WORK = ROOT / "build" / "bench"
BENCH_VENV = ROOT / "build" / "bench-venv"
BIBTEX_REQUIREMENTS = ("mkdocs==1.6.1", "mkdocs-material==9.8.1", "mkdocs-bibtex==4.4.0")

#: Targets from the benchmark issue.
TARGET_OVERHEAD = 1.15
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
    return [sys.executable, str(Path(__file__).resolve()), "driver", *args]


# ---------------------------------------------------------------------------------------------
# Instrumented driver (runs in a subprocess: `bench.py driver build|serve ...`)
# ---------------------------------------------------------------------------------------------


class Recorder:
    """Wraps functions with timers; nested calls of the same name count once (outermost)."""

    def __init__(self, sink: Path | None = None) -> None:
        self.totals: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._depth: dict[str, int] = {}
        self._sink = sink.open("a", encoding="utf-8") if sink else None
        self._lock = threading.Lock()

    def record(self, name: str, start: float, seconds: float) -> None:
        """Add one call to the totals (and to the event file, for serve)."""
        with self._lock:
            self.totals[name] = self.totals.get(name, 0.0) + seconds
            self.calls[name] = self.calls.get(name, 0) + 1
            if self._sink is not None:
                self._sink.write(json.dumps({"name": name, "start": start, "s": seconds}) + "\n")
                self._sink.flush()

    def wrap(self, func: Callable[..., Any], name: str) -> Callable[..., Any]:
        """Return ``func`` timed under ``name``."""
        if getattr(func, "_bench_wrapped", False):
            return func

        @functools.wraps(func)
        def timed(*args: Any, **kwargs: Any) -> Any:
            depth = self._depth.get(name, 0)
            self._depth[name] = depth + 1
            start = time.monotonic()
            try:
                return func(*args, **kwargs)
            finally:
                self._depth[name] = depth
                if depth == 0:
                    self.record(name, start, time.monotonic() - start)

        timed._bench_wrapped = True  # type: ignore[attr-defined]
        return timed

    def patch(self, owner: Any, attr: str, name: str) -> None:
        """Replace ``owner.attr`` by its timed version."""
        setattr(owner, attr, self.wrap(getattr(owner, attr), name))

    def snapshot(self) -> dict[str, Any]:
        """Totals and call counts so far."""
        return {"seconds": dict(self.totals), "calls": dict(self.calls)}

    def reset(self) -> None:
        """Forget the totals (between two builds in one process)."""
        self.totals.clear()
        self.calls.clear()


@dataclass
class Capture:
    """Markdown seen by the hooks: final per page, and after marker expansion."""

    final: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    expanded: dict[str, str] = field(default_factory=dict)
    disabled_plugins: list[str] = field(default_factory=list)
    identities: list[dict[str, Any]] = field(default_factory=list)
    static: dict[str, bytes] = field(default_factory=dict)
    in_nav: list[str] = field(default_factory=list)
    copyright: str | None = None


def instrument(root: Path, recorder: Recorder, capture: Capture | None) -> None:
    """Install timers on the library and on the hook functions (before MkDocs loads them)."""
    sys.path.insert(0, str(root / "hooks"))
    start = time.monotonic()
    # The hooks' imports (citeproc, bibtexparser, jsonschema, ...) are part of their cost.
    from livingreview import bibliography, citing, load, project, site

    recorder.record("hook.import", start, time.monotonic() - start)
    recorder.patch(bibliography, "parse_bibtex_bytes", "lib.parse_bibtex_bytes")
    recorder.patch(project, "load_bibliography", "lib.load_bibliography")
    recorder.patch(project, "load_catalog", "lib.load_catalog")
    recorder.patch(load, "parse_yaml", "lib.parse_yaml")
    for method in ("collect", "render", "reference_list", "references_page"):
        recorder.patch(citing.Citer, method, f"Citer.{method}")
    for method in ("format_references", "format_plain"):
        recorder.patch(bibliography.Formatter, method, f"Formatter.{method}")
    for method in ("load", "generated_pages", "prepare", "page_markdown", "write_downloads"):
        recorder.patch(site.SiteBuild, method, f"SiteBuild.{method}")

    original_expand = site.expand_page

    def expand(proj: Any, markdown: str, src: str, *args: Any, **kwargs: Any) -> Any:
        text, problems = original_expand(proj, markdown, src, *args, **kwargs)
        if capture is not None:
            capture.expanded[src] = text
        return text, problems

    site.expand_page = recorder.wrap(expand, "lib.expand_page")

    from mkdocs.config import config_options

    original_load_hook = config_options.Hooks._load_hook

    def load_hook(self: Any, name: str, path: str) -> Any:
        module = original_load_hook(self, name, path)
        if getattr(module, "_bench_instrumented", False):
            return module
        module._bench_instrumented = True
        for attr in dir(module):
            if attr.startswith("on_") and callable(getattr(module, attr)):
                setattr(module, attr, recorder.wrap(getattr(module, attr), f"hook.{attr}"))
        if capture is not None:
            _capture_hooks(module, capture)
        return module

    config_options.Hooks._load_hook = load_hook  # type: ignore[method-assign]


def _capture_hooks(module: Any, capture: Capture) -> None:
    """Record each page's final Markdown, disabled plugins, and object identities."""
    page_markdown = module.on_page_markdown

    @functools.wraps(page_markdown)
    def on_page_markdown(markdown: str, *args: Any, **kwargs: Any) -> Any:
        result = page_markdown(markdown, *args, **kwargs)
        page = kwargs["page"]
        meta = dict(page.meta or {})
        capture.final[page.file.src_uri] = (markdown if result is None else result, meta)
        return result

    module.on_page_markdown = on_page_markdown
    on_config = module.on_config

    @functools.wraps(on_config)
    def config_hook(config: Any, *args: Any, **kwargs: Any) -> Any:
        result = on_config(config, *args, **kwargs)
        # The hooks add the review version to the footer: the plain build needs it written out.
        capture.copyright = config.copyright
        for name, plugin in config.plugins.items():
            if getattr(plugin, "config", {}).get("enabled", True) is False:
                capture.disabled_plugins.append(name)
        return result

    module.on_config = config_hook
    on_files = module.on_files

    @functools.wraps(on_files)
    def files_hook(*args: Any, **kwargs: Any) -> Any:
        result = on_files(*args, **kwargs)
        for f in result or args[0]:
            # Non-page files the hooks add (a feed, ...) become static files of the baseline.
            if f.generated_by is not None and not f.is_documentation_page():
                capture.static[f.src_uri] = f.content_bytes
        build = getattr(module, "_build", None)
        proj = getattr(build, "project", None)
        if proj is not None:
            capture.identities.append(
                {
                    "bibliography": id(proj.bibliography),
                    "catalog": id(proj.catalog),
                    "first_study": id(proj.catalog.studies[0]) if proj.catalog.studies else 0,
                }
            )
        return result

    module.on_files = files_hook
    on_nav = module.on_nav

    @functools.wraps(on_nav)
    def nav_hook(nav: Any, *args: Any, **kwargs: Any) -> Any:
        capture.in_nav = [p.file.src_uri for p in nav.pages]
        return on_nav(nav, *args, **kwargs)

    module.on_nav = nav_hook
    on_post_build = module.on_post_build

    @functools.wraps(on_post_build)
    def post_build_hook(*args: Any, **kwargs: Any) -> Any:
        site = Path(kwargs["config"].site_dir)
        before = {p: p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()}
        result = on_post_build(*args, **kwargs)
        for path in site.rglob("*"):
            if path.is_file() and before.get(path) != path.stat().st_mtime_ns:
                capture.static[path.relative_to(site).as_posix()] = path.read_bytes()
        return result

    module.on_post_build = post_build_hook


def driver_build(args: argparse.Namespace) -> int:
    """One (or two) in-process builds with timers; writes a JSON report."""
    root = Path(args.root).resolve()
    recorder = Recorder()
    capture = Capture()
    instrument(root, recorder, capture)
    os.chdir(root)
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    report: dict[str, Any] = {"builds": []}
    for i in range(2 if args.twice else 1):
        if i:
            recorder.reset()
        config = load_config(config_file=str(root / "mkdocs.yml"), site_dir=args.site_dir)
        profiler = None
        if args.profile and i == 0:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        start = time.monotonic()
        build(config)
        seconds = time.monotonic() - start
        if profiler is not None:
            profiler.disable()
            _write_profile(profiler, Path(args.profile))
        report["builds"].append({"build_s": seconds, **recorder.snapshot()})
        # Free the build's state the way `mkdocs serve` does between builds.
        config.plugins.on_shutdown()
    report["identities"] = capture.identities
    report["disabled_plugins"] = sorted(set(capture.disabled_plugins))
    report["copyright"] = capture.copyright
    if args.dump_final:
        out = Path(args.dump_final)
        for src, (markdown, meta) in capture.final.items():
            target = out / src
            target.parent.mkdir(parents=True, exist_ok=True)
            front = ""
            if meta:
                import yaml

                front = "---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\n\n"
            target.write_text(front + markdown, encoding="utf-8")
        for src, content in capture.static.items():
            target = out / src
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
    report["pages"] = sorted(capture.final)
    report["in_nav"] = capture.in_nav
    if args.dump_expanded:
        out = Path(args.dump_expanded)
        for src, markdown in capture.expanded.items():
            target = out / src
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(markdown, encoding="utf-8")
    Path(args.report).write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


def _write_profile(profiler: Any, path: Path) -> None:
    """Write the top 25 functions by cumulative time (text) and the raw stats beside it."""
    import io
    import pstats

    profiler.dump_stats(str(path.with_suffix(".prof")))
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("cumulative").print_stats(25)
    stream.write("\n--- by own time (tottime) ---\n")
    stats.sort_stats("tottime").print_stats(25)
    path.write_text(stream.getvalue(), encoding="utf-8")


def driver_serve(args: argparse.Namespace) -> int:
    """``mkdocs serve`` in-process, with every build and hook call written to an event file."""
    root = Path(args.root).resolve()
    recorder = Recorder(Path(args.events))
    instrument(root, recorder, None)
    os.chdir(root)
    from mkdocs.commands import serve

    serve.build = recorder.wrap(serve.build, "mkdocs.build")
    from mkdocs.__main__ import cli

    cli.main(
        args=["serve", "--dev-addr", args.addr, "-f", str(root / "mkdocs.yml")],
        prog_name="mkdocs",
    )
    return 0


# ---------------------------------------------------------------------------------------------
# Projects: ours (synthetic), plain MkDocs, mkdocs-bibtex
# ---------------------------------------------------------------------------------------------


def load_yaml_config(path: Path) -> dict[str, Any]:
    """Load a generated ``mkdocs.yml`` (no tags: synthetic configs are plain YAML)."""
    import yaml

    return dict(yaml.safe_load(path.read_text(encoding="utf-8")))


def dump_yaml_config(config: dict[str, Any], path: Path) -> None:
    """Write an ``mkdocs.yml``."""
    import yaml

    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), "utf-8")


def _static_files(docs: Path, target: Path) -> None:
    """Copy the non-Markdown files of a docs dir (assets) into another docs dir."""
    for path in docs.rglob("*"):
        if path.is_file() and path.suffix != ".md":
            dest = target / path.relative_to(docs)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, dest)


def _plugin_name(plugin: Any) -> str:
    return next(iter(plugin)) if isinstance(plugin, dict) else str(plugin)


def write_plain_project(ours: Path, plain: Path, final_docs: Path, report: dict[str, Any]) -> None:
    """Make the plain-MkDocs baseline: the hooks' final Markdown as static pages.

    ``mkdocs.yml`` is ours with ``hooks:`` removed, plus two settings that stand in for what
    the hooks do at run time: plugins the hooks disabled are disabled, and generated pages
    that are not in the nav (study pages, ...) are listed in ``not_in_nav`` (the hooks add
    them as ``NOT_IN_NAV`` files). Files the hooks add or write after the build (feed,
    downloads) are static files here (the driver dumped them beside the pages).
    """
    plain.mkdir(parents=True)
    shutil.copytree(final_docs, plain / "docs")
    _static_files(ours / "docs", plain / "docs")
    disabled = report["disabled_plugins"]
    in_nav = set(report["in_nav"])
    not_in_nav = [src for src in report["pages"] if src not in in_nav]
    if (ours / "overrides").is_dir():
        shutil.copytree(ours / "overrides", plain / "overrides")
    config = load_yaml_config(ours / "mkdocs.yml")
    config.pop("hooks", None)
    plugins = []
    for plugin in config.get("plugins", []):
        name = _plugin_name(plugin)
        if name in disabled:
            options = dict(plugin[name] or {}) if isinstance(plugin, dict) else {}
            plugin = {name: {**options, "enabled": False}}
        plugins.append(plugin)
    config["plugins"] = plugins
    config["not_in_nav"] = "".join(f"/{src}\n" for src in not_in_nav)
    if report.get("copyright"):
        config["copyright"] = report["copyright"]
    # `watch:` paths must exist for the configuration to load; they are empty here.
    for entry in config.get("watch", []):
        path = plain / entry
        if Path(entry).suffix:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
        else:
            path.mkdir(parents=True, exist_ok=True)
    dump_yaml_config(config, plain / "mkdocs.yml")


def write_bibtex_project(ours: Path, target: Path, expanded_docs: Path) -> None:
    """Make the mkdocs-bibtex project: the same pages, citations left as ``[@key]``.

    Pages are taken after our marker expansion (so tables and study pages are the same) and
    before our citation stage. mkdocs-bibtex renders each citation as a footnote, so the
    ``footnotes`` extension is added; its warnings (unknown keys, affixes) are expected, so
    the build is not strict. Plugins needing git or absent from its venv are removed.
    """
    target.mkdir(parents=True)
    shutil.copytree(expanded_docs, target / "docs")
    _static_files(ours / "docs", target / "docs")
    (target / "docs" / "references.md").write_text("# References\n", encoding="utf-8")
    shutil.copy(ours / "references.bib", target / "references.bib")
    if (ours / "overrides").is_dir():
        shutil.copytree(ours / "overrides", target / "overrides")
    config = load_yaml_config(ours / "mkdocs.yml")
    for key in ("hooks", "watch"):
        config.pop(key, None)
    config["strict"] = False
    config["plugins"] = [p for p in config.get("plugins", []) if _plugin_name(p) == "search"] + [
        {"bibtex": {"bib_file": "references.bib"}}
    ]
    extensions = list(config.get("markdown_extensions", []))
    if "footnotes" not in [_plugin_name(e) for e in extensions]:
        extensions.append("footnotes")
    config["markdown_extensions"] = extensions
    config["not_in_nav"] = "/studies/*.md\n"
    dump_yaml_config(config, target / "mkdocs.yml")


_BIBTEX_DRIVER = r"""
import json, sys, time
from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs_bibtex.plugin import BibTexPlugin

totals = {"on_config": 0.0, "on_page_markdown": 0.0}
def timed(name, func):
    def wrapper(*args, **kwargs):
        start = time.monotonic()
        try:
            return func(*args, **kwargs)
        finally:
            totals[name] += time.monotonic() - start
    return wrapper
BibTexPlugin.on_config = timed("on_config", BibTexPlugin.on_config)
BibTexPlugin.on_page_markdown = timed("on_page_markdown", BibTexPlugin.on_page_markdown)
root, site, report = sys.argv[1:4]
config = load_config(config_file=root + "/mkdocs.yml", site_dir=site)
start = time.monotonic()
build(config)
totals["build"] = time.monotonic() - start
open(report, "w").write(json.dumps(totals))
"""


def ensure_bibtex_venv() -> Path:
    """Create ``build/bench-venv`` with mkdocs-bibtex 4.4.0 (once); return its python."""
    python = BENCH_VENV / "bin" / "python"
    stamp = BENCH_VENV / ".bench-installed"
    wanted = " ".join(BIBTEX_REQUIREMENTS)
    if stamp.exists() and stamp.read_text(encoding="utf-8") == wanted and python.exists():
        return python
    say(f"creating {BENCH_VENV.relative_to(ROOT)} with {wanted}")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(BENCH_VENV)], check=True)
    log = BENCH_VENV / "install.log"
    with log.open("w", encoding="utf-8") as out:
        installed = subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                *BIBTEX_REQUIREMENTS,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if installed.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise RuntimeError(f"installing {wanted} failed (see {log}):\n{tail}")
    stamp.write_text(wanted, encoding="utf-8")
    return python


def count_citations(folder: Path) -> int:
    """Count citation items (keys) in Markdown pages with the review's own parser."""
    from livingreview.citations import find_citations

    total = 0
    for page in folder.rglob("*.md"):
        text = page.read_text(encoding="utf-8")
        if "@" in text:
            total += sum(len(c.items) for c in find_citations(text))
    return total


def count_in_html(site: Path, needle: str) -> int:
    """Count occurrences of ``needle`` in the built HTML pages."""
    return sum(p.read_text(encoding="utf-8").count(needle) for p in site.rglob("*.html"))


# ---------------------------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """Describe the machine the run happened on."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_gb = 0.0
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    return {
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "load_average": list(os.getloadavg()),
    }


def median(values: list[float]) -> float:
    """Median, or NaN for no values."""
    return statistics.median(values) if values else math.nan


def citation_seconds(totals: dict[str, float]) -> float:
    """Sum the citation calls of one instrumented build."""
    return sum(totals.get(name, 0.0) for name in CITATION_CALLS)


def hooks_seconds(totals: dict[str, float]) -> float:
    """Sum the hook functions of one instrumented build."""
    return sum(v for k, v in totals.items() if k.startswith("hook."))


class Bench:
    """One benchmark run; results accumulate in :attr:`data` (the JSON report)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work: Path = args.work_dir
        self.data: dict[str, Any] = {
            "machine": machine(),
            "options": {
                "sizes": args.sizes,
                "repeat": args.repeat,
                "bib_source": str(args.bib),
                "entries_per_study": 10,
            },
            "results": [],
            "mkdocs_bibtex": None,
            "serve": None,
            "pdf": None,
            "profile": None,
        }
        self.projects: dict[tuple[int, bool], Path] = {}
        self.failed: list[str] = []

    # -- projects --------------------------------------------------------------------------

    def project(self, n: int, *, colon_free: bool = False) -> Path:
        """Generate (once) the synthetic project of ``n`` studies."""
        key = (n, colon_free)
        if key not in self.projects:
            from livingreview.synthetic import make_project

            root = self.work / f"n{n}{'-colonfree' if colon_free else ''}" / "ours"
            say(f"N={n}: generating {'colon-free ' if colon_free else ''}project")
            made = make_project(root, n, repo=ROOT, bib_source=self.args.bib, colon_free=colon_free)
            say(f"N={n}: {made.n} records, {made.entries} references, {len(made.pages)} pages")
            self.projects[key] = root
        return self.projects[key]

    def instrumented(
        self, root: Path, tag: str, *, twice: bool = False, profile: Path | None = None
    ) -> tuple[dict[str, Any], Run]:
        """One instrumented in-process build in a subprocess; dumps final/expanded Markdown."""
        base = root.parent
        for name in ("final-md", "expanded-md", "site-instrumented"):
            shutil.rmtree(base / name, ignore_errors=True)
        cmd = driver_cmd(
            "build",
            "--root",
            str(root),
            "--site-dir",
            str(base / "site-instrumented"),
            "--report",
            str(base / f"report-{tag}.json"),
            "--dump-final",
            str(base / "final-md"),
            "--dump-expanded",
            str(base / "expanded-md"),
        )
        if twice:
            cmd.append("--twice")
        if profile is not None:
            cmd += ["--profile", str(profile)]
        run = check(run_measured(cmd, root, base / f"log-{tag}.txt"), f"instrumented build {tag}")
        report = json.loads((base / f"report-{tag}.json").read_text(encoding="utf-8"))
        return report, run

    # -- 1, 2, 3, 6: builds ----------------------------------------------------------------

    def size(self, n: int) -> dict[str, Any]:
        """Measure one N: instrumented build, then alternating timed ours/plain builds."""
        ours = self.project(n)
        base = ours.parent
        say(f"N={n}: instrumented build (hooks and citation timers)")
        report, _ = self.instrumented(ours, "main")
        totals = report["builds"][0]["seconds"]
        plain = base / "plain"
        shutil.rmtree(plain, ignore_errors=True)
        write_plain_project(ours, plain, base / "final-md", report)
        builds: dict[str, list[Run]] = {"ours": [], "plain": []}
        for r in range(self.args.repeat):
            order = ("ours", "plain") if r % 2 == 0 else ("plain", "ours")
            for which in order:
                root = ours if which == "ours" else plain
                run = check(
                    mkdocs_build(root, base / f"site-{which}", base / f"log-{which}-{r}.txt"),
                    f"{which} build N={n}",
                )
                builds[which].append(run)
                say(f"N={n}: {which} build {r + 1}/{self.args.repeat}: {run.seconds:.1f} s")
        build_s = median([b.seconds for b in builds["ours"]])
        plain_s = median([b.seconds for b in builds["plain"]])
        total_items = count_citations(base / "expanded-md")
        resolved = count_in_html(base / "site-instrumented", 'class="citation-ref"')
        result = {
            "n": n,
            "build_s": round(build_s, 3),
            "plain_s": round(plain_s, 3),
            "overhead": round(build_s / plain_s, 3),
            "citation_s": round(citation_seconds(totals), 3),
            "peak_rss_mb": round(max(b.rss_mb for b in builds["ours"]), 1),
            "plain_peak_rss_mb": round(max(b.rss_mb for b in builds["plain"]), 1),
            "hooks_s": round(hooks_seconds(totals), 3),
            "instrumented_build_s": round(report["builds"][0]["build_s"], 3),
            "citations": total_items,
            "citations_resolved": resolved,
            "builds_s": [round(b.seconds, 3) for b in builds["ours"]],
            "plain_builds_s": [round(b.seconds, 3) for b in builds["plain"]],
            "timers_s": {k: round(v, 3) for k, v in sorted(totals.items())},
            "calls": report["builds"][0]["calls"],
        }
        say(
            f"N={n}: build {build_s:.1f} s, plain {plain_s:.1f} s, "
            f"overhead {result['overhead']:.2f}, citations {result['citation_s']:.1f} s"
        )
        return result

    # -- 3: mkdocs-bibtex --------------------------------------------------------------------

    def bibtex(self, n: int) -> dict[str, Any]:
        """Citation time against mkdocs-bibtex on colon-free keys; resolution on all keys."""
        python = ensure_bibtex_venv()
        out: dict[str, Any] = {"n": n, "version": "4.4.0", "mode": "pybtex (no csl_file)"}
        # (a) Speed: a dataset that cites only keys mkdocs-bibtex can parse (no ':').
        fair = self.project(n, colon_free=True)
        say(f"N={n}: ours on colon-free keys (instrumented)")
        report, _ = self.instrumented(fair, "colonfree")
        ours_s = citation_seconds(report["builds"][0]["seconds"])
        bib_fair = fair.parent / "bibtex"
        shutil.rmtree(bib_fair, ignore_errors=True)
        write_bibtex_project(fair, bib_fair, fair.parent / "expanded-md")
        say(f"N={n}: mkdocs-bibtex on colon-free keys")
        fair_report = self._bibtex_build(python, bib_fair, "fair")
        theirs_s = fair_report["on_config"] + fair_report["on_page_markdown"]
        fair_items = count_citations(fair.parent / "expanded-md")
        fair_resolved = count_in_html(bib_fair / "site", 'class="footnote-ref"')
        # (b) Resolution: the main dataset, whose keys mostly contain ':'.
        main = self.project(n)
        bib_main = main.parent / "bibtex"
        shutil.rmtree(bib_main, ignore_errors=True)
        if not (main.parent / "expanded-md").is_dir():
            self.instrumented(main, "main")
        write_bibtex_project(main, bib_main, main.parent / "expanded-md")
        say(f"N={n}: mkdocs-bibtex on all keys (resolution count)")
        main_report = self._bibtex_build(python, bib_main, "all")
        items = count_citations(main.parent / "expanded-md")
        resolved = count_in_html(bib_main / "site", 'class="footnote-ref"')
        ours_resolved = count_in_html(main.parent / "site-instrumented", 'class="citation-ref"')
        log = Path(main_report["log"]).read_text(encoding="utf-8", errors="replace")
        out.update(
            {
                "citation_s": round(theirs_s, 3),
                "bib_parse_s": round(fair_report["on_config"], 3),
                "format_s": round(fair_report["on_page_markdown"], 3),
                "build_s": round(fair_report["build"], 3),
                "ours_citation_s": round(ours_s, 3),
                "ours_timers_s": {
                    k: round(v, 3)
                    for k, v in report["builds"][0]["seconds"].items()
                    if k in CITATION_CALLS or k.startswith("Formatter")
                },
                "speedup": round(theirs_s / ours_s, 2) if ours_s else None,
                "colon_free_citations": fair_items,
                "colon_free_resolved": fair_resolved,
                "citations": items,
                "resolved": resolved,
                "failed": items - resolved,
                "unknown_key_warnings": log.count("Citing unknown reference key"),
                "ours_resolved": ours_resolved,
                "ours_failed": items - ours_resolved,
                "all_keys_citation_s": round(
                    main_report["on_config"] + main_report["on_page_markdown"], 3
                ),
            }
        )
        say(
            f"N={n}: citations ours {ours_s:.2f} s vs mkdocs-bibtex {theirs_s:.2f} s; "
            f"resolved {ours_resolved}/{items} vs {resolved}/{items}"
        )
        return out

    def _bibtex_build(self, python: Path, root: Path, tag: str) -> dict[str, Any]:
        report = root / "report.json"
        cmd = [str(python), "-c", _BIBTEX_DRIVER, str(root), str(root / "site"), str(report)]
        run = check(run_measured(cmd, root, root / "log.txt"), f"mkdocs-bibtex build ({tag})")
        data = json.loads(report.read_text(encoding="utf-8"))
        data["wall_s"] = run.seconds
        data["rss_mb"] = run.rss_mb
        data["log"] = run.log
        return data

    # -- 4: serve ----------------------------------------------------------------------------

    def serve(self, n: int) -> dict[str, Any]:
        """Edit-to-page latency under ``mkdocs serve`` and the hooks' share of each rebuild."""
        ours = self.project(n)
        base = ours.parent
        say(f"N={n}: in-process double build (are parsed inputs reused?)")
        report, _ = self.instrumented(ours, "twice", twice=True)
        second = report["builds"][1]
        ids = report["identities"]
        reuse = {
            "bibtex_reparsed_on_second_build": second["calls"].get("lib.parse_bibtex_bytes", 0),
            "yaml_files_reparsed_on_second_build": second["calls"].get("lib.parse_yaml", 0),
            "same_bibliography_object": len(ids) == 2
            and ids[0]["bibliography"] == ids[1]["bibliography"],
            "same_catalog_object": len(ids) == 2 and ids[0]["catalog"] == ids[1]["catalog"],
            "load_s": [round(b["seconds"].get("SiteBuild.load", 0.0), 3) for b in report["builds"]],
            "bib_parse_s": [
                round(b["seconds"].get("lib.parse_bibtex_bytes", 0.0), 3) for b in report["builds"]
            ],
            "hooks_s": [round(hooks_seconds(b["seconds"]), 3) for b in report["builds"]],
        }
        events = base / "serve-events.jsonl"
        events.unlink(missing_ok=True)
        port = free_port()
        addr = f"127.0.0.1:{port}"
        # `mkdocs serve` mounts the site at the path of `site_url`; any other URL is a 404,
        # which it logs as a warning, and warnings abort a strict rebuild.
        from urllib.parse import urlsplit

        mount = urlsplit(str(load_yaml_config(ours / "mkdocs.yml").get("site_url") or "/")).path
        url = f"http://{addr}/{mount.strip('/')}/".replace("//", "/").replace(":/", "://")
        log = base / "log-serve.txt"
        say(f"N={n}: starting mkdocs serve on {addr}")
        with log.open("w", encoding="utf-8") as out:
            proc = subprocess.Popen(
                driver_cmd("serve", "--root", str(ours), "--addr", addr, "--events", str(events)),
                cwd=ours,
                env={**os.environ, **BASE_ENV},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        samples: list[dict[str, float]] = []
        try:
            wait_for(url, lambda body: True, timeout=1800, proc=proc)
            time.sleep(1.0)
            studies = sorted((ours / "data" / "studies").glob("*.yaml"))
            for r in range(self.args.repeat):
                record = studies[(r * 7919) % len(studies)]
                token = f"bench-edit-{r}-{time.monotonic_ns()}"
                text = record.read_text(encoding="utf-8")
                text = re.sub(r"(?m)^notes:\n(?:- .*\n)*", "", text)
                saved = time.monotonic()
                record.write_text(text + f"notes:\n- Benchmark edit {token}.\n", "utf-8")
                page = f"{url}studies/{record.stem}/"
                wait_for(page, lambda body, t=token: t in body, timeout=1800, proc=proc)
                seen = time.monotonic()
                time.sleep(0.5)
                sample = rebuild_sample(events, saved, seen)
                sample["latency_s"] = seen - saved
                samples.append(sample)
                say(
                    f"N={n}: serve rebuild {r + 1}: {sample['latency_s']:.1f} s to page, "
                    f"build {sample['build_s']:.1f} s, hooks {sample['hooks_s']:.1f} s"
                )
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        latency = median([s["latency_s"] for s in samples])
        build_s = median([s["build_s"] for s in samples])
        hooks_s = median([s["hooks_s"] for s in samples])
        return {
            "n": n,
            "rebuild_latency_s": round(latency, 3),
            "rebuild_build_s": round(build_s, 3),
            "hooks_s": round(hooks_s, 3),
            "hooks_share_of_build": round(hooks_s / build_s, 3) if build_s else None,
            "hooks_share_of_latency": round(hooks_s / latency, 3) if latency else None,
            "bib_parses_during_rebuilds": sum(s["bib_parses"] for s in samples),
            "yaml_parses_per_rebuild": [int(s["yaml_parses"]) for s in samples],
            "samples": [{k: round(v, 3) for k, v in s.items()} for s in samples],
            "reuse": reuse,
        }

    # -- 5: PDF -----------------------------------------------------------------------------

    def pdf(self, n: int | None) -> dict[str, Any] | None:
        """Pages per second and peak memory per page of ``scripts/build_pdf.py``."""
        script = ROOT / "scripts" / "build_pdf.py"
        if not script.exists():
            say("scripts/build_pdf.py does not exist: PDF skipped")
            return None
        out: dict[str, Any] = {}
        work = self.work / "pdf"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        say("PDF: building the real review")
        check(mkdocs_build(ROOT, work / "real-site", work / "log-real-site.txt"), "real site")
        out["real"] = self._pdf_run(script, ROOT, work / "real-site", work / "real.pdf", "real")
        if n is not None:
            ours = self.project(n)
            site = ours.parent / "site-ours"
            if not (site / "index.html").exists():
                check(mkdocs_build(ours, site, ours.parent / "log-pdf-site.txt"), "site")
            out[f"n{n}"] = self._pdf_run(script, ours, site, work / f"n{n}.pdf", f"N={n}")
        return out

    def _pdf_run(self, script: Path, root: Path, site: Path, pdf: Path, tag: str) -> dict[str, Any]:
        say(f"PDF: {tag}")
        cmd = [
            sys.executable,
            str(script),
            "--site-dir",
            str(site),
            "--config-file",
            str(root / "mkdocs.yml"),
            "--output",
            str(pdf),
        ]
        env = {} if (root / ".git").exists() else {"SOURCE_DATE_EPOCH": str(int(time.time()))}
        run = run_measured(cmd, root, pdf.with_suffix(".log"), env=env)
        if run.returncode != 0 or not pdf.exists():
            tail = Path(run.log).read_text(encoding="utf-8", errors="replace")[-1500:]
            say(f"PDF {tag} failed: {tail}")
            return {"error": tail, "seconds": round(run.seconds, 3)}
        from pypdf import PdfReader

        pages = len(PdfReader(str(pdf)).pages)
        result = {
            "pages": pages,
            "seconds": round(run.seconds, 3),
            "pages_per_s": round(pages / run.seconds, 2),
            "peak_rss_mb": round(run.rss_mb, 1),
            "mb_per_page": round(run.rss_mb / pages, 3) if pages else None,
            "size_mb": round(pdf.stat().st_size / 1e6, 2),
        }
        say(f"PDF {tag}: {pages} pages in {run.seconds:.1f} s, peak {run.rss_mb:.0f} MB")
        return result

    # -- profile ----------------------------------------------------------------------------

    def profile(self, n: int) -> dict[str, Any]:
        """Profile an in-process build at ``n``: top 25 by cumulative time."""
        ours = self.project(n)
        path = ours.parent / f"profile-{n}.txt"
        say(f"N={n}: profiling an in-process build")
        report, _ = self.instrumented(ours, "profile", profile=path)
        return {
            "n": n,
            "build_s": round(report["builds"][0]["build_s"], 3),
            "text": str(path),
            "top": path.read_text(encoding="utf-8"),
        }

    # -- run --------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        """Run every part that is not skipped; return the report."""
        args = self.args
        marker = self.work / ".bench-work"
        if self.work.exists():
            if any(self.work.iterdir()) and not marker.exists():
                raise SystemExit(f"bench: {self.work} is not empty and not a bench work dir")
            shutil.rmtree(self.work)
        self.work.mkdir(parents=True)
        marker.touch()
        results: list[dict[str, Any]] = []
        for n in args.sizes:
            results.append(self.size(n))
            self.data["results"] = results
            self.save()
        by_n = {r["n"]: r for r in results}
        for r in results:
            half = by_n.get(r["n"] // 2) if r["n"] % 2 == 0 else None
            r["scaling"] = round(r["build_s"] / half["build_s"], 3) if half else None
        self.save()
        side = pick_size(args.sizes, 1000)
        parts: list[tuple[str, bool, Callable[[], Any]]] = [
            ("mkdocs_bibtex", args.skip_bibtex, lambda: self.bibtex(args.bibtex_size or side)),
            ("serve", args.skip_serve, lambda: self.serve(args.serve_size or side)),
            (
                "pdf",
                args.skip_pdf,
                lambda: self.pdf(args.pdf_size or pick_size(args.sizes, 500)),
            ),
            ("profile", not args.profile, lambda: self.profile(args.profile)),
        ]
        for name, skip, part in parts:
            if skip:
                continue
            try:
                self.data[name] = part()
            except Exception as exc:  # one failed part must not lose the others
                say(f"{name} failed: {exc}")
                self.data[name] = {"error": f"{type(exc).__name__}: {exc}"[-3000:]}
                self.failed.append(name)
            self.save()
        self.data["machine"]["load_average_end"] = list(os.getloadavg())
        self.save()
        return self.data

    def save(self) -> None:
        """Write the report so far (so that a late failure loses nothing)."""
        if self.args.json:
            text = json.dumps(self.data, indent=2, default=str) + "\n"
            self.args.json.write_text(text, encoding="utf-8")


def pick_size(sizes: list[int], wanted: int) -> int:
    """``wanted`` if it is one of ``sizes``, else the largest size below it (or the smallest)."""
    if wanted in sizes:
        return wanted
    below = [s for s in sizes if s < wanted]
    return max(below) if below else min(sizes)


def free_port() -> int:
    """Return a free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(
    url: str, ready: Callable[[str], bool], *, timeout: float, proc: subprocess.Popen[bytes]
) -> str:
    """Poll ``url`` (loopback only) until ``ready(body)``; fail if the server exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"mkdocs serve exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=600) as response:
                body = response.read().decode("utf-8", errors="replace")
            if ready(body):
                return body
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} not ready after {timeout:.0f} s")


def read_events(path: Path) -> Iterator[dict[str, Any]]:
    """Events written by the serve driver."""
    if not path.exists():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            yield json.loads(line)


def rebuild_sample(events: Path, saved: float, seen: float) -> dict[str, float]:
    """Sum the build, hook and parse events that started between the save and the page."""
    sample = {"build_s": 0.0, "hooks_s": 0.0, "bib_parses": 0.0, "yaml_parses": 0.0}
    for event in read_events(events):
        if not saved <= event["start"] <= seen:
            continue
        name = event["name"]
        if name == "mkdocs.build":
            sample["build_s"] += event["s"]
        elif name.startswith("hook."):
            sample["hooks_s"] += event["s"]
        elif name == "lib.parse_bibtex_bytes":
            sample["bib_parses"] += 1
        elif name == "lib.parse_yaml":
            sample["yaml_parses"] += 1
    return sample


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


def _fmt(value: Any, spec: str = ".2f") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return format(value, spec) if isinstance(value, (int, float)) else str(value)


def table(data: dict[str, Any]) -> str:
    """Return the results as a Markdown table (printed, and pasted into BENCHMARKS.md)."""
    lines = [
        "| N | build (s) | plain MkDocs (s) | overhead | scaling | citations (s) "
        "| hooks (s) | peak RSS (MB) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in data["results"]:
        lines.append(
            f"| {r['n']} | {_fmt(r['build_s'], '.1f')} | {_fmt(r['plain_s'], '.1f')} "
            f"| {_fmt(r['overhead'])} | {_fmt(r.get('scaling'))} "
            f"| {_fmt(r['citation_s'], '.1f')} | {_fmt(r['hooks_s'], '.1f')} "
            f"| {_fmt(r['peak_rss_mb'], '.0f')} |"
        )
    for name in ("mkdocs_bibtex", "serve", "pdf", "profile"):
        part = data.get(name)
        if isinstance(part, dict) and "error" in part and len(part) == 1:
            lines += ["", f"{name}: failed: {part['error'].splitlines()[0]}"]
    bib = data.get("mkdocs_bibtex")
    if bib and "error" not in bib:
        lines += [
            "",
            f"Citations at N = {bib['n']} (colon-free keys): ours {bib['ours_citation_s']:.2f} s, "
            f"mkdocs-bibtex {bib['citation_s']:.2f} s, speedup {_fmt(bib['speedup'])}x "
            f"(target >= {TARGET_BIBTEX_SPEEDUP:.0f}x). All keys: ours resolved "
            f"{bib['ours_resolved']}/{bib['citations']}, mkdocs-bibtex {bib['resolved']}"
            f"/{bib['citations']} ({bib['failed']} failed).",
        ]
    serve = data.get("serve")
    if serve and "error" not in serve:
        reuse = serve["reuse"]
        lines += [
            "",
            f"Serve at N = {serve['n']}: save-to-page {serve['rebuild_latency_s']:.1f} s, "
            f"rebuild {serve['rebuild_build_s']:.1f} s, hooks {serve['hooks_s']:.1f} s "
            f"({_fmt(serve['hooks_share_of_build'], '.0%')} of the rebuild). Second in-process "
            f"build: same Bibliography object {reuse['same_bibliography_object']}, "
            f".bib re-parsed {reuse['bibtex_reparsed_on_second_build']}x, YAML files re-parsed "
            f"{reuse['yaml_files_reparsed_on_second_build']}.",
        ]
    pdf = data.get("pdf")
    if pdf and not ("error" in pdf and len(pdf) == 1):
        for tag, p in pdf.items():
            if "error" in p:
                lines += ["", f"PDF {tag}: failed ({p['error'].strip().splitlines()[-1]})"]
            else:
                lines += [
                    "",
                    f"PDF {tag}: {p['pages']} pages in {p['seconds']:.1f} s = "
                    f"{p['pages_per_s']:.1f} pages/s (target >= {TARGET_PDF_PAGES_PER_S:.0f}); "
                    f"peak {p['peak_rss_mb']:.0f} MB = {p['mb_per_page']:.2f} MB/page "
                    f"(target <= {TARGET_PDF_MB_PER_PAGE}).",
                ]
    return "\n".join(lines)


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
    parser.add_argument("--sizes", type=parse_sizes, default=parse_sizes("500,1000,2000,4000"))
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


def driver_main(argv: list[str]) -> int:
    """Entry point of the instrumented subprocesses."""
    parser = argparse.ArgumentParser(prog="bench.py driver")
    sub = parser.add_subparsers(dest="mode", required=True)
    build = sub.add_parser("build")
    build.add_argument("--root", required=True)
    build.add_argument("--site-dir", required=True)
    build.add_argument("--report", required=True)
    build.add_argument("--dump-final")
    build.add_argument("--dump-expanded")
    build.add_argument("--twice", action="store_true")
    build.add_argument("--profile")
    serve = sub.add_parser("serve")
    serve.add_argument("--root", required=True)
    serve.add_argument("--addr", required=True)
    serve.add_argument("--events", required=True)
    args = parser.parse_args(argv)
    return driver_build(args) if args.mode == "build" else driver_serve(args)


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["Bench", "Recorder", "Run", "main", "run_measured", "table"]
