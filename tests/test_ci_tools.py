"""Tests that need a tool cannot pass silently in CI: a missing tool fails them under CI=true."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# A throw-away test session whose conftest is the suite's own (loaded by path).
SUITE_CONFTEST = str(ROOT / "tests" / "conftest.py")
CONFTEST = f"""
import importlib.util

_spec = importlib.util.spec_from_file_location("suite_conftest", {SUITE_CONFTEST!r})
_suite = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_suite)
needs = _suite.needs
pytest_runtest_setup = _suite.pytest_runtest_setup
"""
CASE = """
from conftest import needs

@needs("chromium is not installed (test)")
def test_needs_a_missing_tool():
    pass

@needs(None)
def test_needs_a_present_tool():
    pass
"""


@pytest.mark.parametrize(
    ("ci", "status", "summary"), [("true", 1, "1 error"), ("", 0, "1 skipped")]
)
def test_missing_tool_skips_locally_and_fails_in_ci(
    tmp_path: Path, ci: str, status: int, summary: str
) -> None:
    (tmp_path / "conftest.py").write_text(CONFTEST, "utf-8")
    (tmp_path / "test_case.py").write_text(CASE, "utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "markers=needs"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "CI": ci},
        timeout=120,
    )
    assert result.returncode == status, result.stdout
    assert summary in result.stdout and "1 passed" in result.stdout, result.stdout
    if ci:
        assert "CI=true and a required tool is missing: chromium is not installed" in result.stdout
