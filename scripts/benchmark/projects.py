"""Project trees of the benchmark: the plain-MkDocs baseline and citation counts."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from benchmark.common import ROOT  # noqa: F401  (its import puts hooks/ on sys.path)

# ---------------------------------------------------------------------------------------------
# Projects: the plain-MkDocs baseline; citation counts
# ---------------------------------------------------------------------------------------------


def load_yaml_config(path: Path) -> dict[str, Any]:
    """Load a generated ``mkdocs.yml`` (no tags: synthetic configs are plain YAML)."""
    import yaml

    return dict(yaml.safe_load(path.read_text(encoding="utf-8")))


def dump_yaml_config(config: dict[str, Any], path: Path) -> None:
    """Write an ``mkdocs.yml``."""
    import yaml

    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), "utf-8")


def static_files(docs: Path, target: Path) -> None:
    """Copy the non-Markdown files of a docs dir (assets) into another docs dir."""
    for path in docs.rglob("*"):
        if path.is_file() and path.suffix != ".md":
            dest = target / path.relative_to(docs)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, dest)


def plugin_name(plugin: Any) -> str:
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
    static_files(ours / "docs", plain / "docs")
    disabled = report["disabled_plugins"]
    in_nav = set(report["in_nav"])
    not_in_nav = [src for src in report["pages"] if src not in in_nav]
    if (ours / "overrides").is_dir():
        shutil.copytree(ours / "overrides", plain / "overrides")
    config = load_yaml_config(ours / "mkdocs.yml")
    config.pop("hooks", None)
    plugins = []
    for plugin in config.get("plugins", []):
        name = plugin_name(plugin)
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
