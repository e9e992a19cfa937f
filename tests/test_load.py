"""Unit tests of the safe YAML loader: positions, refusals and YAML 1.1 surprises."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from livingreview.load import MAX_FILE_BYTES, check_input_path, load_yaml, parse_yaml


def _lines(text: str) -> list[str]:
    _, problems = parse_yaml(text, "data/studies/x-2020.yaml")
    return [p.format() for p in problems]


def test_values_keep_their_positions() -> None:
    doc, problems = parse_yaml("a: 1\nb:\n  c: [x, y]\n", "f.yaml")
    assert problems == []
    assert doc is not None
    assert doc.data == {"a": 1, "b": {"c": ["x", "y"]}}
    assert doc.values[("b", "c", 1)] == (3, 10)
    assert doc.keys[("b", "c")] == (3, 3)


@pytest.mark.parametrize(
    ("case", "text", "expected"),
    [
        (
            "duplicate_key",
            "a: 1\nb: 2\na: 3\n",
            "f:3:1: error: a: duplicate key 'a' (first defined on line 1)",
        ),
        ("anchor", "a: &x 1\nb: *x\n", "f:1:4: error: a: YAML anchor '&x' is not allowed"),
        (
            "alias_bomb",
            "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n",
            "f:1:4: error: a: YAML anchor '&a'",
        ),
        (
            "python_tag",
            "a: !!python/object/apply:os.system [echo]\n",
            "f:1:4: error: a: YAML tag '!!python/object/apply:os.system' is not allowed",
        ),
        ("custom_tag", "a: !custom x\n", "f:1:4: error: a: YAML tag '!custom' is not allowed"),
        (
            "tab_indent",
            "a:\n\tb: 1\n",
            "f:2:1: error: YAML syntax: tab character used for indentation",
        ),
        (
            "several_documents",
            "a: 1\n---\nb: 2\n",
            "f:2:1: error: YAML syntax: file holds several YAML documents",
        ),
        ("top_level_list", "- a\n- b\n", "f:1:1: error: top level is a list"),
        ("top_level_scalar", "just text\n", "f:1:1: error: top level is a single value"),
        ("empty", "", "f:1: error: file is empty"),
        ("only_comments", "# nothing\n", "f:1: error: file is empty"),
        (
            "merge_key",
            "a: 1\nb:\n  <<: {c: 1}\n",
            "f:3:3: error: b: YAML merge keys ('<<') are not allowed",
        ),
    ],
)
def test_refusals(case: str, text: str, expected: str) -> None:
    _, problems = parse_yaml(text, "f")
    assert any(p.format().startswith(expected) for p in problems), (case, problems)


@pytest.mark.parametrize(
    ("text", "field", "kept"),
    [
        ("answer: no\n", "answer", "no"),
        ("answer: Yes\n", "answer", "Yes"),
        ("flag: off\n", "flag", "off"),
        ("n: 012\n", "n", "012"),
        ("ratio: 1:20\n", "ratio", "1:20"),
        ("n: 1_000\n", "n", "1_000"),
    ],
)
def test_yaml11_values_are_kept_as_text_and_reported(text: str, field: str, kept: str) -> None:
    doc, problems = parse_yaml(text, "f")
    assert doc is not None and doc.data[field] == kept
    assert [p.field for p in problems] == [field]
    assert "ambiguous value" in problems[0].message


def test_core_schema_values() -> None:
    doc, problems = parse_yaml(
        "a: true\nb: null\nc: 12\nd: -1.5\ne: 2020-01-02\nf: '012'\ng: 0x1F\n", "f"
    )
    assert problems == []
    assert doc is not None
    assert doc.data == {
        "a": True,
        "b": None,
        "c": 12,
        "d": -1.5,
        "e": "2020-01-02",  # a date stays the text it is; the schema checks its form
        "f": "012",
        "g": 31,
    }


def test_non_utf8_nul_and_size(tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("a: ok\nname: M\xfcller\n".encode("latin-1"))
    nul = tmp_path / "nul.yaml"
    nul.write_bytes(b"a: 1\nb: x\x00y\n")
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: " + b"x" * (MAX_FILE_BYTES + 1) + b"\n")
    before = {p: p.read_bytes() for p in (latin1, nul, big)}
    assert [p.format() for p in load_yaml(latin1, tmp_path)[1]] == [
        "latin1.yaml:2:8: error: file is not valid UTF-8 (byte 0xfc); save it as UTF-8"
    ]
    assert [p.format() for p in load_yaml(nul, tmp_path)[1]] == [
        "nul.yaml:2:5: error: file contains a NUL byte"
    ]
    assert "the limit is" in load_yaml(big, tmp_path)[1][0].message
    assert {p: p.read_bytes() for p in before} == before


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: " + "[" * 1200 + "]" * 1200 + "\n", "nested more than 24 levels deep"),
        ("a: " + "9" * 5000 + "\n", "a: number has 5000 digits; at most 18 are allowed"),
        ("a: 0x" + "f" * 40 + "\n", "a: number has 42 digits; at most 18 are allowed"),
        ("a: 1e400\n", "a: number 1e400 is too large to be used; write a finite number"),
        ("a: -1e400\n", "a: number -1e400 is too large to be used"),
        ("a: [" + "1, " * 1001 + "]\n", "a: list has 1001 items; at most 1000 are allowed"),
        ("a: " + "x" * 5001 + "\n", "a: text is 5001 characters long; at most 5000 are allowed"),
        ("a: x\x1by\n", "r.yaml:1:5: error: file contains U+001B, a control character"),
        ("a: x\ufffey\n", "r.yaml:1:5: error: file contains U+FFFE, a noncharacter"),
        ("a: x\x85y\x7f\n", "r.yaml:1:7: error: file contains U+007F, a control character"),
    ],
    ids=[
        "nesting",
        "digits",
        "hex_digits",
        "infinity",
        "minus_infinity",
        "items",
        "text",
        "escape",
        "fffe",
        "delete",
    ],
)
def test_limits_and_unreadable_characters_are_problems(text: str, expected: str) -> None:
    """Each used to raise (RecursionError, ValueError, ReaderError) or pass as infinity."""
    _, problems = parse_yaml(text, "r.yaml")
    formatted = [p.format() for p in problems]
    assert len(formatted) == 1 and expected in formatted[0], formatted


def test_input_paths_must_be_regular_files_inside_the_project(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    outside = tmp_path / "outside.yaml"
    outside.write_text("a: 1\n", encoding="utf-8")
    (root / "inside.yaml").write_text("a: 1\n", encoding="utf-8")
    (root / "link-in.yaml").symlink_to(root / "inside.yaml")
    (root / "link-out.yaml").symlink_to(outside)
    (root / "zero.yaml").symlink_to("/dev/zero")
    (root / "loop.yaml").symlink_to("loop.yaml")
    os.mkfifo(root / "fifo.yaml")
    (root / "folder.yaml").mkdir()
    names = ["inside", "link-in", "link-out", "zero", "loop", "fifo", "folder", "absent"]
    found = {f"{name}.yaml": check_input_path(root / f"{name}.yaml", root) for name in names}
    messages = {name: p.format() if p else None for name, p in found.items()}
    assert messages == {
        "inside.yaml": None,
        "link-in.yaml": None,
        "link-out.yaml": "link-out.yaml: error: a symlink leads outside the project; refusing "
        "to read it (copy the file in instead)",
        "zero.yaml": "zero.yaml: error: a symlink leads outside the project; refusing to read "
        "it (copy the file in instead)",
        "loop.yaml": "loop.yaml: error: symlink loop; cannot read this file",
        "fifo.yaml": "fifo.yaml: error: not a regular file (a FIFO); refusing to read it",
        "folder.yaml": "folder.yaml: error: not a regular file (a directory); refusing to read it",
        "absent.yaml": "absent.yaml: error: cannot read file: No such file or directory",
    }
    # load_yaml goes through the same check: the FIFO does not block.
    assert load_yaml(root / "fifo.yaml", root)[1][0].message.startswith("not a regular file")
