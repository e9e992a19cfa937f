"""Instrumented MkDocs processes (``bench.py driver build|serve ...``)."""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    from livingreview.bibliography import parse as bibliography_parse

    recorder.record("hook.import", start, time.monotonic() - start)
    # The module that calls it: the package's re-export is not what the loader looks up.
    recorder.patch(bibliography_parse, "parse_bibtex_bytes", "lib.parse_bibtex_bytes")
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
        # As `make serve` runs it: dirty rebuilds, the hooks choosing the pages to render.
        args=["serve", "--dirty", "--dev-addr", args.addr, "-f", str(root / "mkdocs.yml")],
        prog_name="mkdocs",
    )
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
