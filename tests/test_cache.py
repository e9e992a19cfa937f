"""The one cache of parsed inputs: by path and content hash, one version per path."""

from __future__ import annotations

import os
from pathlib import Path

from livingreview import load
from livingreview.bibliography import load_bibliography
from livingreview.cache import ContentCache


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
