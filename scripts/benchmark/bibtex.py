"""The mkdocs-bibtex comparison project, its venv and its timed driver."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from benchmark.common import BENCH_VENV, BIBTEX_REQUIREMENTS, ROOT, say
from benchmark.projects import dump_yaml_config, load_yaml_config, plugin_name, static_files


def write_bibtex_project(ours: Path, target: Path, expanded_docs: Path) -> None:
    """Make the mkdocs-bibtex project: the same pages, citations left as ``[@key]``.

    Pages are taken after our marker expansion (so tables and study pages are the same) and
    before our citation stage. mkdocs-bibtex renders each citation as a footnote, so the
    ``footnotes`` extension is added; its warnings (unknown keys, affixes) are expected, so
    the build is not strict. Plugins needing git or absent from its venv are removed.
    """
    target.mkdir(parents=True)
    shutil.copytree(expanded_docs, target / "docs")
    static_files(ours / "docs", target / "docs")
    (target / "docs" / "references.md").write_text("# References\n", encoding="utf-8")
    shutil.copy(ours / "references.bib", target / "references.bib")
    if (ours / "overrides").is_dir():
        shutil.copytree(ours / "overrides", target / "overrides")
    config = load_yaml_config(ours / "mkdocs.yml")
    for key in ("hooks", "watch"):
        config.pop(key, None)
    config["strict"] = False
    config["plugins"] = [p for p in config.get("plugins", []) if plugin_name(p) == "search"] + [
        {"bibtex": {"bib_file": "references.bib"}}
    ]
    extensions = list(config.get("markdown_extensions", []))
    if "footnotes" not in [plugin_name(e) for e in extensions]:
        extensions.append("footnotes")
    config["markdown_extensions"] = extensions
    config["not_in_nav"] = "/studies/*.md\n"
    dump_yaml_config(config, target / "mkdocs.yml")


BIBTEX_DRIVER = r"""
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
