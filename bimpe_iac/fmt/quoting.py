"""Quotes kept only where a scalar needs them: a quoted string that reads back as the same text
when written plain, both by bimpe-iac's loader and by the YAML writer, loses its quotes."""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from bimpe_iac.export.roundtrip import dump
from bimpe_iac.manifest.yaml_loader import reads_as_text

_QUOTED = (DoubleQuotedScalarString, SingleQuotedScalarString)


def unquote(data: Any, flow: bool = False) -> Any:
    """`data` with every needlessly quoted string, value or key, made plain; in place where
    `data` is a mapping or a list. `flow`: `data` is inside a `{...}` or `[...]`."""
    # Assigning a plain string where a quoted one was would keep the quotes: each entry is
    # taken out and put back instead.
    if isinstance(data, CommentedMap):
        flow = flow or data.fa.flow_style()
        for position, key in enumerate(list(data)):
            value = unquote(data.pop(key), flow)
            plain = isinstance(key, _QUOTED) and _plain(str(key), flow, key=True)
            data.insert(position, str(key) if plain else key, value)
        return data
    if isinstance(data, CommentedSeq):
        flow = flow or data.fa.flow_style()
        for index in range(len(data)):
            data.insert(index, unquote(data.pop(index), flow))
        return data
    if isinstance(data, _QUOTED) and _plain(str(data), flow, key=False):
        return str(data)
    return data


@cache
def _plain(text: str, flow: bool, *, key: bool) -> bool:
    # The loader takes every key as written; a value must read back as text in YAML 1.1 too.
    as_text = key or (reads_as_text(text) and _text_in_yaml_1_1(text))
    return as_text and _written_plain(text, flow, key=key)


def _text_in_yaml_1_1(text: str) -> bool:
    """Whether YAML 1.1 reads `text` unquoted as text: bimpe-iac reads `yes`, `on` or `1:20` as
    text, but editors and other tools that read the file may not, so those keep their quotes."""
    resolver: Any = yaml.SafeLoader("")
    tag = resolver.resolve(yaml.ScalarNode, text, (True, False))
    return bool(tag == "tag:yaml.org,2002:str")


def _written_plain(text: str, flow: bool, *, key: bool) -> bool:
    """Whether the writer writes `text` unquoted (in a flow mapping with `flow`), which it does
    only where that reads back as the same text."""
    if not text or "\n" in text:
        return False
    data = CommentedMap([(text, "v")] if key else [("k", text)])
    if flow:
        data.fa.set_flow_style()
    written = f"{text}: v" if key else f"k: {text}"
    return dump(data) == (f"{{{written}}}\n" if flow else f"{written}\n")
