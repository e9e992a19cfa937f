"""Shared fixtures: the repository root, a scratch copy of the real project, and snapshots.

Tests import the library from ``hooks/`` exactly as the MkDocs adapter does.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
sys.path.insert(0, str(ROOT / "hooks"))
sys.path.insert(0, str(ROOT / "scripts"))


def needs(missing: str | None) -> pytest.MarkDecorator:
    """Mark tests that need a tool; ``missing`` says why it is absent (``None``: present).

    Outside CI a missing tool skips the test. Under ``CI=true`` it fails it instead, so a CI
    run without Chromium or poppler cannot pass by running nothing.
    """
    return pytest.mark.needs(missing)


@pytest.fixture(autouse=True)
def no_cache_across_builds_after_a_test() -> object:
    """Close the on-disk cache an in-process build opened, so no later test reads from it."""
    yield
    from livingreview.cache import open_disk_cache

    open_disk_cache(None)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip, or under ``CI=true`` fail, a test marked with :func:`needs` whose tool is absent."""
    for mark in item.iter_markers("needs"):
        missing = mark.args[0] if mark.args else None
        if missing:
            if os.environ.get("CI") == "true":
                pytest.fail(f"CI=true and a required tool is missing: {missing}", pytrace=False)
            pytest.skip(missing)


def snapshot(folder: Path) -> dict[str, str]:
    """Return the sha256 of every file under ``folder``, to prove inputs are left unchanged."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def project_copy(tmp_path: Path) -> Callable[..., Path]:
    """Return a function that copies the real project's inputs into ``tmp_path``.

    ``studies`` limits which records are copied (ids); ``docs`` copies the hand-written pages.
    """

    def make(studies: list[str] | None = None, *, docs: bool = False, site: bool = False) -> Path:
        root = tmp_path / "project"
        (root / "data" / "studies").mkdir(parents=True)
        shutil.copytree(ROOT / "data" / "schema", root / "data" / "schema")
        shutil.copytree(ROOT / "data" / "vocabularies", root / "data" / "vocabularies")
        shutil.copytree(ROOT / "data" / "trials", root / "data" / "trials")
        # The PRISMA counts describe the full set of records, so a subset leaves it out.
        extras = ("glossary.yaml", "versions.yaml")
        if studies is None:
            extras += ("prisma.yaml",)
        for extra in extras:
            if (ROOT / "data" / extra).exists():
                shutil.copy(ROOT / "data" / extra, root / "data" / extra)
        for path in sorted((ROOT / "data" / "studies").glob("*.yaml")):
            if studies is None or path.stem in studies:
                shutil.copy(path, root / "data" / "studies" / path.name)
        shutil.copy(ROOT / "references.bib", root / "references.bib")
        if docs or site:
            shutil.copytree(ROOT / "docs", root / "docs")
        if site:
            shutil.copy(ROOT / "mkdocs.yml", root / "mkdocs.yml")
            shutil.copytree(
                ROOT / "hooks", root / "hooks", ignore=shutil.ignore_patterns("__pycache__")
            )
            if (ROOT / "overrides").exists():
                shutil.copytree(ROOT / "overrides", root / "overrides")
        return root

    return make
