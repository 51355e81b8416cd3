"""A three-way merge of one field's values: base (the last apply), ours (the manifests) and
theirs (the Console), into the edits that bring ours to what both sides changed, and the
conflicts where they changed the same thing differently.

Dicts merge key by key; lists whose items have an identity (`model/identity.py`) merge item
by item, so a rule changed in the Console and another changed in code are both kept, an item
added on one side is added, and a reorder is one `order` edit; lists of the same length
merge index by index; a set (a kind's `set_fields`) takes the Console's additions and
removals. Anything else changed on both sides to different values is a conflict.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from bimpe_iac.model.identity import by_identity, identity_key


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()
"""No value: the key is absent (or null, which the platform uses for unset)."""


@dataclass(frozen=True, slots=True)
class Item:
    """The element of an identity list whose `key` is `value` (the rule whose id is ...)."""

    key: str
    value: Any

    def __str__(self) -> str:
        return f"[{self.value}]"


Step = str | int | Item
ValuePath = tuple[Step, ...]
Op = Literal["set", "delete", "insert", "remove", "order", "add", "discard"]


@dataclass(frozen=True, slots=True)
class Edit:
    """One change to make to the manifests' value at `path`.

    set: `value` at path; delete: the key at path; insert: the item `value` into the list at
    path, after the first of `after` (identities, nearest first) that the list holds, else
    first; remove: the item at path; order: the items of the list at path whose identities
    `value` lists, into that order; add / discard: the member `value` of the set at path.
    """

    op: Op
    path: ValuePath
    value: Any = None
    after: tuple[Any, ...] = ()
    before: Any = MISSING
    """For a set: the manifests' value it replaces, to show."""


@dataclass(frozen=True, slots=True)
class Conflict:
    path: ValuePath
    base: Any
    ours: Any
    theirs: Any
    what: str = "value"
    """`value`, or `order` when both sides reordered a list differently."""


@dataclass
class Merged:
    edits: list[Edit] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)

    def extend(self, other: Merged) -> None:
        self.edits += other.edits
        self.conflicts += other.conflicts


def present(value: Any) -> bool:
    return value is not MISSING and value is not None


def path_text(path: ValuePath) -> str:
    out = ""
    for step in path:
        if isinstance(step, Item):
            out += str(step)
        elif isinstance(step, int):
            out += f"[{step}]"
        else:
            out += f".{step}" if out else step
    return out


def _same(a: Any, b: Any) -> bool:
    return (not present(a) and not present(b)) or a == b


def _dicts(*values: Any) -> bool:
    return all(isinstance(v, dict) for v in values if present(v))


def _lists(*values: Any) -> bool:
    return all(isinstance(v, list) for v in values)


def cut(live: Any, *shapes: Any) -> Any:
    """`live` cut down to the keys the shapes write (recursively), so that what neither the
    last apply nor the manifests say (server defaults) is not a change."""
    shapes = tuple(s for s in shapes if present(s))
    if not present(live) or not shapes:
        return live
    if isinstance(live, dict) and all(isinstance(s, dict) for s in shapes):
        keys = {key for shape in shapes for key in shape}
        return {
            key: cut(value, *(s.get(key, MISSING) for s in shapes))
            for key, value in live.items()
            if key in keys
        }
    if isinstance(live, list) and all(isinstance(s, list) for s in shapes):
        key = identity_key(live, *shapes)
        if key is not None:
            indexed = [by_identity(s, key) for s in shapes]
            return [cut(item, *(i.get(item[key], MISSING) for i in indexed)) for item in live]
        if all(len(s) == len(live) for s in shapes):
            return [cut(item, *(s[n] for s in shapes)) for n, item in enumerate(live)]
    return live


def changes(ours: Any, theirs: Any, path: ValuePath = (), *, as_set: bool = False) -> list[Edit]:
    """The edits that make `ours` into `theirs`, as fine as the values allow."""
    if _same(ours, theirs):
        return []
    if not present(theirs):
        return [Edit("delete", path)]
    if not present(ours):
        return [Edit("set", path, theirs)]
    if isinstance(ours, str) and isinstance(theirs, str):
        return [Edit("set", path, theirs, before=ours)]
    if as_set and _lists(ours, theirs):
        return [Edit("add", path, v) for v in theirs if v not in ours] + [
            Edit("discard", path, v) for v in ours if v not in theirs
        ]
    if isinstance(ours, dict) and isinstance(theirs, dict):
        edits = []
        for key in [*theirs, *(k for k in ours if k not in theirs)]:
            edits += changes(ours.get(key, MISSING), theirs.get(key, MISSING), (*path, key))
        return edits
    if _lists(ours, theirs):
        key = identity_key(ours, theirs)
        if key is not None:
            return _item_changes(ours, theirs, path, key)
        if len(ours) == len(theirs):
            return [
                e
                for n, (o, t) in enumerate(zip(ours, theirs, strict=True))
                for e in changes(o, t, (*path, n))
            ]
    return [Edit("set", path, theirs, before=ours)]


def _preceding(items: list[Any], key: str, index: int) -> tuple[Any, ...]:
    return tuple(item[key] for item in reversed(items[:index]))


def _item_changes(ours: list[Any], theirs: list[Any], path: ValuePath, key: str) -> list[Edit]:
    mine, other = by_identity(ours, key), by_identity(theirs, key)
    edits = [Edit("remove", (*path, Item(key, v))) for v in mine if v not in other]
    for index, item in enumerate(theirs):
        value = item[key]
        if value in mine:
            edits += changes(mine[value], item, (*path, Item(key, value)))
        else:
            edits.append(Edit("insert", path, item, _preceding(theirs, key, index)))
    edits += _order(
        [v for v in mine if v in other], [v for v in other if v in mine], path, None
    ).edits
    return edits


def _order(ours: list[Any], theirs: list[Any], path: ValuePath, base: list[Any] | None) -> Merged:
    """An `order` edit when theirs moved the common items and ours did not (or, without a
    base, whenever they differ); a conflict when both moved them differently."""
    if ours == theirs or (base is not None and theirs == base):
        return Merged()
    if base is None or ours == base:
        return Merged(edits=[Edit("order", path, theirs)])
    return Merged(conflicts=[Conflict(path, base, ours, theirs, "order")])


def three_way(
    base: Any, ours: Any, theirs: Any, path: ValuePath = (), *, as_set: bool = False
) -> Merged:
    """The edits that bring the Console's changes since `base` into `ours`, and the conflicts."""
    if _same(theirs, base) or _same(ours, theirs):
        return Merged()
    if _same(ours, base):
        return Merged(edits=changes(ours, theirs, path, as_set=as_set))
    if as_set and _lists(base, ours, theirs):
        added = [v for v in theirs if v not in base and v not in ours]
        gone = [v for v in ours if v in base and v not in theirs]
        return Merged(
            edits=[Edit("add", path, v) for v in added] + [Edit("discard", path, v) for v in gone]
        )
    if _dicts(base, ours, theirs) and present(ours) and present(theirs):
        merged = Merged()
        b = base if present(base) else {}
        for key in _keys(b, ours, theirs):
            merged.extend(
                three_way(
                    b.get(key, MISSING),
                    ours.get(key, MISSING),
                    theirs.get(key, MISSING),
                    (*path, key),
                )
            )
        return merged
    if _lists(base, ours, theirs):
        identity = identity_key(base, ours, theirs)
        if identity is not None:
            return _item_merge(base, ours, theirs, path, identity)
        if len(base) == len(ours) == len(theirs):
            merged = Merged()
            for n, (b_, o, t) in enumerate(zip(base, ours, theirs, strict=True)):
                merged.extend(three_way(b_, o, t, (*path, n)))
            return merged
    return Merged(conflicts=[Conflict(path, base, ours, theirs)])


def _keys(*dicts: dict[str, Any]) -> Iterator[str]:
    seen: set[str] = set()
    for mapping in dicts:
        for key in mapping:
            if key not in seen:
                seen.add(key)
                yield key


def _item_merge(
    base: list[Any], ours: list[Any], theirs: list[Any], path: ValuePath, key: str
) -> Merged:
    b, o, t = (by_identity(items, key) for items in (base, ours, theirs))
    merged = Merged()
    for value in o:
        where = (*path, Item(key, value))
        if value in t:
            merged.extend(three_way(b.get(value, MISSING), o[value], t[value], where))
        elif value in b:
            if _same(o[value], b[value]):
                merged.edits.append(Edit("remove", where))
            else:
                merged.conflicts.append(Conflict(where, b[value], o[value], MISSING))
    for index, item in enumerate(theirs):
        value = item[key]
        if value in o:
            continue
        if value not in b:
            merged.edits.append(Edit("insert", path, item, _preceding(theirs, key, index)))
        elif not _same(item, b[value]):
            where = (*path, Item(key, value))
            merged.conflicts.append(Conflict(where, b[value], MISSING, item))
    common = [v for v in b if v in o and v in t]
    merged.extend(
        _order([v for v in o if v in common], [v for v in t if v in common], path, common)
    )
    return merged
