"""End-to-end: strict MkDocs builds of the real site and of small fixture projects.

Builds run ``mkdocs build --strict`` exactly as ``make site`` does: never with ``-q`` or
``-v``, which would weaken strict mode.
"""

from __future__ import annotations

import csv
import html
import io
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, snapshot

MKDOCS = [sys.executable, "-m", "mkdocs"]


def build(root: Path, site_dir: Path) -> subprocess.CompletedProcess[str]:
    """Run a strict build of the project at ``root`` into ``site_dir``."""
    return subprocess.run(
        [*MKDOCS, "build", "--strict", "--site-dir", str(site_dir)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )


def validate_project(root: Path) -> subprocess.CompletedProcess[str]:
    """Run ``scripts/validate.py --root root`` as an author would."""
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "validate.py"), "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def use_fixture_pages(root: Path, name: str) -> None:
    """Replace the copied pages and mkdocs.yml by those of ``tests/fixtures/sites/<name>``."""
    shutil.rmtree(root / "docs")
    shutil.copytree(FIXTURES / "sites" / name / "docs", root / "docs")
    shutil.copy(FIXTURES / "sites" / name / "mkdocs.yml", root / "mkdocs.yml")


@pytest.fixture(scope="module")
def real_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("real") / "site"
    result = build(ROOT, site)
    assert result.returncode == 0, result.stderr
    return site


def test_real_site_has_a_page_per_record(real_site: Path) -> None:
    ids = sorted(p.stem for p in (ROOT / "data" / "studies").glob("*.yaml"))
    assert ids
    for study_id in ids:
        assert (real_site / "studies" / study_id / "index.html").is_file(), study_id


def test_real_site_has_no_unresolved_citation_or_marker(real_site: Path) -> None:
    for page in real_site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        body = text[text.find("<article") :]
        assert "[@" not in body, page
        assert "[[count" not in body and "[[table" not in body, page


def test_home_page_counts_come_from_the_records(real_site: Path) -> None:
    n = len(list((ROOT / "data" / "studies").glob("*.yaml")))
    home = real_site.joinpath("index.html").read_text(encoding="utf-8")
    assert re.search(rf"\b{n}\s+studies\b", home), f"home page does not say '{n} studies'"


def test_study_page_shows_fields_status_and_edit_link(real_site: Path) -> None:
    page = html.unescape(
        (real_site / "studies" / "dechant-2020" / "index.html").read_text(encoding="utf-8")
    )
    assert "Verification: Checked against a review's description; parts unverified" in page
    assert "Bibliographic details (unverified)" in page
    assert "edit/main/data/studies/dechant-2020.yaml" in page
    assert "0.5 mg/kg" in page
    # Not a YAML dump: field names from the record do not appear as raw keys.
    assert "session_minutes:" not in page


def test_generated_pages_are_not_written_into_docs() -> None:
    assert not (ROOT / "docs" / "studies").exists()
    assert not (ROOT / "docs" / "references.md").exists()


def test_study_pages_stay_out_of_the_sidebar(real_site: Path) -> None:
    home = real_site.joinpath("index.html").read_text(encoding="utf-8")
    nav = home[home.find('<nav class="md-nav md-nav--primary"') :]
    nav = nav[: nav.find("</nav>")]
    assert "studies/feder-2014/" not in nav


def test_fixture_site_counts_change_when_a_record_is_removed(
    project_copy: Callable[..., Path], tmp_path: Path
) -> None:
    root = project_copy(["mills-1998", "feder-2014", "feder-2021"], site=True)
    use_fixture_pages(root, "counts")
    first = build(root, tmp_path / "a")
    assert first.returncode == 0, first.stderr
    before = 3
    (root / "data" / "studies" / "mills-1998.yaml").unlink()
    second = build(root, tmp_path / "b")
    assert second.returncode == 0, second.stderr
    home_a = (tmp_path / "a" / "index.html").read_text(encoding="utf-8")
    home_b = (tmp_path / "b" / "index.html").read_text(encoding="utf-8")
    assert re.search(rf"\b{before}\s+studies\b", home_a)
    assert re.search(rf"\b{before - 1}\s+studies\b", home_b)
    # Eating disorders: 1 study before, 0 after; PTSD stays at 2.
    assert "<td>Eating disorders</td>\n<td>1</td>" in home_a
    assert "<td>Eating disorders</td>\n<td>0</td>" in home_b
    assert re.search(r"PTSD(</abbr>)?</td>\n<td>2</td>", home_b)
    assert not (tmp_path / "b" / "studies" / "mills-1998").exists()


def test_strict_build_fails_with_the_validator_message(
    project_copy: Callable[..., Path], tmp_path: Path
) -> None:
    root = project_copy(site=True)
    record = root / "data" / "studies" / "feder-2014.yaml"
    text = record.read_text(encoding="utf-8")
    record.write_text(text.replace("design: randomized-crossover", "design: crossover"), "utf-8")
    before = snapshot(root)
    result = build(root, tmp_path / "site")
    assert result.returncode != 0
    validate = validate_project(root)
    assert validate.returncode == 1
    line = validate.stdout.strip().splitlines()[0]
    assert line.startswith("data/studies/feder-2014.yaml:")
    assert "design: 'crossover' is not in vocabularies/designs.yaml" in line
    assert line in result.stderr
    assert "Traceback" not in result.stderr + validate.stderr
    assert snapshot(root) == before


def test_hand_written_page_colliding_with_generated_page_fails(
    project_copy: Callable[..., Path], tmp_path: Path
) -> None:
    root = project_copy(site=True)
    (root / "docs" / "studies").mkdir()
    (root / "docs" / "studies" / "feder-2014.md").write_text("# Mine\n", encoding="utf-8")
    result = build(root, tmp_path / "site")
    assert result.returncode != 0
    assert (
        "docs/studies/feder-2014.md:1: error: this page collides with the generated page "
        "'studies/feder-2014.md'" in result.stderr
    )
    validate = validate_project(root)
    assert validate.returncode == 1
    assert "docs/studies/feder-2014.md:1: error: this page collides" in validate.stdout


def test_study_data_downloads_are_built_and_linked(real_site: Path) -> None:
    for page in ("studies", "explorer"):
        html = (real_site / page / "index.html").read_text("utf-8")
        for name in ("studies.csv", "outcomes.csv", "studies.json", "data-dictionary.csv"):
            assert f'href="../downloads/{name}"' in html, (page, name)
            assert (real_site / "downloads" / name).stat().st_size > 0
    ids = sorted(p.stem for p in (ROOT / "data" / "studies").glob("*.yaml"))
    text = (real_site / "downloads" / "studies.csv").read_text("utf-8")
    assert sorted(row["id"] for row in csv.DictReader(io.StringIO(text, newline=""))) == ids


def test_front_matter_description_reaches_the_head_inert(
    project_copy: Callable[..., Path], tmp_path: Path
) -> None:
    root = project_copy(site=True)
    page = root / "docs" / "about.md"
    _, body = page.read_text(encoding="utf-8").split("\n---\n", 1)
    payload = '"><script>alert(1)</script><meta http-equiv="refresh" content="0">'
    page.write_text(f"---\ndescription: '{payload}'\n---\n{body}", encoding="utf-8")
    result = build(root, tmp_path / "site")
    assert result.returncode == 0, result.stderr
    head = (tmp_path / "site" / "about" / "index.html").read_text(encoding="utf-8")
    head = head[: head.index("</head>")]
    assert "<script>alert" not in head and 'http-equiv="refresh"' not in head
    [content] = re.findall(r'<meta name="description" content="([^"]*)">', head)
    assert html.unescape(content) == payload


def test_description_that_is_not_text_fails_the_build(
    project_copy: Callable[..., Path], tmp_path: Path
) -> None:
    root = project_copy(site=True)
    page = root / "docs" / "about.md"
    _, body = page.read_text(encoding="utf-8").split("\n---\n", 1)
    page.write_text(f"---\ndescription: [a, b]\n---\n{body}", encoding="utf-8")
    result = build(root, tmp_path / "site")
    assert result.returncode != 0
    assert "docs/about.md:1: error: description: must be one line of text" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_page_says_which_version_it_is_and_how_to_cite_it(real_site: Path) -> None:
    from livingreview.releases import read_citation

    citation = read_citation(ROOT)
    pages = sorted(real_site.rglob("index.html"))
    assert len(pages) > 20
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert f"You are reading version <strong>{citation.version}</strong>" in text, page
        assert f"released on {citation.date_released}" in text, page
        assert f"Cite this version: {html.escape(citation.text())}" in text, page


def test_whats_new_and_methods_show_versions_and_living_mode(real_site: Path) -> None:
    whats_new = (real_site / "whats-new" / "index.html").read_text(encoding="utf-8")
    assert 'id="flow-diagram-by-version"' in whats_new
    assert 'href="../feed-ptsd.xml"' in whats_new
    assert 'href="../feed-eating-disorders.xml"' in whats_new
    for name in ("feed.xml", "feed-ptsd.xml", "feed-eating-disorders.xml"):
        assert (real_site / name).is_file(), name
    methods = (real_site / "methods" / "index.html").read_text(encoding="utf-8")
    assert 'id="living-mode"' in methods and "Planned search schedule" in methods
    home = (real_site / "index.html").read_text(encoding="utf-8")
    assert re.search(r"The last search for new reports was on \d{4}-\d{2}-\d{2}", home)


# --------------------------------------------------------------------------------------------
# mkdocs serve --dirty: only the pages a change affects are rendered again, and they are right
# --------------------------------------------------------------------------------------------

SERVE_URL = "http://127.0.0.1:8000/"


def serve_build(root: Path, site: Path, *, dirty: bool, first: bool = False) -> None:
    """One rebuild exactly as ``mkdocs serve [--dirty]`` runs it, in this process.

    ``serve`` fires ``on_startup`` once, before the first build, and loads the configuration
    for every rebuild (MkDocs 1.6 imports the hook module once per process); the library, and
    the record of rendered pages in it, stays imported.
    """
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    config = load_config(config_file=str(root / "mkdocs.yml"), site_dir=str(site))
    if first:
        config.plugins.on_startup(command="serve", dirty=dirty)
    config.site_url = SERVE_URL
    try:
        mkdocs_build(config, serve_url=SERVE_URL, dirty=dirty)
    finally:
        config.plugins.on_shutdown()


def page_times(site: Path) -> dict[str, int]:
    return {str(p.relative_to(site)): p.stat().st_mtime_ns for p in site.rglob("*.html")}


#: Material keeps the search index of earlier dirty builds and replaces the entries of one
#: page; it is compared on its own below.
SEARCH_INDEX = "search/search_index.json"


@pytest.mark.parametrize("change", ["record note", "reference title"])
def test_dirty_serve_rebuild_renders_only_affected_pages_and_matches_a_full_build(
    project_copy: Callable[..., Path], tmp_path: Path, change: str
) -> None:
    root = project_copy(site=True)
    dirty_site, full_site = tmp_path / "dirty", tmp_path / "full"
    try:
        serve_build(root, dirty_site, dirty=True, first=True)  # renders everything
        # The first edit after a release changes every page: the footer says "unreleased
        # changes". Make one, so that the edit below shows what a later save renders.
        other = root / "data" / "studies" / "feder-2014.yaml"
        other.write_text(other.read_text(encoding="utf-8") + "\n", "utf-8")
        serve_build(root, dirty_site, dirty=True)
        before = page_times(dirty_site)
        if change == "record note":
            record = root / "data" / "studies" / "albott-2018.yaml"
            text = record.read_text(encoding="utf-8")
            marker = "  - The abstract does not say"
            record.write_text(text.replace(marker, "  - Dirty rebuild check.\n" + marker), "utf-8")
        else:
            bib = root / "references.bib"
            old = "Efficacy, safety, and durability of repeated ketamine infusions"
            text = bib.read_text(encoding="utf-8")
            bib.write_text(text.replace(old, old + " (dirty rebuild check)"), "utf-8")
        serve_build(root, dirty_site, dirty=True)
        serve_build(root, full_site, dirty=False, first=True)
    finally:
        from livingreview.site import RENDERED

        RENDERED.dirty = False
        RENDERED.forget()
    after = page_times(dirty_site)
    # 404.html is a theme template, which MkDocs renders in every build.
    rendered = sorted(n for n in after if after[n] != before.get(n) and n != "404.html")
    study = "studies/albott-2018/index.html"
    assert study in rendered
    if change == "record note":
        # The note shows on the record's page only (the study index and tables do not show it).
        assert rendered == [study]
        assert "Dirty rebuild check." in (dirty_site / study).read_text(encoding="utf-8")
    else:
        # Every page that cites albott2018 shows the title (list and tooltips), and only those.
        citing = sorted(
            name
            for name in after
            if "dirty rebuild check" in (full_site / name).read_text(encoding="utf-8")
        )
        assert rendered == citing and "methods/index.html" in citing and len(citing) < 10
    # Whatever was not rendered again is still right: the dirty site equals a full build.
    dirty_tree, full_tree = snapshot(dirty_site), snapshot(full_site)
    dirty_tree.pop(SEARCH_INDEX), full_tree.pop(SEARCH_INDEX)
    assert dirty_tree == full_tree


def hook_build_state() -> object:
    """The ``SiteBuild`` of the build that ran last (the hook module's ``_build``)."""
    import sys

    for module in list(sys.modules.values()):
        if hasattr(module, "_freeze_model") and getattr(module, "_build", None) is not None:
            return module._build
    raise AssertionError("the hook module is not imported")


def test_each_build_freezes_its_model_and_a_rebuild_releases_the_last_one(
    project_copy: Callable[..., Path], tmp_path: Path
) -> None:
    """The hooks freeze the loaded model out of later garbage collections (``gc.freeze``).

    A process that builds again (``mkdocs serve``) must not keep earlier models alive: after
    a rebuild and a collection, the first build's ``SiteBuild`` is gone (it was not, while the
    citation formatter's memo kept an exception whose traceback held that build's frames).
    Collection is never left off, also after a build that stopped on a bad record.
    """
    import gc
    import weakref

    from mkdocs.exceptions import Abort

    root = project_copy(site=True)
    try:
        serve_build(root, tmp_path / "site", dirty=False, first=True)
        assert gc.isenabled() and gc.get_freeze_count() > 0
        first = weakref.ref(hook_build_state())
        record = root / "data" / "studies" / "feder-2014.yaml"
        good = record.read_text(encoding="utf-8")
        record.write_text(good + "not_a_field: 1\n", "utf-8")
        with pytest.raises(Abort):
            serve_build(root, tmp_path / "site", dirty=False)
        assert gc.isenabled()
        record.write_text(good, "utf-8")
        serve_build(root, tmp_path / "site", dirty=False)
        gc.collect()
        assert first() is None  # the first build's model was released
        assert gc.isenabled() and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
