"""The benchmark run: timed builds, mkdocs-bibtex, serve rebuilds, PDF and profile."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
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
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from benchmark.bibtex import BIBTEX_DRIVER, ensure_bibtex_venv, write_bibtex_project
from benchmark.common import (
    BASE_ENV,
    CITATION_CALLS,
    ROOT,
    Run,
    check,
    driver_cmd,
    mkdocs_build,
    run_measured,
    say,
)
from benchmark.projects import count_citations, count_in_html, load_yaml_config, write_plain_project

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


def nearest(values: list[float], target: float) -> int:
    """Index of the value nearest ``target`` (the run a median stands for)."""
    return min(range(len(values)), key=lambda i: abs(values[i] - target))


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
        # Timers and the profile describe a cold build (no cache across builds); the driver
        # turns the cache off, so this run leaves none behind either.
        shutil.rmtree(root / ".cache", ignore_errors=True)
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
        cold = {"LIVINGREVIEW_CACHE": "0"}
        run = run_measured(cmd, root, base / f"log-{tag}.txt", env=cold)
        check(run, f"instrumented build {tag}")
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
        # Three sides, alternating (ABBA): ours without a cache (`.cache/` removed first, as
        # after `make clean`), ours with the cache the previous build of ours left, plain MkDocs.
        builds: dict[str, list[Run]] = {"cold": [], "warm": [], "plain": []}
        for r in range(self.args.repeat):
            order = ("cold", "plain", "warm") if r % 2 == 0 else ("warm", "plain", "cold")
            for which in order:
                root = plain if which == "plain" else ours
                if which == "cold":
                    shutil.rmtree(ours / ".cache", ignore_errors=True)
                elif which == "warm" and not (ours / ".cache").is_dir():
                    # Only before the first timed build: the instrumented one made no cache.
                    check(
                        mkdocs_build(ours, base / "site-warmup", base / "log-warmup.txt"),
                        f"warm-up build N={n}",
                    )
                site = base / f"site-{'plain' if which == 'plain' else 'ours'}"
                run = check(
                    mkdocs_build(root, site, base / f"log-{which}-{r}.txt"),
                    f"{which} build N={n}",
                )
                builds[which].append(run)
                say(f"N={n}: {which} build {r + 1}/{self.args.repeat}: {run.seconds:.1f} s")
        build_s = median([b.seconds for b in builds["cold"]])
        warm_s = median([b.seconds for b in builds["warm"]])
        plain_s = median([b.seconds for b in builds["plain"]])
        total_items = count_citations(base / "expanded-md")
        resolved = count_in_html(base / "site-instrumented", 'class="citation-ref"')
        result = {
            "n": n,
            "build_s": round(build_s, 3),
            "plain_s": round(plain_s, 3),
            # `overhead` is the cold one: what a fresh `make site` (or CI) costs.
            "overhead": round(build_s / plain_s, 3),
            "overhead_cold": round(build_s / plain_s, 3),
            "build_warm_s": round(warm_s, 3),
            "overhead_warm": round(warm_s / plain_s, 3),
            "citation_s": round(citation_seconds(totals), 3),
            "peak_rss_mb": round(max(b.rss_mb for b in builds["cold"] + builds["warm"]), 1),
            "plain_peak_rss_mb": round(max(b.rss_mb for b in builds["plain"]), 1),
            "hooks_s": round(hooks_seconds(totals), 3),
            "instrumented_build_s": round(report["builds"][0]["build_s"], 3),
            "citations": total_items,
            "citations_resolved": resolved,
            "builds_s": [round(b.seconds, 3) for b in builds["cold"]],
            "warm_builds_s": [round(b.seconds, 3) for b in builds["warm"]],
            "plain_builds_s": [round(b.seconds, 3) for b in builds["plain"]],
            "timers_s": {k: round(v, 3) for k, v in sorted(totals.items())},
            "calls": report["builds"][0]["calls"],
        }
        say(
            f"N={n}: build {build_s:.1f} s cold, {warm_s:.1f} s warm, plain {plain_s:.1f} s, "
            f"overhead {result['overhead_cold']:.2f} cold, {result['overhead_warm']:.2f} warm, "
            f"citations {result['citation_s']:.1f} s"
        )
        return result

    # -- 3: mkdocs-bibtex --------------------------------------------------------------------

    def bibtex(self, n: int) -> dict[str, Any]:
        """Citation time against mkdocs-bibtex on colon-free keys; resolution on all keys."""
        python = ensure_bibtex_venv()
        out: dict[str, Any] = {"n": n, "version": "4.4.0", "mode": "pybtex (no csl_file)"}
        # (a) Speed: a dataset that cites only keys mkdocs-bibtex can parse (no ':'). The two
        # sides alternate (ours, theirs, then theirs, ours, ...), --repeat of each, and the
        # medians are compared, as for the builds: the machine's load changes over minutes.
        fair = self.project(n, colon_free=True)
        bib_fair = fair.parent / "bibtex"
        ours_runs: list[float] = []
        theirs_runs: list[float] = []
        reports: list[dict[str, Any]] = []
        fair_reports: list[dict[str, Any]] = []
        for r in range(self.args.repeat):
            order = ("ours", "theirs") if r % 2 == 0 else ("theirs", "ours")
            for side in order:
                if side == "ours":
                    say(f"N={n}: ours on colon-free keys (instrumented) {r + 1}/{self.args.repeat}")
                    report, _ = self.instrumented(fair, f"colonfree-{r + 1}")
                    reports.append(report)
                    ours_runs.append(citation_seconds(report["builds"][0]["seconds"]))
                    continue
                if not bib_fair.is_dir():  # ours ran first: its expanded Markdown is there
                    write_bibtex_project(fair, bib_fair, fair.parent / "expanded-md")
                say(f"N={n}: mkdocs-bibtex on colon-free keys {r + 1}/{self.args.repeat}")
                fair_report = self._bibtex_build(python, bib_fair, f"fair-{r + 1}")
                fair_reports.append(fair_report)
                theirs_runs.append(fair_report["on_config"] + fair_report["on_page_markdown"])
        ours_s, theirs_s = median(ours_runs), median(theirs_runs)
        # The details reported are those of the run nearest each median.
        report = reports[nearest(ours_runs, ours_s)]
        fair_report = fair_reports[nearest(theirs_runs, theirs_s)]
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
                "ours_runs_s": [round(v, 3) for v in ours_runs],
                "theirs_runs_s": [round(v, 3) for v in theirs_runs],
                "speedups": [
                    round(t / o, 2) for o, t in zip(ours_runs, theirs_runs, strict=True) if o
                ],
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
        cmd = [str(python), "-c", BIBTEX_DRIVER, str(root), str(root / "site"), str(report)]
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
            "save_to_page_s": round(latency, 3),
            "mode": "mkdocs serve --dirty (make serve)",
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

        counted = len(PdfReader(str(pdf)).pages)
        # The script's own report (pages, seconds) is the measure; pypdf's page count and the
        # wall time (which adds Python start-up and imports) are the fallback and a cross-check.
        reported = parse_pdf_report(Path(run.log).read_text(encoding="utf-8", errors="replace"))
        pages = reported["pages"] if reported else counted
        seconds = reported["seconds"] if reported else run.seconds
        result = {
            "pages": pages,
            "seconds": round(seconds, 3),
            "pages_per_s": round(pages / seconds, 2) if seconds else None,
            "source": "build_pdf.py output" if reported else "pypdf count, wall time",
            "wall_s": round(run.seconds, 3),
            "pypdf_pages": counted,
            # The workers' memory counts: the peak of the whole process tree.
            "peak_rss_mb": round(run.tree_rss_mb, 1),
            "largest_process_rss_mb": round(run.rss_mb, 1),
            "mb_per_page": round(run.tree_rss_mb / pages, 3) if pages else None,
            "size_mb": round(pdf.stat().st_size / 1e6, 2),
        }
        say(f"PDF {tag}: {pages} pages in {seconds:.1f} s, peak {run.tree_rss_mb:.0f} MB")
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


_PDF_PAGES_RE = re.compile(r"(?<![\w.])(\d[\d,]*)\s+pages?\b(?!\s*/)", re.IGNORECASE)
_PDF_SECONDS_RE = re.compile(
    r"(?<![\w.])(\d+(?:\.\d+)?)\s*(?:s|sec|secs|seconds)\b(?!\s*/)", re.IGNORECASE
)


def parse_pdf_report(log: str) -> dict[str, float] | None:
    """Find the page count and seconds that ``scripts/build_pdf.py`` reports, or ``None``.

    Reads the last line that names both (``wrote x.pdf: 84 pages ..., 11.8 s (7 pages/s)``),
    tolerating other wording around them, since the script's message may change; a rate
    (``pages/s``) is never taken for a count.
    """
    for line in reversed(log.splitlines()):
        pages = _PDF_PAGES_RE.search(line)
        seconds = _PDF_SECONDS_RE.search(line)
        if pages and seconds:
            count = int(pages.group(1).replace(",", ""))
            secs = float(seconds.group(1))
            if count > 0 and secs > 0:
                return {"pages": count, "seconds": secs}
    return None


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
