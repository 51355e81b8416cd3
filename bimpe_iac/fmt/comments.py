"""Comments and blank lines, taken out of a document and put back after it is rewritten, each
beside the entry it was on.

A comment on its own line (and a blank line) goes with the entry written after it, the next
key or list item; one at the end of a line, with the entry written on that line. The YAML
writer's own comment handling ties a comment above a key to the entry before it, which would
take it along when keys are reordered; this places them by their lines instead.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from ruamel.yaml.comments import CommentedBase, CommentedMap, CommentedSeq
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Anchor = tuple[int, Hashable]
"""An entry of the tree: the id of its mapping or list, and its key or index."""

_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")  # the line breaks YAML counts
_BLOCK_HEADER = re.compile(r"[|>][-+0-9]*")
_MARKERS = (yaml.DocumentStartToken, yaml.DocumentEndToken, yaml.DirectiveToken)


class Unplaceable(Exception):
    """The document's tree and its text do not match up (a mapping merged with `<<`)."""


@dataclass(frozen=True)
class _Place:
    """Where an entry is written: the line its key (or list item) starts on, its column, how
    deep it is, and the line a comment at the end of it goes on."""

    line: int
    column: int
    depth: int
    comment_line: int
    in_block: bool


@dataclass
class Comments:
    before: dict[Anchor, list[str]] = field(default_factory=dict)
    """Lines (a comment, or "" for a blank line) written before an entry."""
    after: dict[Anchor, str] = field(default_factory=dict)
    """The comment at the end of an entry's line."""
    start: list[str] = field(default_factory=list)
    """Lines before the first entry: the file's own, which stay at its top."""
    end: list[str] = field(default_factory=list)
    """Lines after the last entry."""


def take_comments(text: str, data: Any) -> Comments:
    """The comments of `text`, whose tree (read by the writer's round-trip loader) is `data`,
    tied to entries of `data`; `data` is left without comments."""
    places = _places(text, data)
    lines, endings = comment_lines(text)
    comments = Comments()
    anchors = [anchor for anchor, place in places.items() if place.in_block]
    starts = sorted(
        (places[a].line, places[a].column, places[a].depth, i) for i, a in enumerate(anchors)
    )
    at_end = _line_ends(places)
    for number, line_text in endings.items():
        anchor = at_end.get(number)
        if anchor is None:
            lines[number] = line_text  # no entry ends on that line: it goes on its own
        else:
            comments.after[anchor] = line_text
    for number in sorted(lines):
        following = bisect.bisect_right(starts, (number, 1 << 62))
        if following == 0:
            comments.start.append(lines[number])
        elif following == len(starts):
            comments.end.append(lines[number])
        else:
            anchor = anchors[starts[following][3]]
            comments.before.setdefault(anchor, []).append(lines[number])
    _strip(data)
    return comments


def put_comments(text: str, data: Any, comments: Comments) -> str:
    """`text`, the writer's output for `data`, with `comments` put back."""
    places = _places(text, data)
    lines = _BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    for anchor, comment in comments.after.items():
        number = places[anchor].comment_line
        lines[number] = f"{lines[number].rstrip()}  {comment}"
    inserted: dict[int, list[str]] = {}
    for anchor, before in comments.before.items():
        inserted.setdefault(places[anchor].line, []).extend(before)
    out = _without_blank_edges(_one_blank_at_most(comments.start), leading=True)
    for number, line in enumerate(lines):
        block = _one_blank_at_most(inserted.get(number, []))
        if number == 0:
            block = _without_blank_edges(block, leading=True)
        indent = line[: len(line) - len(line.lstrip(" "))]
        out += [f"{indent}{item}" if item else "" for item in block]
        out.append(line)
    out += _without_blank_edges(_one_blank_at_most(comments.end), leading=not out)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out) + "\n" if out else ""


def comment_lines(text: str) -> tuple[dict[int, str], dict[int, str]]:
    """The lines of `text` (0-based) that are a comment or blank, and the comments that end
    lines holding YAML; each comment as written, from its `#`."""
    lines = _BREAK.split(text)
    covered = [0] * len(lines)
    touched = [False] * len(lines)
    inside = [False] * len(lines)
    for token in yaml.scan(text, Loader=yaml.SafeLoader):
        start, end = token.start_mark, token.end_mark
        if isinstance(token, _MARKERS) or (start.line, start.column) == (end.line, end.column):
            continue
        touched[start.line] = True
        if isinstance(token, yaml.ScalarToken) and token.style in ("|", ">"):
            header = _BLOCK_HEADER.match(lines[start.line], start.column)
            assert header is not None
            covered[start.line] = max(covered[start.line], header.end())
            last = end.line if end.column else end.line - 1
            if "+" not in header.group():  # trailing blank lines are not the text's
                while last > start.line and not lines[last].strip():
                    last -= 1
            for number in range(start.line + 1, last + 1):
                inside[number] = True
            continue
        if start.line == end.line:
            covered[start.line] = max(covered[start.line], end.column)
            continue
        covered[start.line] = len(lines[start.line])
        for number in range(start.line + 1, end.line):
            inside[number] = True
        touched[end.line] = True
        covered[end.line] = max(covered[end.line], end.column)
    own: dict[int, str] = {}
    endings: dict[int, str] = {}
    for number, line in enumerate(lines):
        if inside[number]:
            continue
        rest = _without_marker(line[covered[number] :].strip())
        if touched[number]:
            if rest.startswith("#"):
                endings[number] = rest
        elif rest.startswith("#") or not rest:
            own[number] = rest
    while own and max(own) == len(lines) - 1 and not own[max(own)]:
        del own[max(own)]  # the end of the last line
    return own, endings


def _without_marker(rest: str) -> str:
    """A line's text without a document marker (`---`) or directive, which are not kept."""
    if rest.startswith("%"):
        return ""
    for marker in ("---", "..."):
        if rest == marker or rest.startswith(f"{marker} "):
            return rest[len(marker) :].strip()
    return rest


def _places(text: str, data: Any) -> dict[Anchor, _Place]:
    places: dict[Anchor, _Place] = {}
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is not None:
        _walk(root, data, 0, True, places, set())
    return places


def _walk(
    node: Node, data: Any, depth: int, in_block: bool, out: dict[Anchor, _Place], seen: set[int]
) -> None:
    if id(node) in seen:  # an alias: its entries are placed where the anchor is
        return
    seen.add(id(node))
    block = in_block and not getattr(node, "flow_style", False)
    for key, key_node, value_node in _entries(node, data):
        start = (key_node or value_node).start_mark
        out[(id(data), key)] = _Place(
            start.line, start.column, depth, _comment_line(key_node, value_node), block
        )
        _walk(value_node, data[key], depth + 1, block, out, seen)


def _entries(node: Node, data: Any) -> Iterator[tuple[Hashable, Node | None, Node]]:
    if isinstance(node, MappingNode) and isinstance(data, CommentedMap):
        if len(node.value) != len(data):
            raise Unplaceable(node.start_mark)
        for (key_node, value_node), key in zip(node.value, data, strict=True):
            yield key, key_node, value_node
    elif isinstance(node, SequenceNode) and isinstance(data, CommentedSeq):
        if len(node.value) != len(data):
            raise Unplaceable(node.start_mark)
        for index, value_node in enumerate(node.value):
            yield index, None, value_node


def _comment_line(key_node: Node | None, value_node: Node) -> int:
    """The line a comment at the end of the entry goes on: the key's line for a value written
    as a block below it, else the line the value ends on."""
    if isinstance(value_node, ScalarNode) and value_node.style in ("|", ">"):
        return int(value_node.start_mark.line)
    if isinstance(value_node, MappingNode | SequenceNode) and not value_node.flow_style:
        return int((key_node or value_node).start_mark.line)
    return int(value_node.end_mark.line)


def _line_ends(places: dict[Anchor, _Place]) -> dict[int, Anchor]:
    """For each line, the deepest entry of a block that a comment at its end belongs to."""
    out: dict[int, Anchor] = {}
    for anchor, place in sorted(places.items(), key=lambda item: item[1].depth):
        if place.in_block:
            out[place.comment_line] = anchor
    return out


def _strip(data: Any) -> None:
    if isinstance(data, CommentedBase):
        data.ca.comment = None
        data.ca.items.clear()
        data.ca.end = []
    if isinstance(data, CommentedMap):
        for value in data.values():
            _strip(value)
    elif isinstance(data, CommentedSeq):
        for item in data:
            _strip(item)


def _one_blank_at_most(lines: list[str]) -> list[str]:
    return [line for i, line in enumerate(lines) if line or i == 0 or lines[i - 1]]


def _without_blank_edges(lines: list[str], *, leading: bool) -> list[str]:
    start = next((i for i, line in enumerate(lines) if line), len(lines)) if leading else 0
    return lines[start:]
