"""Loading one YAML file: positions of keys and values, YAML 1.2 scalars, and the bounds
that keep a small file from becoming a huge one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bimpe_iac.manifest.yaml_loader import MAX_ALIASES, load_yaml
from bimpe_iac.model.issues import Position


def _load(tmp_path: Path, text: str) -> tuple[object, list[str]]:
    path = tmp_path / "file.yaml"
    path.write_text(text, encoding="utf-8")
    document, issues = load_yaml(path)
    return (document.data if document else None), [i.render() for i in issues]


def test_keeps_the_position_of_every_key_and_value(tmp_path: Path) -> None:
    path = tmp_path / "file.yaml"
    path.write_text("agents:\n  bot:\n    tags: [a, b]\n", encoding="utf-8")

    document, _ = load_yaml(path)

    assert document is not None
    marks = document.marks[("agents", "bot", "tags")]
    assert (marks.key, marks.start) == (Position(3, 5), Position(3, 11))
    assert document.marks[("agents", "bot", "tags", 1)].start == Position(3, 15)


def test_only_yaml_12_booleans_and_no_dates(tmp_path: Path) -> None:
    data, issues = _load(tmp_path, "a: yes\nb: off\nc: true\nd: 2024-05-01\ne: 12\n")

    assert data == {"a": "yes", "b": "off", "c": True, "d": "2024-05-01", "e": 12}
    assert issues == []


def test_keys_are_strings_as_written(tmp_path: Path) -> None:
    data, _ = _load(tmp_path, "+2348012345678: a\n123: b\n")

    assert data == {"+2348012345678": "a", "123": "b"}


def test_merge_keys_yield_to_explicit_keys(tmp_path: Path) -> None:
    data, issues = _load(tmp_path, "base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  y: 3\n")

    assert data == {"base": {"x": 1, "y": 2}, "c": {"y": 3, "x": 1}}
    assert issues == []


def test_a_recursive_alias_is_an_error(tmp_path: Path) -> None:
    data, issues = _load(tmp_path, "a: &a [1, *a]\n")

    assert data is None
    assert issues == [
        f"{tmp_path}/file.yaml:1:11: invalid YAML: an alias refers to a node that contains it"
    ]


def test_alias_count_is_bounded(tmp_path: Path) -> None:
    aliases = ", ".join(["*a"] * (MAX_ALIASES + 1))
    _, issues = _load(tmp_path, f"a: &a [x]\nb: [{aliases}]\n")

    column = len("b: [") + len("*a, ") * MAX_ALIASES + 1
    assert issues == [
        f"{tmp_path}/file.yaml:2:{column}: invalid YAML: more than 100 aliases in one file"
    ]


def test_file_size_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with path.open("wb") as file:
        file.truncate(5 * 1024 * 1024 + 1)

    document, issues = load_yaml(path)

    assert document is None
    assert [i.message for i in issues] == ["file is larger than the 5 MB limit"]


def test_a_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfname: s\n")

    document, issues = load_yaml(path)

    assert document is not None and document.data == {"name": "s"}
    assert issues == []


def test_an_unreadable_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text("a: 1\n", encoding="utf-8")
    path.chmod(0)
    if os.access(path, os.R_OK):
        pytest.skip("file permissions are not enforced for this user")

    _, issues = load_yaml(path)

    assert [i.message for i in issues] == ["file cannot be read (Permission denied)"]
