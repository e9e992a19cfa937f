"""The living-review features: versions, the What's new page and the Atom feed."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES, ROOT
from factories import make_catalog, make_study, make_trial, vocabularies_with
from livingreview.bibliography import load_bibliography
from livingreview.changes import (
    ATOM_NS,
    FALLBACK_AUTHORITY,
    atom_feed,
    current_version,
    whats_new_page,
)
from livingreview.model import Catalog, Version
from livingreview.validate import load_catalog, load_versions

A = f"{{{ATOM_NS}}}"
SITE = "https://example.org/review/"
CASES = FIXTURES / "changes"


def _catalog() -> Catalog:
    """Three studies (one updated later) and two trials, over three dates."""
    return make_catalog(
        [
            make_study("smith-2020", added="2026-01-10", updated="2026-01-10"),
            make_study(
                "jones-2021",
                condition="eating-disorders",
                diagnoses=("AN",),
                design="case-series",
                added="2026-01-10",
                updated="2026-03-01",
                summary="Updated summary.",
            ),
            make_study("brown-2022", added="2026-02-15", updated="2026-02-15"),
        ],
        trials=[
            make_trial("nct01234567", added="2026-02-15", updated="2026-02-15"),
            make_trial("nct07654321", added="2026-01-10", updated="2026-03-01"),
        ],
    )


VERSIONS = [
    Version("0.2.0", "2026-03-01", "Second version."),
    Version("0.1.0", "2026-01-10", "First version."),
]


def _section(page: str, date: str) -> str:
    match = re.search(rf"^### {date}\n(.*?)(?=^### |\Z)", page, re.MULTILINE | re.DOTALL)
    assert match, f"no section for {date}"
    return match.group(1)


# --- versions ------------------------------------------------------------------------------


def _versions_project(tmp_path: Path, case: str) -> Path:
    root = tmp_path / "project"
    (root / "data" / "schema").mkdir(parents=True)
    shutil.copy(
        ROOT / "data" / "schema" / "versions.schema.json",
        root / "data" / "schema" / "versions.schema.json",
    )
    shutil.copy(CASES / f"{case}.yaml", root / "data" / "versions.yaml")
    return root


def test_real_versions_load() -> None:
    versions, problems = load_versions(ROOT)
    assert problems == []
    assert versions and re.fullmatch(r"\d+\.\d+\.\d+", versions[0].version)
    assert current_version(versions) == versions[0]


def test_valid_versions_keep_file_order(tmp_path: Path) -> None:
    versions, problems = load_versions(_versions_project(tmp_path, "valid_case"))
    assert problems == []
    assert [v.version for v in versions] == ["0.2.0", "0.1.0"]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (
            "bad_date_case",
            "data/versions.yaml:3:11: error: versions[0].date: '2026-02-30' is not a real date "
            "(YYYY-MM-DD)",
        ),
        (
            "future_date_case",
            "data/versions.yaml:3:11: error: versions[0].date: date 2099-01-01 is in the future",
        ),
        (
            "oldest_first_case",
            "data/versions.yaml:6:11: error: versions[1].date: date 2026-03-01 is newer than the "
            "version above it; list newest first",
        ),
        (
            "duplicate_version_case",
            "data/versions.yaml:5:14: error: versions[1].version: version 0.1.0 is listed twice "
            "(also versions[0])",
        ),
        (
            "wrong_form_case",
            "data/versions.yaml:2:14: error: versions[0].version: expected a string, "
            "got number 1.0",
        ),
    ],
    ids=["bad_date", "future_date", "oldest_first", "duplicate_version", "wrong_form"],
)
def test_version_problems_have_path_and_line(tmp_path: Path, case: str, expected: str) -> None:
    versions, problems = load_versions(_versions_project(tmp_path, case))
    assert versions == []
    assert [p.format() for p in problems] == [expected]


def test_missing_versions_file_is_no_problem(tmp_path: Path) -> None:
    assert load_versions(tmp_path) == ([], [])


# --- What's new ----------------------------------------------------------------------------


def test_whats_new_lists_added_and_updated_by_date() -> None:
    page = whats_new_page(_catalog(), VERSIONS, feed_href="feed.xml")
    dates = re.findall(r"^### (\S+)$", page, re.MULTILINE)
    assert dates == ["2026-03-01", "2026-02-15", "2026-01-10"]

    newest = _section(page, "2026-03-01")
    assert "Studies added" not in newest
    assert "Studies updated:\n\n- [Jones 2021](studies/jones-2021.md) (Case series" in newest
    assert "Registered trials updated:" in newest and "NCT07654321" in newest

    middle = _section(page, "2026-02-15")
    assert "Studies added:\n\n- [Brown 2022](studies/brown-2022.md)" in middle
    assert "Studies updated" not in middle
    assert "Registered trials added:" in middle and "NCT01234567" in middle

    oldest = _section(page, "2026-01-10")
    added = re.findall(r"\[(\w+ \d{4})\]\(studies/", oldest)
    assert added == ["Jones 2021", "Smith 2020"]
    assert "Studies updated" not in oldest

    assert "The current version is **0.2.0**, released on 2026-03-01." in page
    assert page.index("| 0.2.0 |") < page.index("| 0.1.0 |")
    assert "[Atom feed](feed.xml)" in page


def test_whats_new_escapes_data() -> None:
    catalog = make_catalog(
        [make_study(summary="<script>alert(1)</script> [x](javascript:alert(1)) @key")]
    )
    evil = [Version("0.1.0", "2026-01-10", "<img src=x onerror=alert(1)>")]
    page = whats_new_page(catalog, evil)
    assert "<script>" not in page and "<img" not in page
    assert "](javascript" not in page and "@key" not in page
    assert "&lt;script&gt;" in page
    assert "Atom feed" not in page


def test_whats_new_without_versions_or_records() -> None:
    page = whats_new_page(make_catalog([]), [])
    assert "No version has been released yet." in page
    assert "No records yet." in page


def test_whats_new_from_a_validated_project(
    project_copy: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795262400")  # 2026-11-21
    root = project_copy(["mills-1998", "feder-2014"])
    # Pin both records' dates to the case: Feder 2014 added earlier, both updated 2026-11-21.
    for name in ("mills-1998", "feder-2014"):
        path = root / "data" / "studies" / f"{name}.yaml"
        text = re.sub(r'(?m)^updated: "[0-9-]+"$', 'updated: "2026-11-21"', path.read_text("utf-8"))
        path.write_text(text, "utf-8")
    record = root / "data" / "studies" / "feder-2014.yaml"
    text = record.read_text(encoding="utf-8")
    assert 'added: "2026-11-21"' in text
    record.write_text(text.replace('added: "2026-11-21"', 'added: "2026-10-01"'), "utf-8")
    bibliography, _ = load_bibliography(root / "references.bib", root)
    catalog, problems = load_catalog(root, bibliography)
    assert problems == [] and catalog is not None
    page = whats_new_page(catalog, VERSIONS)
    assert "[Feder 2014](studies/feder-2014.md)" in _section(page, "2026-10-01")
    newest = _section(page, "2026-11-21")
    assert "Studies updated:\n\n- [Feder 2014]" in newest
    assert "Studies added:\n\n- [Mills 1998]" in newest


# --- the Atom feed -------------------------------------------------------------------------


def test_feed_parses_and_lists_newest_first() -> None:
    xml = atom_feed(_catalog(), SITE, "Ketamine review", "2026-01-01")
    feed = ET.fromstring(xml)
    assert feed.tag == f"{A}feed"
    assert feed.findtext(f"{A}title") == "Ketamine review"
    assert feed.findtext(f"{A}updated") == "2026-03-01T00:00:00Z"
    assert feed.findtext(f"{A}id") == f"{SITE}feed.xml"
    assert feed.find(f"{A}author/{A}name") is not None
    self_link = feed.find(f"{A}link[@rel='self']")
    assert self_link is not None and self_link.get("href") == f"{SITE}feed.xml"
    entries = feed.findall(f"{A}entry")
    links = [e.find(f"{A}link").get("href") for e in entries]  # type: ignore[union-attr]
    assert links == [
        f"{SITE}studies/jones-2021/",
        f"{SITE}studies/brown-2022/",
        f"{SITE}studies/smith-2020/",
    ]
    jones = entries[0]
    assert jones.findtext(f"{A}title", "").startswith("Updated: Jones 2021 (Case series")
    assert jones.findtext(f"{A}updated") == "2026-03-01T00:00:00Z"
    assert jones.findtext(f"{A}published") == "2026-01-10T00:00:00Z"
    assert jones.findtext(f"{A}id") == "tag:example.org,2026-01-10:studies/jones-2021"
    assert jones.findtext(f"{A}summary") == "Updated summary."
    assert entries[1].findtext(f"{A}title", "").startswith("New: Brown 2022")
    for entry in entries:
        for name in ("id", "title", "updated", "summary"):
            assert entry.findtext(f"{A}{name}"), name


def test_feed_is_deterministic() -> None:
    first = atom_feed(_catalog(), SITE, "T", "2026-01-01")
    assert atom_feed(_catalog(), SITE, "T", "2026-01-01") == first


def test_feed_escapes_markup_in_titles_and_summaries() -> None:
    vocabularies = vocabularies_with("designs", "rct", label="<script>alert(1)</script> & co")
    catalog = make_catalog(
        [make_study(summary="a < b & </summary><entry>")], vocabularies=vocabularies
    )
    xml = atom_feed(catalog, SITE, "Review <b>", "2026-01-01")
    assert "<script>" not in xml and "</summary><entry>" not in xml
    feed = ET.fromstring(xml)
    entry = feed.find(f"{A}entry")
    assert entry is not None
    assert "<script>alert(1)</script> & co" in entry.findtext(f"{A}title", "")
    assert entry.findtext(f"{A}summary") == "a < b & </summary><entry>"
    assert feed.findtext(f"{A}title") == "Review <b>"


def test_feed_without_site_url_uses_relative_links_and_tag_ids() -> None:
    feed = ET.fromstring(atom_feed(_catalog(), "", "T", "2026-01-01"))
    assert feed.find(f"{A}link[@rel='self']") is None
    entry = feed.find(f"{A}entry")
    assert entry is not None
    assert entry.find(f"{A}link").get("href") == "studies/jones-2021/"  # type: ignore[union-attr]
    assert entry.findtext(f"{A}id", "").startswith(f"tag:{FALLBACK_AUTHORITY},2026-01-10:")
    assert feed.findtext(f"{A}id", "").startswith(f"tag:{FALLBACK_AUTHORITY},")


def test_empty_feed_uses_the_fallback_date() -> None:
    feed = ET.fromstring(atom_feed(make_catalog([]), SITE, "T", "2026-01-01"))
    assert feed.findtext(f"{A}updated") == "2026-01-01T00:00:00Z"
    assert feed.findall(f"{A}entry") == []


def test_feed_limit() -> None:
    feed = ET.fromstring(atom_feed(_catalog(), SITE, "T", "2026-01-01", limit=1))
    assert len(feed.findall(f"{A}entry")) == 1


# --- CITATION.cff --------------------------------------------------------------------------

#: Keys every CITATION.cff must have (Citation File Format 1.2.0), and the ``type`` values
#: and top-level keys the format allows.
CFF_REQUIRED = ("cff-version", "message", "title", "authors")
CFF_TYPES = ("software", "dataset")
CFF_KEYS = {
    "abstract",
    "authors",
    "cff-version",
    "commit",
    "contact",
    "date-released",
    "doi",
    "identifiers",
    "keywords",
    "license",
    "license-url",
    "message",
    "preferred-citation",
    "references",
    "repository",
    "repository-artifact",
    "repository-code",
    "title",
    "type",
    "url",
    "version",
}


def test_citation_cff_structure() -> None:
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert isinstance(cff, dict)
    for key in CFF_REQUIRED:
        assert cff.get(key), f"CITATION.cff: missing {key}"
    assert set(cff) <= CFF_KEYS, set(cff) - CFF_KEYS
    assert cff["cff-version"] == "1.2.0"
    assert cff["type"] in CFF_TYPES
    assert isinstance(cff["authors"], list)
    for author in cff["authors"]:
        # A person has family-names; an entity (a group of contributors) has a name.
        assert author.get("family-names") or author.get("name"), author
    assert cff["license"] == "CC-BY-4.0"
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", cff["repository-code"])
    assert isinstance(cff["keywords"], list) and all(isinstance(k, str) for k in cff["keywords"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(cff["date-released"]))


def test_citation_cff_matches_the_newest_version() -> None:
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    versions, problems = load_versions(ROOT)
    assert problems == []
    newest = current_version(versions)
    assert newest is not None
    assert (str(cff["version"]), str(cff["date-released"])) == (newest.version, newest.date)
