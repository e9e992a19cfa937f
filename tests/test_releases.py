"""Releases (PRISMA-LSR): scripts/release.py, snapshots, what changed, feeds, how to cite.

The main scenario releases a small copy of the project, then adds, changes and removes a
study and releases again, and checks what a reader sees: the What's new sections, the feed
entries (whole feed and per condition), ``.zenodo.json`` and ``CITATION.cff``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ROOT, snapshot
from livingreview import history, pdf, release_cut, release_views, releases
from livingreview.changes import ATOM_NS
from livingreview.errors import ProblemsFound
from livingreview.project import load_project
from livingreview.site import SiteBuild

A = f"{{{ATOM_NS}}}"
SITE = "https://example.org/review/"
RELEASE = [sys.executable, str(ROOT / "scripts" / "release.py")]
#: 2026-12-01, so that release dates up to then are not "in the future".
EPOCH = "1796126400"
STUDIES = ["feder-2014", "mills-1998", "albott-2018"]
REMOVAL = """
removed:
  - id: mills-1998
    date: "2026-11-30"
    reason: Counted twice; its participants are reported in another record
"""


@pytest.fixture
def project(project_copy: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    root = project_copy(STUDIES)
    shutil.copy(ROOT / "CITATION.cff", root / "CITATION.cff")
    return root


def release(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``scripts/release.py --root root ARGS`` as a maintainer would."""
    return subprocess.run(
        [*RELEASE, "--root", str(root), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"SOURCE_DATE_EPOCH": EPOCH, "PATH": "/usr/bin:/bin"},
    )


def change_records(root: Path) -> None:
    """Add keeler-2023, change feder-2014's summary, remove mills-1998 (with its reason)."""
    studies = root / "data" / "studies"
    shutil.copy(ROOT / "data" / "studies" / "keeler-2023.yaml", studies / "keeler-2023.yaml")
    feder = studies / "feder-2014.yaml"
    text = feder.read_text(encoding="utf-8")
    changed = text.replace("summary: >-\n  ", "summary: >-\n  Corrected. ", 1)
    assert changed != text
    feder.write_text(changed, encoding="utf-8")
    (studies / "mills-1998.yaml").unlink()
    versions = root / "data" / "versions.yaml"
    versions.write_text(versions.read_text(encoding="utf-8") + REMOVAL, encoding="utf-8")


def whats_new(root: Path) -> str:
    build = SiteBuild(root=root, docs_dir=root / "docs")
    build.load()
    return build._whats_new()


def section(page: str, heading: str) -> str:
    match = re.search(rf"^### {re.escape(heading)}\n(.*?)(?=^##|\Z)", page, re.M | re.S)
    assert match, f"no section {heading!r} in\n{page}"
    return match.group(1)


def released(root: Path) -> Path:
    """Release 0.2.0, change the records, release 0.3.0; return ``root``."""
    first = release(root, "0.2.0", "--trigger", "Scheduled search", "--conclusions", "unchanged",
                    "--date", "2026-11-25")  # fmt: skip
    assert first.returncode == 0, first.stdout + first.stderr
    change_records(root)
    second = release(root, "0.3.0", "--trigger", "New open-label study <b>", "--conclusions",
                     "changed", "--date", "2026-12-01")  # fmt: skip
    assert second.returncode == 0, second.stdout + second.stderr
    return root


# --- the release scenario ------------------------------------------------------------------


def test_unreleased_changes_are_listed_since_the_newest_version(project: Path) -> None:
    result = release(project, "0.2.0", "--trigger", "Scheduled search", "--conclusions",
                     "unchanged", "--date", "2026-11-25")  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    page = whats_new(project)
    assert "No study record has been added, changed or removed since version 0.2.0." in page
    change_records(project)
    since = section(whats_new(project), "Since 0.2.0 (not yet released)")
    assert "Studies added (1):\n\n- [Keeler 2023](studies/keeler-2023.md)" in since
    assert "Studies updated (1):\n\n- [Feder 2014](studies/feder-2014.md)" in since
    assert "Studies removed (1):\n\n- mills-1998 (removed on 2026-11-30&#58; Counted" in since


def test_release_after_adding_changing_and_removing_studies(project: Path) -> None:
    original_versions = (ROOT / "data" / "versions.yaml").read_text(encoding="utf-8")
    released(project)
    page = whats_new(project)
    assert "The current version is **0.3.0**, released on 2026-12-01." in page

    newest = section(page, "Version 0.3.0 (2026-12-01)")
    assert "- **Trigger:** New open-label study &lt;b&gt;" in newest
    assert "- **Conclusions:** changed in this version" in newest
    assert "Studies added (1):\n\n- [Keeler 2023](studies/keeler-2023.md)\n" in newest
    assert "Studies updated (1):\n\n- [Feder 2014](studies/feder-2014.md)\n" in newest
    assert "Studies removed (1):\n\n- mills-1998 (removed on 2026-11-30" in newest
    assert "Albott" not in newest  # unchanged records are not listed

    middle = section(page, "Version 0.2.0 (2026-11-25)")
    assert "- **Conclusions:** unchanged" in middle
    assert "The version before it &#40;0.1.0&#41; has no recorded snapshot" in middle
    assert "this version holds 3 studies" in middle

    oldest = section(page, "Version 0.1.0 (2026-11-21)")
    assert "Snapshot not recorded for this version" in oldest
    assert "- **Conclusions:** not recorded for this version" in oldest

    assert "No study record has been added, changed or removed since version 0.3.0." in page
    rows = re.findall(r"^\| (0\.\d\.\d) \| [\d-]+ \| (.+) \|$", page, re.M)
    assert rows == [("0.3.0", "3"), ("0.2.0", "3"), ("0.1.0", "not recorded")]

    # versions.yaml: the old text (with its comments) is still there, below the new entries.
    text = (project / "data" / "versions.yaml").read_text(encoding="utf-8")
    assert text.index('- version: "0.3.0"') < text.index('- version: "0.2.0"')
    assert original_versions.rstrip("\n").split("\nversions:\n")[1] in text
    assert original_versions.split("\nversions:\n")[0] in text


def test_feed_has_one_entry_per_version_and_one_feed_per_condition(project: Path) -> None:
    released(project)
    build = SiteBuild(root=project, docs_dir=project / "docs")
    build.load()
    feeds = build.feeds(SITE, "Review")
    assert sorted(feeds) == ["feed-eating-disorders.xml", "feed-ptsd.xml", "feed.xml"]

    def versions(name: str) -> dict[str, ET.Element]:
        feed = ET.fromstring(feeds[name])
        return {
            e.findtext(f"{A}id", "").rsplit("/", 1)[1]: e
            for e in feed.findall(f"{A}entry")
            if ":versions/" in e.findtext(f"{A}id", "")
        }

    entries = versions("feed.xml")
    assert list(entries) == ["0.3.0", "0.2.0", "0.1.0"]
    newest = entries["0.3.0"]
    assert newest.findtext(f"{A}id") == "tag:example.org,2026-12-01:versions/0.3.0"
    assert newest.findtext(f"{A}title") == "Version 0.3.0: New open-label study <b>"
    content = newest.findtext(f"{A}content", "")
    assert "New open-label study &lt;b&gt;" in content  # HTML, escaped once for type="html"
    assert "Conclusions: changed in this version." in content
    assert f'<a href="{SITE}studies/keeler-2023/">Keeler 2023</a>' in content
    assert f'<a href="{SITE}studies/feder-2014/">Feder 2014</a>' in content
    assert "<li>mills-1998 (removed: Counted twice" in content
    assert "Snapshot not recorded" in entries["0.1.0"].findtext(f"{A}content", "")

    ed = versions("feed-eating-disorders.xml")["0.3.0"].findtext(f"{A}content", "")
    assert "Keeler 2023" in ed and "mills-1998" in ed and "Feder 2014" not in ed
    ptsd = versions("feed-ptsd.xml")["0.3.0"].findtext(f"{A}content", "")
    assert "Feder 2014" in ptsd and "Keeler" not in ptsd and "mills" not in ptsd
    ptsd_feed = ET.fromstring(feeds["feed-ptsd.xml"])
    assert ptsd_feed.findtext(f"{A}id") == f"{SITE}feed-ptsd.xml"
    study_links = [
        e.find(f"{A}link").get("href")  # type: ignore[union-attr]
        for e in ptsd_feed.findall(f"{A}entry")
        if ":studies/" in e.findtext(f"{A}id", "")
    ]
    assert sorted(study_links) == [f"{SITE}studies/albott-2018/", f"{SITE}studies/feder-2014/"]


def test_release_writes_citation_cff_and_zenodo_json(project: Path) -> None:
    before = (project / "CITATION.cff").read_text(encoding="utf-8").splitlines()
    released(project)
    after = (project / "CITATION.cff").read_text(encoding="utf-8").splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert changed == [
        ('version: "0.1.0"', 'version: "0.3.0"'),
        ('date-released: "2026-11-21"', 'date-released: "2026-12-01"'),
    ]
    zenodo = json.loads((project / ".zenodo.json").read_text(encoding="utf-8"))
    assert zenodo["version"] == "0.3.0"
    assert zenodo["publication_date"] == "2026-12-01"
    assert zenodo["title"] == "Ketamine for eating disorders and PTSD: a living evidence review"
    assert zenodo["creators"] == [{"name": "The Ketamine Evidence Review contributors"}]
    assert zenodo["license"] == "cc-by-4.0"
    assert zenodo["upload_type"] == "dataset"
    assert "living systematic review" in zenodo["keywords"]
    assert zenodo["related_identifiers"] == [
        {
            "identifier": "https://github.com/ketamine-review/ketamine-review",
            "relation": "isSupplementTo",
            "scheme": "url",
        }
    ]
    assert "New open-label study &lt;b&gt;" in zenodo["description"]
    assert "conclusions changed in this version" in zenodo["description"]
    # The released project is valid as it stands: CITATION.cff agrees with versions.yaml.
    assert load_project(project).release_log.current.version == "0.3.0"  # type: ignore[union-attr]


def test_zenodo_creators_from_people_with_orcid(tmp_path: Path) -> None:
    (tmp_path / "CITATION.cff").write_text(
        "cff-version: 1.2.0\ntitle: T\nlicense: CC0-1.0\ntype: software\nauthors:\n"
        "  - family-names: Lovelace\n    given-names: Ada\n    affiliation: Analytical\n"
        "    orcid: https://orcid.org/0000-0002-1825-0097\ndoi: 10.5281/zenodo.1\n",
        encoding="utf-8",
    )
    rel = releases.Release("1.0.0", "2026-01-01", "First", "unchanged")
    meta = json.loads(release_cut.zenodo_json(tmp_path, rel))
    assert meta["creators"] == [
        {"name": "Lovelace, Ada", "affiliation": "Analytical", "orcid": "0000-0002-1825-0097"}
    ]
    assert meta["upload_type"] == "software" and meta["license"] == "cc0-1.0"
    assert {"identifier": "10.5281/zenodo.1", "relation": "isVersionOf", "scheme": "doi"} in (
        meta["related_identifiers"]
    )


# --- refusals ------------------------------------------------------------------------------


def test_refused_release_changes_no_file(project: Path) -> None:
    released(project)
    before = snapshot(project)
    lower = release(project, "0.2.1", "--trigger", "x", "--conclusions", "unchanged")
    assert lower.returncode == 1
    assert lower.stdout == (
        "release.py: error: VERSION: version 0.2.1 is not greater than the newest version, 0.3.0\n"
    )
    assert "nothing was changed" in lower.stderr and "Traceback" not in lower.stderr
    assert snapshot(project) == before

    # A problem anywhere in the inputs refuses the release too, with the validator's line.
    record = project / "data" / "studies" / "albott-2018.yaml"
    record.write_text(record.read_text(encoding="utf-8") + "colour: blue\n", encoding="utf-8")
    before = snapshot(project)
    invalid = release(project, "0.4.0", "--trigger", "x", "--conclusions", "changed")
    assert invalid.returncode == 1
    line = r"data/studies/albott-2018\.yaml:\d+:1: error: colour: unknown field"
    assert re.match(line, invalid.stdout), invalid.stdout
    assert snapshot(project) == before


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["1.0", "--trigger", "x", "--conclusions", "changed"], "VERSION: '1.0' is not a version"),
        (["0.2.0", "--trigger", " ", "--conclusions", "changed"], "--trigger: must not be empty"),
        (
            ["0.2.0", "--trigger", "x", "--conclusions", "maybe"],
            "--conclusions: 'maybe' is not allowed; allowed: changed, unchanged",
        ),
        (
            ["0.2.0", "--trigger", "x", "--conclusions", "changed", "--date", "2099-01-01"],
            "--date: date 2099-01-01 is in the future",
        ),
        (
            ["0.2.0", "--trigger", "x", "--conclusions", "changed", "--date", "2026-11-20"],
            "--date: date 2026-11-20 is before 2026-11-21, the date of version 0.1.0",
        ),
    ],
    ids=["version_form", "empty_trigger", "conclusions", "future_date", "date_before_newest"],
)
def test_bad_arguments_refuse_with_one_line(project: Path, args: list[str], expected: str) -> None:
    before = snapshot(project)
    result = release(project, *args)
    assert result.returncode == 1
    assert result.stdout == f"release.py: error: {expected}\n" or expected in result.stdout
    assert len(result.stdout.splitlines()) == 1, result.stdout
    assert snapshot(project) == before


def test_write_all_undoes_a_partial_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("old a", encoding="utf-8")
    calls = []
    real_replace = release_cut.os.replace

    def failing_replace(src: str, dst: str) -> None:
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(release_cut.os, "replace", failing_replace)
    with pytest.raises(OSError):
        release_cut.write_all({first: "new a", second: "new b"})
    assert first.read_text(encoding="utf-8") == "old a"
    assert not second.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]  # no temporary files left


# --- history, warnings, validation ---------------------------------------------------------


def test_snapshot_survives_a_fresh_clone(project: Path, tmp_path: Path) -> None:
    git = ["git", "-c", "user.name=T", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q", str(project)], check=True)
    released(project)
    subprocess.run([*git, "-C", str(project), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(project), "commit", "-qm", "releases"], check=True)
    clone = tmp_path / "clone"
    subprocess.run([*git, "clone", "-q", str(project), str(clone)], check=True)
    # A copy without any .git folder (a tarball) computes the same page.
    tarball = tmp_path / "tarball"
    shutil.copytree(project, tarball, ignore=shutil.ignore_patterns(".git"))
    page = whats_new(project)
    assert "Studies added (1):\n\n- [Keeler 2023]" in page
    assert whats_new(clone) == page
    assert whats_new(tarball) == page


def test_release_without_a_new_search_warns(project: Path) -> None:
    released(project)  # last_searched 2026-11-21 is older than 0.2.0 (2026-11-25)
    project_ = load_project(project)
    assert [w.format() for w in project_.warnings] == [
        "data/versions.yaml:29:18: warning: living.last_searched: the last search (2026-11-21) "
        "is older than version 0.2.0 (2026-11-25), yet version 0.3.0 was released; search "
        "for new reports and set last_searched to the date of that search"
    ]
    result = release(project, "0.4.0", "--trigger", "x", "--conclusions", "unchanged")
    assert result.returncode == 0  # a warning does not refuse the release
    assert "warning: living.last_searched: the last search (2026-11-21)" in result.stdout


def test_removed_study_that_still_has_a_record_is_a_problem(project: Path) -> None:
    versions = project / "data" / "versions.yaml"
    versions.write_text(
        versions.read_text(encoding="utf-8") + REMOVAL.replace("mills-1998", "albott-2018"),
        encoding="utf-8",
    )
    with pytest.raises(ProblemsFound) as caught:
        load_project(project)
    lines = [p.format() for p in caught.value.problems]
    assert len(lines) == 1 and lines[0].startswith("data/versions.yaml:")
    assert lines[0].endswith(
        "error: removed[0].id: study 'albott-2018' is listed as removed but still has a record"
    )


def test_citation_cff_must_name_the_newest_version(project: Path) -> None:
    cff = project / "CITATION.cff"
    cff.write_text(cff.read_text(encoding="utf-8").replace('"0.1.0"', '"0.0.9"'), "utf-8")
    with pytest.raises(ProblemsFound) as caught:
        load_project(project)
    assert [p.format() for p in caught.value.problems] == [
        "CITATION.cff:20:1: error: version: '0.0.9' differs from the newest version in "
        "data/versions.yaml (0.1.0 of 2026-11-21); cut releases with scripts/release.py"
    ]


# --- the version and how to cite it --------------------------------------------------------


def test_version_is_read_once_as_text(tmp_path: Path) -> None:
    (tmp_path / "CITATION.cff").write_text(
        "cff-version: 1.2.0\ntitle: Review\nversion: 1.10\ndate-released: 2026-01-02\n"
        "doi: 10.5281/zenodo.123\nauthors:\n  - name: Team\n",
        encoding="utf-8",
    )
    assert history.review_version(tmp_path) == "1.10"
    meta = pdf.review_metadata({"site_name": "Review"}, tmp_path, 1795262400)
    assert (meta.version, meta.released, meta.doi) == ("1.10", "2026-01-02", "10.5281/zenodo.123")
    assert "Version 1.10 (released 2026-01-02)" in meta.citation
    assert "doi:10.5281/zenodo.123" in meta.citation
    citation = releases.read_citation(tmp_path)
    assert citation.text() == "Team. Review. Version 1.10. 2026-01-02. doi:10.5281/zenodo.123"


def test_cite_this_version_says_when_the_site_has_unreleased_changes(project: Path) -> None:
    released(project)
    loaded = load_project(project)
    citation = releases.read_citation(project)
    info = release_views.cite_this_version(citation, loaded.release_log, loaded.snapshot())
    assert (info["version"], info["date"], info["unreleased"]) == ("0.3.0", "2026-12-01", False)
    assert info["citation"].endswith(
        "Version 0.3.0. 2026-12-01. https://github.com/ketamine-review/ketamine-review"
    )
    (project / "data" / "studies" / "albott-2018.yaml").write_text(
        (project / "data" / "studies" / "albott-2018.yaml")
        .read_text(encoding="utf-8")
        .replace("summary: >-\n  ", "summary: >-\n  Changed. ", 1),
        encoding="utf-8",
    )
    loaded = load_project(project)
    info = release_views.cite_this_version(citation, loaded.release_log, loaded.snapshot())
    assert info["unreleased"] is True


def test_living_mode_on_methods_from_data() -> None:
    loaded = load_project(ROOT)
    table = release_views.living_mode_markdown(loaded.release_log)
    assert table is not None
    living = loaded.release_log.living
    assert living is not None and living.basis == "project-plan"
    assert f"| Last searched | {living.last_searched} |" in table
    assert "the plan this project adopts; no published protocol sets them" in table
    assert "| Planned search schedule |" in table
    assert "| Plan for retiring the living mode |" in table


def test_release_refuses_to_grow_versions_yaml_past_the_loader_limit(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(release_cut, "MAX_FILE_BYTES", 2000)
    before = snapshot(project)
    plan = release_cut.plan_release(project, "0.2.0", "Scheduled search", "unchanged")
    assert plan.files == {}
    [line] = [p.format() for p in plan.problems]
    assert re.fullmatch(
        r"data/versions\.yaml: error: versions: with this version the file would be \d+ "
        r"bytes; the loader's limit is 2000 bytes",
        line,
    )
    assert snapshot(project) == before


def test_without_citation_cff_the_foot_names_the_version_but_no_citation(project: Path) -> None:
    (project / "CITATION.cff").unlink()
    loaded = load_project(project)
    citation = releases.read_citation(project)
    info = release_views.cite_this_version(citation, loaded.release_log, loaded.snapshot())
    assert (info["version"], info["date"], info["citation"]) == ("0.1.0", "2026-11-21", "")
    assert info["unreleased"] is None  # 0.1.0 has no snapshot to compare with
