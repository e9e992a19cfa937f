"""Unit tests of what the build knows about history: git availability, version and dates.

The git tests make throw-away repositories under ``tmp_path`` (never touching the project's
own repository) and fence discovery with ``GIT_CEILING_DIRECTORIES`` so that a repository
above the temporary directory cannot change the answer.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import needs
from factories import make_catalog, make_study, make_trial
from livingreview import pdf
from livingreview.history import env_epoch, has_git_history, last_updated, review_version
from livingreview.validate import today

needs_git = needs(None if shutil.which("git") else "git is not installed")


@pytest.fixture
def git_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Return an environment for git in ``tmp_path`` only, and apply it to this test."""
    for name in list(os.environ):
        if name.startswith("GIT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    return dict(os.environ)


def git(env: dict[str, str], cwd: Path, *args: str) -> None:
    """Run one git command in a throw-away repository, failing the test on error."""
    subprocess.run(
        [
            "git",
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.org",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
            *args,
        ],
        cwd=cwd,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )


def committed_repo(env: dict[str, str], path: Path) -> Path:
    """Return ``path`` as a git repository with one commit."""
    path.mkdir(parents=True, exist_ok=True)
    git(env, path, "init", "-q")
    (path / "README.md").write_text("x\n", encoding="utf-8")
    git(env, path, "add", "README.md")
    git(env, path, "commit", "-q", "-m", "first")
    return path


@needs_git
def test_directory_outside_git_has_no_history(tmp_path: Path, git_env: dict[str, str]) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert has_git_history(plain) is False


@needs_git
def test_repository_with_a_commit_has_history(tmp_path: Path, git_env: dict[str, str]) -> None:
    assert has_git_history(committed_repo(git_env, tmp_path / "repo")) is True


@needs_git
def test_repository_without_a_commit_has_no_history(
    tmp_path: Path, git_env: dict[str, str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    git(git_env, empty, "init", "-q")
    assert has_git_history(empty) is False


@needs_git
def test_copy_nested_in_another_repository_does_not_borrow_its_history(
    tmp_path: Path, git_env: dict[str, str]
) -> None:
    outer = committed_repo(git_env, tmp_path / "outer")
    nested = outer / "build" / "project"
    nested.mkdir(parents=True)
    assert has_git_history(outer) is True
    assert has_git_history(nested) is False


def test_without_git_there_is_no_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert has_git_history(tmp_path) is False


def test_version_comes_from_citation_cff_first(tmp_path: Path) -> None:
    (tmp_path / "CITATION.cff").write_text(
        '# Keep `version` in step.\ncff-version: 1.2.0\ntitle: X\nversion: "2.3.0"\n',
        encoding="utf-8",
    )
    (tmp_path / "pyproject.toml").write_text('[project]\nversion = "9.9.9"\n', encoding="utf-8")
    assert review_version(tmp_path) == "2.3.0"


def test_version_falls_back_to_pyproject(tmp_path: Path) -> None:
    (tmp_path / "CITATION.cff").write_text("cff-version: 1.2.0\ntitle: X\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "0.4.1"  # bump on release\n'
        '[tool.ruff]\ntarget-version = "py311"\n',
        encoding="utf-8",
    )
    assert review_version(tmp_path) == "0.4.1"


@pytest.mark.parametrize(
    ("line", "version"),
    [
        ("version: 1.0\n", "1.0"),
        ("version: '1.0.2'\n", "1.0.2"),
        ("version: v2 # released\n", "v2"),
    ],
)
def test_version_forms_in_citation_cff(tmp_path: Path, line: str, version: str) -> None:
    (tmp_path / "CITATION.cff").write_text("cff-version: 1.2.0\n" + line, encoding="utf-8")
    assert review_version(tmp_path) == version


def test_indented_version_of_a_cited_work_is_not_the_review_version(tmp_path: Path) -> None:
    (tmp_path / "CITATION.cff").write_text(
        "cff-version: 1.2.0\nreferences:\n  - title: Tool\n    version: 5.0\n", encoding="utf-8"
    )
    assert review_version(tmp_path) == ""


def test_no_version_anywhere_is_empty(tmp_path: Path) -> None:
    assert review_version(tmp_path) == ""


def test_project_version_matches_citation_cff() -> None:
    root = Path(__file__).resolve().parents[1]
    text = (root / "CITATION.cff").read_text(encoding="utf-8")
    assert f'version: "{review_version(root)}"' in text


def test_last_updated_is_the_newest_record_date() -> None:
    catalog = make_catalog(
        [
            make_study("a-2020", updated="2026-03-01"),
            make_study("b-2021", updated="2026-05-17"),
        ],
        [make_trial("nct00000001", updated="2026-04-30")],
    )
    assert last_updated(catalog) == "2026-05-17"


def test_last_updated_includes_trials() -> None:
    catalog = make_catalog(
        [make_study("a-2020", updated="2026-03-01")],
        [make_trial("nct00000001", updated="2026-06-02"), make_trial("nct00000002")],
    )
    assert last_updated(catalog) == "2026-06-02"


def test_last_updated_of_an_empty_catalog_is_empty() -> None:
    assert last_updated(make_catalog([])) == ""


@pytest.mark.parametrize("line", ["version: 1.10\n", "version: '1.10'\n", 'version: "1.10"\n'])
def test_site_and_pdf_show_the_same_version(tmp_path: Path, line: str) -> None:
    # An unquoted 1.10 is a float to a YAML parser (1.1); both outputs must keep "1.10".
    (tmp_path / "CITATION.cff").write_text("cff-version: 1.2.0\ntitle: X\n" + line, "utf-8")
    site = review_version(tmp_path)  # what the footer and [[review version]] show
    meta = pdf.review_metadata({"site_name": "X"}, tmp_path, pdf.FALLBACK_EPOCH)
    assert site == meta.version == "1.10"
    assert "Version 1.10" in meta.citation


def test_one_reading_of_source_date_epoch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert env_epoch({}) is None
    assert env_epoch({"SOURCE_DATE_EPOCH": " 1795262400 "}) == 1795262400
    with pytest.raises(ValueError, match="whole seconds"):
        env_epoch({"SOURCE_DATE_EPOCH": "2026-11-21"})
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795262400")
    assert pdf.source_date_epoch(tmp_path) == 1795262400
    assert today().isoformat() == "2026-11-21"
