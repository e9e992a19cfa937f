"""Unit tests of one site build driven without MkDocs, event by event, on a scratch project.

:class:`SiteBuild` is what the MkDocs adapter calls; here the tests pass the same plain
strings the adapter would (source paths, URLs, Markdown or file paths) and read the results.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import snapshot
from livingreview.errors import ProblemsFound
from livingreview.project import split_front_matter
from livingreview.site import REFERENCES_SRC, GeneratedPage, SiteBuild

STUDIES = ["feder-2014", "mills-1998", "du-2022"]
OPTIONS = {"repo_url": "https://github.com/o/r/", "branch": "dev"}

Source = tuple[str, str, str | Path, bool]


def new_build(root: Path, **options: str) -> SiteBuild:
    """Return a loaded build of the project at ``root`` (pages in ``root/docs``)."""
    build = SiteBuild(root=root, docs_dir=root / "docs", options=dict(options))
    build.load()
    return build


def write_pages(root: Path, pages: dict[str, str]) -> None:
    """Write hand-written pages into ``root/docs``."""
    for src, text in pages.items():
        path = root / "docs" / src
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def url_of(src: str) -> str:
    """Return the directory URL MkDocs gives a source path."""
    if src == "index.md":
        return ""
    return src.removesuffix("index.md").removesuffix(".md").rstrip("/") + "/"


def sources(build: SiteBuild, order: list[str], generated: bool = True) -> list[Source]:
    """Return (src, url, path, False) for hand-written pages, then the generated pages."""
    out: list[Source] = [(src, url_of(src), build.docs_dir / src, False) for src in order]
    if generated:
        out += [(p.src, url_of(p.src), p.content, True) for p in build.generated_pages()]
    return out


@pytest.fixture
def root(project_copy: Callable[..., Path]) -> Path:
    """Return a scratch project with three studies and three hand-written pages."""
    root = project_copy(STUDIES)
    write_pages(
        root,
        {
            "index.md": "# Home\n\n[[count studies]] studies; see @feder2014 and [@mills1998].\n",
            "ptsd.md": "---\ntitle: PTSD\n---\n# PTSD\n\nPooled [@du2022; @feder2014].\n",
            "about.md": "# About\n\nNo citations, but AN and PTSD are abbreviations.\n",
        },
    )
    return root


# --- load and generated pages --------------------------------------------------------------


def test_load_validates_every_input(project_copy: Callable[..., Path]) -> None:
    root = project_copy(["feder-2014"])
    record = root / "data" / "studies" / "feder-2014.yaml"
    record.write_text(record.read_text("utf-8").replace("condition: ptsd", "condition: pts"))
    build = SiteBuild(root=root, docs_dir=root / "docs")
    with pytest.raises(ProblemsFound) as caught:
        build.load()
    assert "data/studies/feder-2014.yaml:3:12: error: condition: 'pts'" in caught.value.report()


def test_generated_pages_are_one_per_study_and_four_fixed_pages(
    project_copy: Callable[..., Path],
) -> None:
    root = project_copy()
    build = new_build(root)
    studies = sorted(p.stem for p in (root / "data" / "studies").glob("*.yaml"))
    generated = build.generated_pages()
    assert [(p.src, p.in_nav, p.record) for p in generated[:4]] == [
        ("studies/index.md", True, ""),
        ("references.md", True, ""),
        ("explorer.md", True, ""),
        ("whats-new.md", True, ""),
    ]
    study_pages = generated[4:]
    assert sorted(p.src for p in study_pages) == [f"studies/{s}.md" for s in studies]
    assert all(not p.in_nav for p in study_pages)
    assert all(p.record == f"data/{p.src.removesuffix('.md')}.yaml" for p in study_pages)
    assert generated[0].content.startswith("# All study records\n")
    assert generated[1].content == "# References\n"


def test_study_page_links_to_its_record_for_editing(root: Path) -> None:
    build = new_build(root, **OPTIONS)
    page = next(p for p in build.generated_pages() if p.src == "studies/feder-2014.md")
    assert isinstance(page, GeneratedPage)
    assert page.content.startswith("# Feder 2014: Randomized crossover")
    assert (
        "[`data/studies/feder-2014.yaml`]"
        "(https://github.com/o/r/edit/dev/data/studies/feder-2014.yaml)" in page.content
    )
    assert build.record_for("studies/feder-2014.md") == "data/studies/feder-2014.yaml"
    assert build.record_for("index.md") is None


def test_study_page_without_repo_url_names_the_record_only(root: Path) -> None:
    build = new_build(root)
    page = next(p for p in build.generated_pages() if p.src == "studies/feder-2014.md")
    assert "`data/studies/feder-2014.yaml`." in page.content
    assert "/edit/" not in page.content


# --- prepare: numbering in reading order ---------------------------------------------------


def test_citations_are_numbered_in_the_order_pages_are_given(root: Path) -> None:
    first = new_build(root)
    assert first.prepare(sources(first, ["index.md", "ptsd.md", "about.md"], False)) == []
    assert first.citer is not None
    assert first.citer.numbers == {"feder2014": 1, "mills1998": 2, "du2022": 3}

    second = new_build(root)
    assert second.prepare(sources(second, ["ptsd.md", "about.md", "index.md"], False)) == []
    assert second.citer is not None
    assert second.citer.numbers == {"du2022": 1, "feder2014": 2, "mills1998": 3}


def test_generated_pages_are_numbered_where_they_stand(root: Path) -> None:
    build = new_build(root)
    given = [s for s in sources(build, ["about.md"]) if s[0] != "studies/index.md"]
    assert build.prepare(given) == []
    assert build.citer is not None
    # explorer and what's-new pages cite nothing; study pages follow in year order, each
    # citing its primary report first.
    numbers = build.citer.numbers
    assert numbers["mills1998"] == 1
    assert numbers["mills1998"] < numbers["feder2014"] < numbers["du2022"]


def test_references_page_given_as_a_source_is_not_read_for_citations(root: Path) -> None:
    build = new_build(root)
    assert build.prepare([(REFERENCES_SRC, "references/", "[@nokey2000]", True)]) == []


# --- prepare: problems ---------------------------------------------------------------------


def test_unknown_key_is_reported_at_its_place_in_the_file(root: Path) -> None:
    write_pages(root, {"ptsd.md": "---\ntitle: PTSD\n---\n# PTSD\n\nSee [@fedr2014].\n"})
    build = new_build(root)
    problems = build.prepare(sources(build, ["ptsd.md"]))
    assert [p.format() for p in problems] == [
        "docs/ptsd.md:6:5: error: citation: unknown citation key 'fedr2014' (not in "
        "references.bib); did you mean 'feder2014'?"
    ]


def test_marker_problems_name_the_page_and_position(root: Path) -> None:
    write_pages(root, {"ptsd.md": "# PTSD\n\nN = [[count studies condition=ptsdx]].\n"})
    build = new_build(root)
    problems = build.prepare(sources(build, ["ptsd.md"], False))
    assert [(p.path, p.line, p.column) for p in problems] == [("docs/ptsd.md", 3, 5)]
    assert "allowed: eating-disorders, ptsd" in problems[0].message


def test_non_utf8_page_is_a_problem_not_a_crash(root: Path) -> None:
    (root / "docs" / "notes.md").write_bytes(b"# Notes\n\nM\xfcller [@feder2014]\n")
    build = new_build(root)
    problems = build.prepare(sources(build, ["notes.md", "index.md"], False))
    assert [p.format() for p in problems] == [
        "docs/notes.md:3:2: error: file is not valid UTF-8 (byte 0xfc); save it as UTF-8"
    ]
    assert build.citer is not None
    assert list(build.citer.numbers) == ["feder2014", "mills1998"]


# --- page_markdown -------------------------------------------------------------------------


@pytest.fixture
def prepared(root: Path) -> SiteBuild:
    """Return a build of ``root`` prepared in the order index, ptsd, about, generated pages."""
    build = new_build(root, **OPTIONS)
    assert build.prepare(sources(build, ["index.md", "ptsd.md", "about.md"])) == []
    return build


def given(build: SiteBuild, src: str) -> str:
    """Return the Markdown MkDocs passes to on_page_markdown: the page without front matter."""
    generated = {p.src: p.content for p in build.generated_pages()}
    text = generated.get(src) or (build.docs_dir / src).read_text("utf-8")
    return split_front_matter(text)[0]


def test_page_markdown_expands_markers_and_links_citations(prepared: SiteBuild) -> None:
    text = prepared.page_markdown("index.md", "", given(prepared, "index.md"))
    assert text.startswith('# Home\n\n3 studies; see <span class="citation">Feder et al. [<a ')
    assert '<a class="citation-ref" href="references/#ref-feder2014" title="' in text
    assert 'href="references/#ref-mills1998"' in text
    assert ">2</a>]</span>" in text
    assert "[[" not in text and "[@" not in text


def test_citation_links_are_relative_to_the_page_depth(prepared: SiteBuild) -> None:
    ptsd = prepared.page_markdown("ptsd.md", "ptsd/", given(prepared, "ptsd.md"))
    assert 'href="../references/#ref-du2022"' in ptsd
    study = prepared.page_markdown(
        "studies/feder-2014.md", "studies/feder-2014/", given(prepared, "studies/feder-2014.md")
    )
    assert 'href="../../references/#ref-feder2014"' in study


def test_front_matter_is_not_part_of_the_page(prepared: SiteBuild) -> None:
    text = prepared.page_markdown("ptsd.md", "ptsd/", given(prepared, "ptsd.md"))
    assert text.startswith("# PTSD\n")
    assert "title: PTSD" not in text


def test_page_gets_its_own_reference_list_in_site_numbers(prepared: SiteBuild) -> None:
    text = prepared.page_markdown("ptsd.md", "ptsd/", given(prepared, "ptsd.md"))
    refs = text[text.index("\n## References\n") :]
    assert refs.index('<li value="1">') < refs.index('<li value="3">')  # feder 1, du 3
    assert '<li value="2">' not in refs  # mills1998 is not cited on this page
    assert 'class="reference-backlink" href="../references/#ref-du2022"' in refs


def test_page_without_citations_has_no_reference_list(prepared: SiteBuild) -> None:
    text = prepared.page_markdown("about.md", "about/", given(prepared, "about.md"))
    assert "## References" not in text


def test_glossary_abbreviations_are_appended_once(prepared: SiteBuild) -> None:
    assert prepared.project is not None
    glossary = prepared.project.catalog.glossary
    assert ("AN", "Anorexia nervosa") in glossary
    for src, url in (("about.md", "about/"), ("index.md", "")):
        text = prepared.page_markdown(src, url, given(prepared, src))
        assert text.count("\n*[AN]: Anorexia nervosa\n") == 1
        tail = text[text.index("\n\n*[") + 2 :]
        assert tail.splitlines() == [f"*[{a}]: {d.replace(']', ')')}" for a, d in glossary]


def test_references_page_lists_every_cited_work_in_number_order(prepared: SiteBuild) -> None:
    text = prepared.page_markdown(REFERENCES_SRC, "references/", "# References\n")
    ids = [
        text.index(f'<li id="ref-{key}" value="{n}">')
        for n, key in enumerate(["feder2014", "mills1998", "du2022"], start=1)
    ]
    assert ids == sorted(ids)
    assert '<a href="../downloads/references.bib" download>BibTeX</a>' in text


# --- collision, edit URL, feed ----------------------------------------------------------------


def test_collision_names_the_hand_written_page(root: Path) -> None:
    build = new_build(root)
    existing = root / "docs" / "studies" / "index.md"
    assert build.collision("studies/index.md", str(existing)).format() == (
        "docs/studies/index.md:1: error: this page collides with the generated page "
        "'studies/index.md'; rename or move it"
    )
    assert build.collision("explorer.md", None).format().startswith("docs/explorer.md:1: error:")


@pytest.mark.parametrize(
    ("repo_url", "edit_uri", "expected"),
    [
        (
            "https://github.com/o/r",
            "edit/main/docs/",
            "https://github.com/o/r/edit/main/data/x.yaml",
        ),
        (
            "https://github.com/o/r/",
            "edit/main/docs",
            "https://github.com/o/r/edit/main/data/x.yaml",
        ),
        ("https://github.com/o/r", "blob/dev/", "https://github.com/o/r/blob/dev/data/x.yaml"),
        (
            "https://gitlab.com/o/r",
            "-/edit/main/docs/",
            "https://gitlab.com/o/r/-/edit/main/data/x.yaml",
        ),
        ("https://github.com/o/r", "", "https://github.com/o/r/data/x.yaml"),
    ],
)
def test_edit_url_points_at_the_record(
    tmp_path: Path, repo_url: str, edit_uri: str, expected: str
) -> None:
    build = SiteBuild(root=tmp_path, docs_dir=tmp_path / "docs")
    assert build.edit_url(repo_url, edit_uri, "data/x.yaml") == expected


def test_edit_url_without_edit_uri_has_no_double_slash(tmp_path: Path) -> None:
    build = SiteBuild(root=tmp_path, docs_dir=tmp_path / "docs")
    url = build.edit_url("https://github.com/o/r/", "", "data/x.yaml")
    assert url == "https://github.com/o/r/data/x.yaml"


@pytest.mark.parametrize("docs", ["site-docs", "pages"])
def test_edit_url_with_another_docs_folder(tmp_path: Path, docs: str) -> None:
    build = SiteBuild(root=tmp_path, docs_dir=tmp_path / docs)
    url = build.edit_url("https://github.com/o/r", f"edit/main/{docs}/", "data/x.yaml")
    assert url == "https://github.com/o/r/edit/main/data/x.yaml"


def test_feed_is_an_atom_document(root: Path) -> None:
    build = new_build(root)
    feed = ET.fromstring(build.feed("https://example.org/review/", "Review"))
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    ids = [e.findtext("{http://www.w3.org/2005/Atom}id", "") for e in feed]
    ids = [i for i in ids if i]
    # One entry per released version (data/versions.yaml), then one per study.
    versions = [v.version for v in build.project.versions]  # type: ignore[union-attr]
    assert [i.rsplit("/", 1)[1] for i in ids if ":versions/" in i] == versions
    assert len([i for i in ids if ":studies/" in i]) == len(STUDIES)


def test_front_matter_of_a_crlf_page_is_not_part_of_the_page(root: Path) -> None:
    (root / "docs" / "ptsd.md").write_bytes(b"---\r\ntitle: PTSD\r\n---\r\n# PTSD\r\n\r\nText.\r\n")
    build = new_build(root)
    assert build.prepare(sources(build, ["ptsd.md"], False)) == []
    assert "title: PTSD" not in build.page_markdown("ptsd.md", "ptsd/", "# PTSD\n\nText.\n")


# --- downloads -----------------------------------------------------------------------------


def test_downloads_hold_the_cited_entries_in_number_order(
    prepared: SiteBuild, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    prepared.write_downloads(site)
    folder = site / "downloads"
    assert sorted(p.name for p in folder.iterdir()) == [
        "references.bib",
        "references.json",
        "references.ris",
    ]
    assert prepared.citer is not None
    keys = list(prepared.citer.numbers)
    assert keys[:3] == ["feder2014", "mills1998", "du2022"]  # the hand-written pages first
    assert [e["id"] for e in json.loads((folder / "references.json").read_text("utf-8"))] == keys
    bib = (folder / "references.bib").read_text("utf-8")
    assert bib.index("{feder2014,") < bib.index("{mills1998,") < bib.index("{du2022,")
    ris = (folder / "references.ris").read_text("utf-8")
    assert [line for line in ris.splitlines() if line.startswith("ID  - ")] == [
        f"ID  - {key}" for key in keys
    ]


def test_downloads_leave_out_works_nobody_cites(root: Path, tmp_path: Path) -> None:
    build = new_build(root)
    assert build.prepare(sources(build, ["about.md", "ptsd.md"], False)) == []
    build.write_downloads(tmp_path / "site")
    bib = (tmp_path / "site" / "downloads" / "references.bib").read_text("utf-8")
    assert "{du2022," in bib and "{feder2014," in bib
    assert "{mills1998," not in bib


def test_downloads_are_deterministic(root: Path, tmp_path: Path) -> None:
    written = []
    for name in ("one", "two"):
        build = new_build(root, **OPTIONS)
        assert build.prepare(sources(build, ["index.md", "ptsd.md", "about.md"])) == []
        build.write_downloads(tmp_path / name)
        written.append(snapshot(tmp_path / name))
    assert written[0] == written[1]
    assert len(written[0]) == 3


def test_page_markdown_keeps_what_other_plugins_changed(prepared: SiteBuild) -> None:
    original = given(prepared, "index.md")
    changed = original + "\nAdded by a plugin: [[count studies]], [@feder2014].\n"
    before = prepared.page_markdown("index.md", "", original)
    text = prepared.page_markdown("index.md", "", changed)
    assert "Added by a plugin: 3, " in text
    link = 'class="citation-ref" href="references/#ref-feder2014"'
    assert text.count(link) == before.count(link) + 1
    assert "[[" not in text and "[@" not in text


# --- meta descriptions ---------------------------------------------------------------------


def test_description_from_front_matter_is_escaped(root: Path) -> None:
    build = new_build(root)
    text, problem = build.description("ptsd.md", 'PTSD "trials" <b>here</b>')
    assert problem is None
    assert text == "PTSD &quot;trials&quot; &lt;b&gt;here&lt;/b&gt;"


def test_study_page_description_comes_from_its_record(root: Path) -> None:
    build = new_build(root)
    build.generated_pages()
    text, problem = build.description("studies/feder-2014.md", None)
    assert problem is None and text is not None
    assert text.startswith("Feder 2014, randomized crossover trial: ")


def test_description_that_is_not_text_is_a_problem_with_the_page(root: Path) -> None:
    build = new_build(root)
    text, problem = build.description("ptsd.md", ["a", "list"])
    assert text is None and problem is not None
    assert problem.format() == (
        "docs/ptsd.md:1: error: description: must be one line of text "
        "(quote it in the front matter)"
    )


def test_page_without_description_keeps_the_site_default(root: Path) -> None:
    assert new_build(root).description("about.md", None) == (None, None)
