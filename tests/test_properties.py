"""Property-based tests: hostile records, vocabularies and BibTeX never crash or inject.

Hypothesis generates inputs from the real data and the schemas' field paths, with hostile
strings (control characters, newlines, ANSI escapes, bidi overrides, YAML 1.1 look-alikes,
the payloads of ``tests/test_injection.py``) and hostile numbers (infinities, NaN, 1e308,
1e-12, thousands of digits), and checks the invariants of the pipeline:

* the validator returns problems or a model and never raises;
* every problem prints as one line that no GitHub Actions runner reads as a command;
* a model always renders (study pages, every figure, the feed), and no output holds a live
  payload; a page title handed to the theme is inert plain text.

Each property edits one file of one copy of the project per example (the loader's caches key
on size and mtime, so the other files are parsed once). The budget is small on purpose:
``make test`` runs these in well under a minute; raise ``PROPERTY_EXAMPLES`` to search longer.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import markdown
import pytest
import yaml
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from livingreview import bibliography, figures, load
from livingreview.bibliography import Formatter, parse_bibtex_bytes
from livingreview.changes import atom_feed
from livingreview.errors import Problem, ProblemsFound
from livingreview.pages import study_page
from livingreview.project import Project, load_project
from livingreview.render import plain_title
from test_injection import PAYLOADS, scan_for_payloads

#: Examples per property (override with the environment for a longer search).
PROPERTY_EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "20"))

SETTINGS = settings(
    max_examples=PROPERTY_EXAMPLES,
    deadline=None,  # a cold load of the project takes a while on a shared machine
    database=None,  # nothing is written into the repository
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: make test is reproducible
)

#: Strings that broke, or might break, something: forged workflow commands, escapes, bidi,
#: YAML 1.1 look-alikes, markup and blank text.
HOSTILE_STRINGS = (
    *PAYLOADS,
    "x\n::error file=README.md::forged",
    "\r\n::warning::forged",
    "\x1b[31mred\x1b[0m",
    "\u202eevil\u202c",
    "\u2066isolate\u2069",
    "\u2028line\u2029paragraph",
    "\x7f\x85\x9b",
    "feder-2014\n",
    "   ",
    "\t",
    "",
    "no",
    "012",
    "10:00",
    "~",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "</title><script>alert(1)</script>",
    "x</title><img src=x onerror=alert(1)>",
    "{{ 7*7 }}",
    "{% raw %}",
    "\\",
    "%0A%3A%3Aerror",
)
#: Numbers written as YAML plain scalars: infinities, NaN, huge, tiny and very long.
HOSTILE_NUMBERS = (
    "1e400",
    "-1e400",
    "1e308",
    "-1e308",
    "1e-12",
    ".nan",
    ".inf",
    "-.inf",
    "9" * 5000,
    "0",
    "-1",
    "0.0",
    "1e6",
    "123456789012345678901",
)

hostile_text = st.one_of(
    st.sampled_from(HOSTILE_STRINGS),
    st.text(max_size=40),
    st.lists(st.sampled_from(HOSTILE_STRINGS), min_size=1, max_size=4).map(" ".join),
)
#: A YAML plain scalar spelled as a number (or close to one).
hostile_number = st.one_of(
    st.sampled_from(HOSTILE_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)
#: Any JSON-like value, as a generator from the schema's types would make.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | hostile_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
    max_leaves=8,
)

_RAW = "@@raw@@"

_MARKDOWN_EXTENSIONS = ["tables", "attr_list", "md_in_html", "abbr", "def_list", "footnotes"]


# --- the project copy -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One copy of the project's inputs for the whole module; each example edits one file."""
    base = tmp_path_factory.mktemp("properties") / "project"
    (base / "data").mkdir(parents=True)
    for name in ("schema", "vocabularies", "trials", "studies"):
        shutil.copytree(ROOT / "data" / name, base / "data" / name)
    for name in ("glossary.yaml", "versions.yaml", "prisma.yaml"):
        shutil.copy(ROOT / "data" / name, base / "data" / name)
    shutil.copy(ROOT / "references.bib", base / "references.bib")
    yield base
    load.clear_cache()
    bibliography.clear_cache()


def _leaves(value: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every path to a scalar, list or mapping in a loaded document."""
    out = [path] if path else []
    if isinstance(value, dict):
        for key, child in value.items():
            out += _leaves(child, (*path, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out += _leaves(child, (*path, i))
    return out


def _get(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _set(data: Any, path: tuple[str | int, ...], value: Any) -> Any:
    """Return a copy of ``data`` with the value at ``path`` replaced."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        return {**data, head: _set(data[head], rest, value)} if head in data else data
    copy = list(data)
    copy[head] = _set(copy[head], rest, value)  # type: ignore[index]
    return copy


def _dump(data: Any, raw: str | None) -> str:
    """Dump ``data`` as YAML; the placeholder :data:`_RAW` becomes ``raw``, unquoted."""
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10**6)
    if raw is not None:
        text = text.replace(f"'{_RAW}'", raw).replace(_RAW, raw)
    return text


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    # The loader caches by size and mtime_ns; two writes in one tick must not look unchanged.
    stamp = path.stat().st_mtime_ns + 1_000_000
    os.utime(path, ns=(stamp, stamp))


RECORD = ROOT / "data" / "studies" / "du-2022.yaml"
RECORD_DATA = yaml.safe_load(RECORD.read_text(encoding="utf-8"))
RECORD_PATHS = _leaves(RECORD_DATA)
#: Every text field of the record (ids and terms included: they are text too).
TEXT_PATHS = [p for p in RECORD_PATHS if isinstance(_get(RECORD_DATA, p), str)]
#: Every effect-size field of the record (a risk ratio and two mean differences).
EFFECT_FIELDS = [p for p in RECORD_PATHS if p[-1] in ("estimate", "ci_lower", "ci_upper")]

DESIGNS = ROOT / "data" / "vocabularies" / "designs.yaml"
DESIGNS_DATA = yaml.safe_load(DESIGNS.read_text(encoding="utf-8"))
DESIGN_TEXT_PATHS = [
    p for p in _leaves(DESIGNS_DATA) if p[-1] in ("label", "abbreviation", "description")
]


# --- the invariants ---------------------------------------------------------------------------

_NOT_ON_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def assert_one_line_each(problems: list[Problem]) -> None:
    """Every problem prints as one line, with nothing a terminal or runner would act on."""
    assert problems
    for problem in problems:
        for line in (problem.format(), problem.github_annotation()):
            assert not _NOT_ON_ONE_LINE.search(line), repr(line)
        assert not problem.format().startswith("::"), problem.format()


def load_or_problems(root: Path) -> Project | list[Problem]:
    """Run the validator; it must return a project or problems, never raise anything else."""
    try:
        return load_project(root)
    except ProblemsFound as exc:
        return exc.problems


def render_everything(project: Project) -> list[str]:
    """Render what the build makes from a model: study pages, every figure, the feed.

    Returns:
        Every live payload found in the HTML (study pages through Python-Markdown, as MkDocs
        renders them) and in the figures.
    """
    catalog = project.catalog
    findings: list[str] = []
    for study in catalog.studies:
        page = study_page(study, catalog, "")
        html = markdown.markdown(page, extensions=_MARKDOWN_EXTENSIONS)
        findings += [f"studies/{study.id}: {f}" for f in scan_for_payloads(html)]
        heading = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.DOTALL)
        assert heading is not None
        title = plain_title(re.sub(r"<[^>]+>", "", heading.group(1)))
        assert not set(title) & set("<>&\"'"), title
    for name in ("evidence-map", "timeline", "rob", "forest"):
        for condition in ("", *catalog.vocab("conditions").ids()):
            filters = {"condition": condition} if condition else {}
            svg = figures.render_figure(name, catalog, filters, "index.md") or ""
            findings += [f"figure {name}: {f}" for f in scan_for_payloads(svg)]
    atom_feed(catalog, "https://example.org/", "Review", "2026-01-01")
    return findings


def check_pipeline(root: Path) -> None:
    """The whole invariant: problems on one line each, or a model that renders inertly."""
    result = load_or_problems(root)
    if isinstance(result, list):
        assert_one_line_each(result)
        return
    findings = render_everything(result)
    assert not findings, findings


# --- records ----------------------------------------------------------------------------------


@SETTINGS
@given(path=st.sampled_from(TEXT_PATHS), value=hostile_text)
def test_record_text_fields_with_hostile_text(
    root: Path, path: tuple[str | int, ...], value: str
) -> None:
    """Any text field of a record set to hostile text: rejected, or shown inertly."""
    _check_record(root, _dump(_set(RECORD_DATA, path, value), None))


@SETTINGS
@given(
    path=st.sampled_from(RECORD_PATHS),
    value=json_values,
    raw=st.one_of(st.none(), hostile_number),
)
def test_record_fields_with_any_value(
    root: Path, path: tuple[str | int, ...], value: Any, raw: str | None
) -> None:
    """Any field of a record set to any JSON value (as the schema's types allow) or number."""
    _check_record(root, _dump(_set(RECORD_DATA, path, _RAW if raw else value), raw))


def _check_record(root: Path, text: str) -> None:
    target = root / "data" / "studies" / RECORD.name
    try:
        _write(target, text)
        check_pipeline(root)
    finally:
        _write(target, RECORD.read_text(encoding="utf-8"))


@SETTINGS
@given(
    values=st.lists(
        st.tuples(
            st.sampled_from(EFFECT_FIELDS),
            st.one_of(hostile_number, st.floats(-20, 20).map(lambda x: f"{x:.3g}")),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_effect_sizes_the_validator_accepts_are_drawn(
    root: Path, values: list[tuple[tuple[str | int, ...], str]]
) -> None:
    """Numbers in effect sizes: rejected with a line, or drawn by the forest plot."""
    target = root / "data" / "studies" / RECORD.name
    text = RECORD.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    data = yaml.safe_load(text)
    for path, number in values:
        # Replace the number on its own line, keeping the rest of the file byte for byte.
        old = _get(data, path)
        key = str(path[-1])
        for i, line in enumerate(lines):
            if line.strip() == f"{key}: {old}":
                lines[i] = line.replace(f"{key}: {old}", f"{key}: {number}")
                break
    try:
        _write(target, "".join(lines))
        check_pipeline(root)
    finally:
        _write(target, RECORD.read_text(encoding="utf-8"))


@SETTINGS
@given(
    folder=st.sampled_from(["studies", "trials"]),
    name=st.text(min_size=1, max_size=20).filter(
        lambda s: "/" not in s and "\x00" not in s and s not in (".", "..")
    ),
    body=st.one_of(hostile_text, st.binary(max_size=200).map(lambda b: b.decode("latin-1"))),
)
def test_any_file_name_and_content(root: Path, folder: str, name: str, body: str) -> None:
    """A new file with any name and any content in a record folder."""
    target = root / "data" / folder / f"{name}.yaml"
    try:
        target.write_bytes(body.encode("utf-8", "surrogatepass"))
    except (OSError, UnicodeEncodeError):
        return  # the file system refuses the name: nothing to validate
    try:
        check_pipeline(root)
    finally:
        target.unlink()


# --- vocabularies -----------------------------------------------------------------------------


# Most labels are accepted, so each example renders every page: half the budget.
@settings(SETTINGS, max_examples=max(5, PROPERTY_EXAMPLES // 2))
@given(path=st.sampled_from(DESIGN_TEXT_PATHS), value=hostile_text)
def test_vocabulary_text_reaches_pages_inertly(
    root: Path, path: tuple[str | int, ...], value: str
) -> None:
    """Design labels reach every study page's heading and title."""
    target = root / "data" / "vocabularies" / DESIGNS.name
    try:
        _write(target, _dump(_set(DESIGNS_DATA, path, value), None))
        check_pipeline(root)
    finally:
        _write(target, DESIGNS.read_text(encoding="utf-8"))


# --- BibTeX -----------------------------------------------------------------------------------

bib_value = st.one_of(
    hostile_text.map(lambda s: "{" + s + "}"),
    hostile_text.map(lambda s: '"' + s.replace('"', "") + '"'),
    st.sampled_from(["jan", "undefinedmacro", "m1 # m1", "{{{{x}}}}", "{\\textbf{x}}", "{x"]),
)


@st.composite
def bibtex_files(draw: st.DrawFn) -> str:
    """A few ``@string`` macros and entries with hostile fields, crossrefs and keys."""
    macros = draw(st.lists(bib_value, max_size=3))
    out = [f"@string{{m{i} = {value}}}\n" for i, value in enumerate(macros)]
    count = draw(st.integers(min_value=1, max_value=4))
    for i in range(count):
        fields = {
            "title": draw(bib_value),
            "author": draw(st.one_of(bib_value, st.just("{Doe, Jane and Roe, R.}"))),
            "journal": draw(bib_value),
            "year": draw(st.one_of(st.just("{2014}"), bib_value)),
        }
        if draw(st.booleans()):
            fields["crossref"] = "{e" + str(draw(st.integers(0, count))) + "}"
        body = ",\n".join(f"  {k} = {v}" for k, v in fields.items())
        out.append(f"@article{{e{i},\n{body}\n}}\n")
    return "\n".join(out)


@SETTINGS
@given(text=bibtex_files())
def test_bibtex_parses_into_problems_or_inert_references(text: str) -> None:
    """Hostile BibTeX: the parser never raises; what it accepts formats as inert HTML."""
    bib, problems = parse_bibtex_bytes(text.encode("utf-8"), "references.bib")
    if problems:
        assert_one_line_each(problems)
    if bib.entries:
        formatted = Formatter(bib).format_references(sorted(bib.entries))
        for key, html in formatted.items():
            assert not scan_for_payloads(html), (key, html)


# --- the escaping function itself -------------------------------------------------------------


@settings(max_examples=200, database=None, derandomize=True)
@given(text=st.text())
def test_every_message_is_one_line(text: str) -> None:
    """Whatever text a problem quotes, it prints as one line with nothing hidden in it."""
    problem = Problem(f"data/{text}.yaml", 1, 2, text, f"text '{text}' is wrong")
    assert_one_line_each([problem])
    # Nothing is lost: only invisible characters changed, and each became a visible escape.
    visible_chars = [c for c in text if not _NOT_ON_ONE_LINE.match(c)]
    assert all(c in problem.format() for c in visible_chars)
