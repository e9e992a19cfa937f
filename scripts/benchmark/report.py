"""The benchmark's Markdown table."""

from __future__ import annotations

import math
from typing import Any

from benchmark.common import (
    TARGET_BIBTEX_SPEEDUP,
    TARGET_OVERHEAD_COLD,
    TARGET_OVERHEAD_WARM,
    TARGET_PDF_MB_PER_PAGE,
    TARGET_PDF_PAGES_PER_S,
    TARGET_SERVE_S,
)

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
        "| N | build (s) | plain MkDocs (s) | overhead | warm build (s) | overhead warm "
        "| scaling | citations (s) | hooks (s) | peak RSS (MB) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in data["results"]:
        lines.append(
            f"| {r['n']} | {_fmt(r['build_s'], '.1f')} | {_fmt(r['plain_s'], '.1f')} "
            f"| {_fmt(r['overhead'])} | {_fmt(r.get('build_warm_s'), '.1f')} "
            f"| {_fmt(r.get('overhead_warm'))} | {_fmt(r.get('scaling'))} "
            f"| {_fmt(r['citation_s'], '.1f')} | {_fmt(r['hooks_s'], '.1f')} "
            f"| {_fmt(r['peak_rss_mb'], '.0f')} |"
        )
    lines += [
        "",
        f"Targets: overhead (cold, no .cache) <= {TARGET_OVERHEAD_COLD}, overhead warm "
        f"<= {TARGET_OVERHEAD_WARM}, scaling <= 2.2.",
    ]
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
            f"(target >= {TARGET_BIBTEX_SPEEDUP:.0f}x; medians of alternating runs, per pair "
            f"{', '.join(_fmt(x) for x in bib.get('speedups', []))}). All keys: ours resolved "
            f"{bib['ours_resolved']}/{bib['citations']}, mkdocs-bibtex {bib['resolved']}"
            f"/{bib['citations']} ({bib['failed']} failed).",
        ]
    serve = data.get("serve")
    if serve and "error" not in serve:
        reuse = serve["reuse"]
        lines += [
            "",
            f"Serve at N = {serve['n']} ({serve.get('mode', 'mkdocs serve')}): save-to-page "
            f"{serve['save_to_page_s']:.1f} s (target <= {TARGET_SERVE_S:.0f} s), "
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
