"""YAML edited in place (ruamel.yaml's round-trip mode): what is not changed keeps its
comments, key order, quoting and block or flow style, so a rewritten manifest differs from
the original only where a value does."""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

_WIDTH = 1_000_000  # never fold a long line


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = _WIDTH
    # List items indented under their key, as the examples and `export` write them.
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def load(text: str) -> Any:
    return _yaml().load(text)


def dump(data: Any) -> str:
    out = io.StringIO()
    _yaml().dump(data, out)
    return out.getvalue()


def like(old: Any, value: Any) -> Any:
    """`value` to write where `old` was: a string in `old`'s quoting or block style when it
    can hold it, a literal block for text of several lines, a list or map in `old`'s flow or
    block style."""
    if isinstance(value, str):
        if "\n" in value:
            return LiteralScalarString(value)
        for style in (DoubleQuotedScalarString, SingleQuotedScalarString, FoldedScalarString):
            if isinstance(old, style) and (style is not FoldedScalarString or value):
                return style(value)
        return value
    if isinstance(value, list):
        seq = CommentedSeq(like(None, item) for item in value)
        if isinstance(old, CommentedSeq) and old.fa.flow_style():
            seq.fa.set_flow_style()
        return seq
    if isinstance(value, dict):
        mapping = CommentedMap((key, like(None, item)) for key, item in value.items())
        if isinstance(old, CommentedMap) and old.fa.flow_style():
            mapping.fa.set_flow_style()
        return mapping
    return value


def rename_key(mapping: CommentedMap, old: str, new: str) -> None:
    """Give the entry `old` of `mapping` the key `new`, in the same place."""
    position = list(mapping).index(old)
    value = mapping.pop(old)
    mapping.insert(position, new, value)
