"""The caches of parsed inputs: in memory by path and content, and across builds in .cache/."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, snapshot
from livingreview import cache, load
from livingreview.bibliography import Formatter, clear_cache, load_bibliography
from livingreview.bibliography import parse as bibparse
from livingreview.bibliography.styles import style_path
from livingreview.cache import ContentCache
from livingreview.validate import schema as schema_module
from livingreview.validate.schema import schema_problems, schema_validator

#: A fixed release date for the builds compared here (any date after the records' dates).
EPOCH = "1893456000"


def test_same_content_is_parsed_once_and_an_edit_replaces_the_old_version() -> None:
    cache: ContentCache[tuple[str, ...]] = ContentCache()
    calls: list[str] = []

    def parse(text: str) -> tuple[str, ...]:
        calls.append(text)
        return tuple(text.split())

    first = cache.get("a.yaml", "x y", lambda: parse("x y"))
    assert cache.get("a.yaml", "x y", lambda: parse("x y")) is first
    assert cache.get("a.yaml", "x z", lambda: parse("x z")) == ("x", "z")
    assert calls == ["x y", "x z"]
    assert len(cache) == 1  # one version per path


def keep_stat(path: Path, text: str) -> None:
    """Rewrite ``path`` with text of the same size, restoring its modification time."""
    stat = path.stat()
    assert len(text.encode()) == stat.st_size
    path.write_text(text, "utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_yaml_edit_that_keeps_size_and_time_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "record.yaml"
    path.write_text("id: abc\n", "utf-8")
    doc, _ = load.load_yaml(path, tmp_path)
    again, _ = load.load_yaml(path, tmp_path)
    assert doc is not None and again is doc
    keep_stat(path, "id: xyz\n")
    edited, _ = load.load_yaml(path, tmp_path)
    assert edited is not None and edited.data == {"id": "xyz"}


def test_bibtex_edit_that_keeps_size_and_time_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "references.bib"
    path.write_text("@article{aaa, title={One}, year={2020}}\n", "utf-8")
    bib, _ = load_bibliography(path, tmp_path)
    assert load_bibliography(path, tmp_path)[0] is bib
    keep_stat(path, "@article{bbb, title={One}, year={2020}}\n")
    edited, _ = load_bibliography(path, tmp_path)
    assert list(edited) == ["bbb"]


# --------------------------------------------------------------------------------------------
# The cache across builds (.cache/livingreview): invalidation, corruption, identical output
# --------------------------------------------------------------------------------------------

BIB = """@article{feder2014,
  author = {Feder, Adriana and Parides, Michael K.},
  title = {Efficacy of Intravenous Ketamine},
  journal = {JAMA Psychiatry},
  year = {2014},
  volume = {71},
  pages = {681--688}
}
@article{mion2017,
  author = {Mion, Georges},
  title = {A retrospective study},
  journal = {Anaesthesia},
  year = {2017}
}
@article{nodate,
  author = {Nobody, Anne},
  title = {Missing its year}
}
"""


def counted(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[int]:
    """Count the calls of ``owner.name`` (the wrapped function still runs)."""
    calls: list[int] = []
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)
    return calls


def fresh_process() -> None:
    """Forget everything kept in memory, as a new ``mkdocs build`` process would."""
    clear_cache()
    load.clear_cache()


def bib_build(root: Path) -> tuple[Any, list[Any]]:
    """One "build" that loads references.bib with the cache across builds open."""
    fresh_process()
    cache.open_disk_cache(root)
    result = load_bibliography(root / "references.bib", root)
    cache.save_disk_cache()
    return result


def test_parsed_bibtex_is_reused_across_builds_until_the_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "references.bib").write_text(BIB, "utf-8")
    parses = counted(monkeypatch, bibparse, "parse_bibtex_bytes")
    cold, cold_problems = bib_build(tmp_path)
    assert len(parses) == 1 and (tmp_path / ".cache" / "livingreview" / "bibtex.json").is_file()
    warm, warm_problems = bib_build(tmp_path)
    assert len(parses) == 1  # read from .cache, not parsed
    assert warm is not cold and warm == cold and warm_problems == cold_problems
    assert cold_problems  # the entry without a year: problems are kept too
    # Field order is part of the value (the BibTeX download writes fields in this order).
    assert [list(e.fields) for e in warm.entries.values()] == [
        list(e.fields) for e in cold.entries.values()
    ]
    keep_stat(tmp_path / "references.bib", BIB.replace("Anaesthesia", "Anaesthesis"))
    edited, _ = bib_build(tmp_path)
    assert len(parses) == 2 and edited.entries["mion2017"].fields["journal"] == "Anaesthesis"


def test_a_new_library_version_invalidates_every_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "references.bib").write_text(BIB, "utf-8")
    parses = counted(monkeypatch, bibparse, "parse_bibtex_bytes")
    bib_build(tmp_path)
    # An edit to any file of hooks/livingreview (or a package upgrade) changes the version.
    monkeypatch.setattr(cache, "library_version", lambda: "0" * 64)
    with caplog.at_level(logging.INFO, logger="mkdocs"):
        bib_build(tmp_path)
    assert len(parses) == 2
    assert [r.getMessage() for r in caplog.records if "build cache" in r.getMessage()] == [
        f"Ignored an unusable build cache ({tmp_path / '.cache/livingreview/bibtex.json'}: "
        "made by another version of the build code); it is rebuilt."
    ]


def test_library_version_covers_the_package_files_and_dependencies() -> None:
    # Not a constant: a digest that changes with any file of the package (checked by content).
    version = cache.library_version()
    assert len(version) == 64 and version == cache.library_version()
    package = Path(cache.__file__).parent
    assert (package / "bibliography" / "formatting.py").is_file()


def format_build(root: Path, style: str, keys: list[str]) -> dict[str, str]:
    """One "build" that formats ``keys`` in ``style`` with the cache across builds open."""
    fresh_process()
    cache.open_disk_cache(root)
    bib, _ = load_bibliography(root / "references.bib", root)
    result = Formatter(bib, style, root).format_references(keys)
    cache.save_disk_cache()
    return result


def test_formatted_references_are_reused_per_style_and_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "references.bib").write_text(BIB, "utf-8")
    renders = counted(monkeypatch, Formatter, "_format_uncached")
    keys = ["feder2014", "mion2017"]
    cold = format_build(tmp_path, "american-medical-association", keys)
    assert len(renders) == 2
    assert format_build(tmp_path, "american-medical-association", keys) == cold
    assert len(renders) == 2  # both from .cache
    # Another style file (same name, one comment more): everything is formatted again.
    style = tmp_path / "ama.csl"
    bundled = style_path("american-medical-association", None).read_text(encoding="utf-8")
    style.write_text(bundled.replace("<info>", "<info><!-- local copy -->", 1), "utf-8")
    assert format_build(tmp_path, "ama.csl", keys) == cold
    assert len(renders) == 4
    assert format_build(tmp_path, "ama.csl", keys) == cold and len(renders) == 4
    # One entry edited: only that entry is formatted again.
    (tmp_path / "references.bib").write_text(BIB.replace("681--688", "681--689"), "utf-8")
    edited = format_build(tmp_path, "american-medical-association", keys)
    assert len(renders) == 5
    assert "681-689" in edited["feder2014"] and edited["mion2017"] == cold["mion2017"]


SCHEMA = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "n": {"type": "integer", "minimum": 1}},
    "additionalProperties": False,
}


def schema_build(root: Path, name: str) -> list[str]:
    """One "build" that checks ``data/x.yaml`` against ``data/schema/<name>.schema.json``."""
    fresh_process()
    cache.open_disk_cache(root)
    doc, _ = load.load_yaml(root / "data" / "x.yaml", root)
    assert doc is not None
    problems: list[Any] = []
    schema_problems(doc, schema_validator(root, name), problems)
    cache.save_disk_cache()
    return [p.format() for p in problems]


def test_schema_checks_are_reused_until_the_record_or_the_schema_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data" / "schema").mkdir(parents=True)
    schema_file = tmp_path / "data" / "schema" / "x.schema.json"
    schema_file.write_text(json.dumps(SCHEMA), "utf-8")
    (tmp_path / "data" / "x.yaml").write_text("id: a\nn: 0\nextra: 1\n", "utf-8")
    checks = counted(monkeypatch, schema_module, "_value_problems")
    cold = schema_build(tmp_path, "x")
    assert len(checks) == 1 and len(cold) == 2
    assert cold[0] == "data/x.yaml:3:1: error: extra: unknown field 'extra'; allowed: id, n"
    assert schema_build(tmp_path, "x") == cold and len(checks) == 1
    # The record changes: checked again.
    (tmp_path / "data" / "x.yaml").write_text("id: a\nn: 0\nextra: 2\n", "utf-8")
    assert schema_build(tmp_path, "x") == cold and len(checks) == 2
    # The schema changes (minimum 0 now): checked again, and the result follows it.
    relaxed = {**SCHEMA, "properties": {**SCHEMA["properties"], "n": {"type": "integer"}}}
    schema_file.write_text(json.dumps(relaxed), "utf-8")
    os.utime(schema_file, ns=(1, 10**18))  # a new file version for the in-memory validator
    assert schema_build(tmp_path, "x") == cold[:1] and len(checks) == 3


@pytest.fixture(scope="module")
def cold_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A copy of the real project built once without a cache: (project, site)."""
    root = tmp_path_factory.mktemp("cache-project") / "project"
    root.mkdir()
    for name in ("data", "docs", "overrides", "hooks"):
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("mkdocs.yml", "references.bib", "CITATION.cff"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, root / name)
    site = root.parent / "site-cold"
    result = strict_build(root, site)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "build cache" not in result.stderr  # a missing cache is not worth a line
    return root, site


def strict_build(root: Path, site: Path) -> subprocess.CompletedProcess[str]:
    """``mkdocs build --strict`` as ``make site`` runs it, with the release date fixed."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}
    env.pop(cache.ENV_SWITCH, None)
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


def tables(root: Path) -> list[Path]:
    return sorted((root / ".cache" / "livingreview").glob("*.json"))


def test_warm_build_gives_a_byte_identical_site(
    cold_project: tuple[Path, Path], tmp_path: Path
) -> None:
    root, cold_site = cold_project
    names = [p.name for p in tables(root)]
    assert "bibtex.json" in names and "schema.json" in names
    assert any(n.startswith("references-") for n in names)
    stored = {p.name: p.read_bytes() for p in tables(root)}
    result = strict_build(root, tmp_path / "site")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "build cache" not in result.stderr
    assert snapshot(tmp_path / "site") == snapshot(cold_site)
    # The warm build found everything it needed: nothing was rewritten.
    assert {p.name: p.read_bytes() for p in tables(root)} == stored


def corrupt(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "garbage":
        path.write_bytes(b"\x00\xffnot json at all {")
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "wrong version":
        table = json.loads(data)
        table["version"] = "0" * 64
        path.write_text(json.dumps(table), "utf-8")
    elif how == "wrong values":
        table = json.loads(data)
        table["entries"] = {k: [1, 2] for k in table["entries"]}
        path.write_text(json.dumps(table), "utf-8")
    else:  # unreadable: a directory where the file should be (root can read any file)
        path.unlink()
        path.mkdir()


@pytest.mark.parametrize("how", ["garbage", "truncated", "wrong version", "wrong values", "dir"])
def test_corrupt_cache_is_ignored_with_one_line_and_the_site_is_unchanged(
    cold_project: tuple[Path, Path], tmp_path: Path, how: str
) -> None:
    root, cold_site = cold_project
    for path in tables(root):
        corrupt(path, how)
    result = strict_build(root, tmp_path / "site")
    # Not a problem in the inputs: the strict build passes, and says so once, at INFO.
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line for line in result.stderr.splitlines() if "build cache" in line]
    if how == "wrong values":
        assert lines == []  # well-formed tables whose values do not fit are simply missed
    else:
        assert len(lines) == 1 and lines[0].startswith("INFO"), result.stderr[-3000:]
        assert "it is rebuilt" in lines[0]
    assert snapshot(tmp_path / "site") == snapshot(cold_site)
    if how == "dir":
        for path in [p for p in tables(root) if p.is_dir()]:
            path.rmdir()
        # The next build writes the tables again.
        assert strict_build(root, tmp_path / "site2").returncode == 0
    for path in tables(root):
        table = json.loads(path.read_bytes())
        assert table["version"] == cache.library_version() and table["entries"]


def test_make_clean_removes_the_cache(tmp_path: Path) -> None:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / ".cache" / "livingreview").mkdir(parents=True)
    (tmp_path / ".cache" / "livingreview" / "bibtex.json").write_text("{}", "utf-8")
    (tmp_path / "references.bib").write_text(BIB, "utf-8")
    result = subprocess.run(["make", "clean"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / ".cache").exists() and (tmp_path / "references.bib").exists()
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".cache/" in ignored


def yaml_build(root: Path, name: str) -> tuple[Any, list[Any]]:
    """One "build" that loads ``data/<name>`` with the cache across builds open."""
    fresh_process()
    cache.open_disk_cache(root)
    result = load.load_yaml(root / "data" / name, root)
    cache.save_disk_cache()
    return result


def test_parsed_yaml_is_reused_across_builds_until_the_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data").mkdir()
    record = tmp_path / "data" / "x.yaml"
    record.write_text("id: a\nflag: yes\nn: 1.5\nlist:\n  - {k: 1}\n", "utf-8")
    parses = counted(monkeypatch, load, "parse_yaml")
    cold, cold_problems = yaml_build(tmp_path, "x.yaml")
    warm, warm_problems = yaml_build(tmp_path, "x.yaml")
    assert len(parses) == 1
    assert cold_problems and warm_problems == cold_problems  # "yes" is reported either way
    assert (warm.data, warm.values, warm.keys, warm.digest) == (
        cold.data,
        cold.values,
        cold.keys,
        cold.digest,
    )
    assert warm.position(("list", 0, "k")) == cold.position(("list", 0, "k")) == (5, 9)
    keep_stat(record, "id: b\nflag: yes\nn: 1.5\nlist:\n  - {k: 1}\n")
    edited, _ = yaml_build(tmp_path, "x.yaml")
    assert len(parses) == 2 and edited.data["id"] == "b"


def test_reference_downloads_are_reused_until_the_cited_entries_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from livingreview import exports
    from livingreview.site import SiteBuild

    (tmp_path / "references.bib").write_text(BIB, "utf-8")
    writes = counted(monkeypatch, exports, "build_downloads")
    groups = frozenset({"references"})

    def downloads(keys: list[str]) -> dict[str, str]:
        fresh_process()
        cache.open_disk_cache(tmp_path)
        bib, _ = load_bibliography(tmp_path / "references.bib", tmp_path)
        build = SiteBuild(root=tmp_path, docs_dir=tmp_path / "docs")
        build.project = types.SimpleNamespace(bibliography=bib)  # type: ignore[assignment]
        result = build._reference_downloads(keys, groups)
        cache.save_disk_cache()
        return result

    cold = downloads(["feder2014", "mion2017"])
    assert downloads(["feder2014", "mion2017"]) == cold and len(writes) == 1
    # Another citation order is another file (entries are listed in citation order).
    assert downloads(["mion2017", "feder2014"]) != cold and len(writes) == 2
    (tmp_path / "references.bib").write_text(BIB.replace("Mion, Georges", "Mion, G."), "utf-8")
    edited = downloads(["feder2014", "mion2017"])
    assert len(writes) == 3 and "Mion, G." in edited["references.bib"]


def test_a_serve_rebuild_answered_from_memory_keeps_every_table_whole(tmp_path: Path) -> None:
    (tmp_path / "references.bib").write_text(BIB, "utf-8")
    (tmp_path / "data").mkdir()
    for name in ("a", "b"):
        (tmp_path / "data" / f"{name}.yaml").write_text(f"id: {name}\n", "utf-8")

    def build() -> dict[str, list[str]]:
        cache.open_disk_cache(tmp_path)
        load_bibliography(tmp_path / "references.bib", tmp_path)
        for name in ("a", "b"):
            load.load_yaml(tmp_path / "data" / f"{name}.yaml", tmp_path)
        cache.save_disk_cache()
        return {
            p.name: sorted(json.loads(p.read_bytes())["entries"])
            for p in sorted((tmp_path / ".cache" / "livingreview").glob("*.json"))
        }

    fresh_process()
    first = build()
    assert len(first["yaml.json"]) == 2 and len(first["bibtex.json"]) == 1
    # The next rebuild of `mkdocs serve` gets everything from memory; the tables stay whole,
    # so the next fresh `mkdocs build` still finds every value.
    assert build() == first
    (tmp_path / "data" / "b.yaml").write_text("id: b\nnote: x\n", "utf-8")
    edited = build()
    assert len(edited["yaml.json"]) == 2 and edited["yaml.json"] != first["yaml.json"]


def generated_build(root: Path) -> tuple[dict[str, str], dict[str, str]]:
    """One "build" of the generated pages and data downloads, with the cache across builds."""
    from livingreview.site import SiteBuild

    fresh_process()
    cache.open_disk_cache(root)
    build = SiteBuild(root=root, docs_dir=root / "docs")
    build.load()
    pages = {p.src: p.content for p in build.generated_pages()}
    files = {p.src: p.content for p in build.generated_files()}
    cache.save_disk_cache()
    return pages, files


def test_generated_pages_and_data_downloads_are_reused_until_the_model_changes(
    project_copy: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from livingreview import exports, pages

    root = project_copy(["feder-2014", "albott-2018"])
    renders = counted(monkeypatch, pages, "study_page")
    downloads = counted(monkeypatch, exports, "build_downloads")
    cold_pages, cold_files = generated_build(root)
    assert len(renders) == 2 and len(downloads) == 1
    assert generated_build(root) == (cold_pages, cold_files)
    assert len(renders) == 2 and len(downloads) == 1  # nothing was made again
    # A record edit changes the model: its page and the data downloads are made again.
    record = root / "data" / "studies" / "albott-2018.yaml"
    text = record.read_text(encoding="utf-8")
    marker = "  - The abstract does not say"
    assert marker in text
    record.write_text(text.replace(marker, "  - Cache check note.\n" + marker), "utf-8")
    edited_pages, edited_files = generated_build(root)
    assert len(renders) == 4 and len(downloads) == 2
    assert "Cache check note." in edited_pages["studies/albott-2018.md"]
    assert "Cache check note." in edited_files["downloads/studies.json"]
    assert "Cache check note." not in cold_files["downloads/studies.json"]
    # A vocabulary label is part of the model too (pages show labels, not codes).
    designs = root / "data" / "vocabularies" / "designs.yaml"
    designs.write_text(
        designs.read_text(encoding="utf-8").replace("label: Randomized", "label: Randomised"),
        "utf-8",
    )
    relabelled, _ = generated_build(root)
    assert len(renders) == 6
    assert "Randomised" in relabelled["studies/feder-2014.md"]
    assert "Randomised" not in edited_pages["studies/feder-2014.md"]


def test_model_digest_is_the_same_in_every_process_for_the_same_inputs(
    project_copy: Callable[..., Path],
) -> None:
    root = project_copy(["feder-2014"])
    code = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[2]);"
        "from livingreview.site import SiteBuild;"
        "b = SiteBuild(root=Path(sys.argv[1]), docs_dir=Path(sys.argv[1]) / 'docs');"
        "b.load(); print(b.model_digest())"
    )
    run = [sys.executable, "-c", code, str(root), str(ROOT / "hooks")]
    digests = {
        subprocess.run(run, capture_output=True, text=True, check=True).stdout for _ in range(2)
    }
    assert len(digests) == 1 and len(digests.pop().strip()) == 64
