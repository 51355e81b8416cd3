"""Comments that go with the items of a YAML list when pull moves, adds or removes items.

ruamel.yaml keeps the comment lines above an item as the tail of the item before it (after
its last value's end-of-line comment), so moving items alone would leave each comment
behind, above another item. `detach` takes those lines off, one block per item, and
`attach` puts them back above whichever item they belong to after the change.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken


def _slot(seq: CommentedSeq, index: int) -> tuple[list[Any], int]:
    """Where the comment after the last value of item `index` lives: a ruamel comment list
    and the position in it (created when absent)."""
    node: Any = seq[index]
    holder: Any = seq
    key: Any = index
    while isinstance(node, CommentedMap | CommentedSeq) and node and not node.fa.flow_style():
        holder, key = node, (list(node)[-1] if isinstance(node, CommentedMap) else len(node) - 1)
        node = holder[key]
    position = 2 if isinstance(holder, CommentedMap) else 0
    slot = holder.ca.items.setdefault(key, [None, None, None, None][: position + 2])
    return slot, position


def _split(value: str) -> tuple[str, str]:
    """A tail comment's own end-of-line part and the whole lines after it."""
    first, newline, rest = value.partition("\n")
    return first + newline, rest


def _first_tokens(parent: Any, key: Any) -> list[Any] | None:
    if not isinstance(parent, CommentedMap | CommentedSeq):
        return None
    slot = parent.ca.items.get(key)
    return slot[3] if slot is not None and len(slot) > 3 else None


def _as_lines(tokens: list[Any]) -> str:
    return "".join(" " * token.column + token.value for token in tokens)


def _as_tokens(lines: str) -> list[CommentToken]:
    tokens: list[CommentToken] = []
    for line in lines.splitlines(keepends=True):
        if not line.strip() and tokens:
            tokens[-1].value += "\n"
        elif line.strip():
            text = line.lstrip(" ")
            tokens.append(CommentToken(text, CommentMark(len(line) - len(text)), None))
    return tokens


def detach(seq: CommentedSeq, parent: Any, key: Any) -> list[str]:
    """The lines above each item and, last, those after the list, each taken off where it
    hung: the first item's from the list's key in `parent`, the others' from the item
    before them."""
    first = _first_tokens(parent, key)
    leading = [_as_lines(first) if first else ""]
    if first:
        parent.ca.items[key][3] = None
        seq.ca.comment = None
    for index in range(len(seq)):
        slot, position = _slot(seq, index)
        token = slot[position]
        if token is None:
            leading.append("")
            continue
        own, rest = _split(token.value)
        leading.append(rest)
        if own.strip():
            token.value = own
        else:
            slot[position] = None
    return leading


def attach(seq: CommentedSeq, parent: Any, key: Any, leading: list[str]) -> None:
    """Put back what `detach` took, `leading[i]` above item `i`, the last after the list."""
    if leading and leading[0] and len(seq) and isinstance(parent, CommentedMap | CommentedSeq):
        slot = parent.ca.items.setdefault(key, [None, None, None, None])
        while len(slot) < 4:
            slot.append(None)
        slot[3] = _as_tokens(leading[0])
    for index in range(len(seq)):
        lines = leading[index + 1] if index + 1 < len(leading) else ""
        if not lines:
            continue
        slot, position = _slot(seq, index)
        token = slot[position]
        if token is None:
            slot[position] = CommentToken("\n" + lines, CommentMark(0), None)
        else:
            token.value = token.value + lines


def rearranged(leading: list[str], order: list[int | None]) -> list[str]:
    """`leading` (from `detach`) for the items in `order`: each the old index of the item now
    there, or None for a new item, which has no comment above it."""
    count = len(leading) - 1
    above = {index: leading[index] for index in range(count)}
    after_list = leading[count] if count else ""
    moved = [above.get(old, "") if old is not None else "" for old in order]
    return [*moved, after_list]
