"""Compare desired and live values field by field, looking only at what the manifest manages.

Live values are projected onto the shape of the desired ones: keys the manifest does not write
(server defaults, fields added by the platform) are never compared, at any depth. List items
named by a key (`model.identity`: rules by `id`, flows by `name`) are projected onto the desired
item of the same name, so a reordered or grown list keeps each item's own shape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

from bimpe_iac.model.identity import identity_key
from bimpe_iac.model.plan import FieldChange, Ref


def project(want: Any, have: Any) -> Any:
    """`have` cut down to the keys `want` has, recursively through dicts, lists of named items
    (item by name, in `have`'s order) and other equal-length lists."""
    if isinstance(want, dict) and isinstance(have, dict):
        want_dict = cast("dict[str, Any]", want)
        have_dict = cast("dict[str, Any]", have)
        return {key: project(value, have_dict.get(key)) for key, value in want_dict.items()}
    if isinstance(want, list) and isinstance(have, list):
        key = identity_key(want, have)
        if key is not None:
            return _project_named(key, want, have)
        if len(want) == len(have):
            return [project(w, h) for w, h in zip(want, have, strict=True)]
    return have


def _project_named(key: str, want: list[Any], have: list[Any]) -> list[Any]:
    """Each live item onto the wanted item of its name; one no longer wanted onto the keys
    the wanted items have between them (it is shown as removed, without server fields)."""
    wanted = {item[key]: item for item in want}
    shape = {name for item in want for name in item}
    return [
        project(wanted[item[key]], item)
        if item[key] in wanted
        else {name: value for name, value in item.items() if name in shape or not shape}
        for item in have
    ]


def resolve_refs(value: Any, lookup: Callable[[str], str | None]) -> Any:
    """Replace each Ref whose id is known; unknown ones stay Refs ("known after apply")."""
    if isinstance(value, Ref):
        known = lookup(value.address)
        return value if known is None else known
    if isinstance(value, dict):
        return {k: resolve_refs(v, lookup) for k, v in cast("dict[str, Any]", value).items()}
    if isinstance(value, list):
        return [resolve_refs(v, lookup) for v in value]
    return value


def as_set(value: Any) -> Any:
    if isinstance(value, list):
        items = value
        return sorted(set(items), key=repr) if all(isinstance(i, str) for i in items) else value
    return value


def compare(
    desired: dict[str, Any],
    live: dict[str, Any],
    *,
    set_fields: Iterable[str] = (),
    ignore: Iterable[str] = (),
) -> tuple[FieldChange, ...]:
    """The fields whose desired value differs from the live one (before = live, after = desired)."""
    sets, ignored = set(set_fields), set(ignore)
    changes = []
    for field, want in desired.items():
        if field in ignored:
            continue
        have = live.get(field)
        if field in sets:
            have, want = as_set(have), as_set(want)
        projected = project(want, have)
        if isinstance(want, Ref) or want != projected:
            changes.append(FieldChange(field, projected, want))
    return tuple(changes)
