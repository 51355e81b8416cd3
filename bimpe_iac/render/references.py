"""Ids in a change's values read as the addresses they are the ids of: an agent's
`workflow_id: workflows.triage -> workflows.sales`, the raw ids only with `--verbose`.

The plan holds the id of every resource it read (no-ops too), so it is the map from id to
address; an id of a resource outside the plan stays as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from bimpe_iac.model.plan import Change, FieldChange
from bimpe_iac.render.values import Mask, Named, no_mask
from bimpe_iac.ui import UI

Names = Mapping[str, str]
"""A resource's id -> its address."""


def plan_names(changes: Iterable[Change], mask: Mask = no_mask) -> dict[str, str]:
    """The id -> address map of every change that has an id, both masked."""
    return {mask(change.id): mask(change.address) for change in changes if change.id}


def verbosity(verbose: bool | None) -> bool:
    """`verbose`, or when unset, the global `-v/--verbose` flag."""
    return UI.verbose if verbose is None else verbose


def named(value: Any, names: Names, verbose: bool) -> Any:
    """`value` with each string that is a known id as a `Named` address."""
    if isinstance(value, str) and value in names:
        return Named(names[value], value if verbose else None)
    if isinstance(value, dict):
        return {key: named(item, names, verbose) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [named(item, names, verbose) for item in value]
    return value


def named_fields(
    items: tuple[FieldChange, ...], names: Names, verbose: bool
) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(
            item.field, named(item.before, names, verbose), named(item.after, names, verbose)
        )
        for item in items
    )


def named_change(change: Change, names: Names, verbose: bool) -> Change:
    """`change` with the ids in its values read as addresses (its own `id` stays)."""
    if not names:
        return change
    return replace(
        change,
        before=None if change.before is None else named(change.before, names, verbose),
        after=None if change.after is None else named(change.after, names, verbose),
        fields=named_fields(change.fields, names, verbose),
        drift=named_fields(change.drift, names, verbose),
    )
