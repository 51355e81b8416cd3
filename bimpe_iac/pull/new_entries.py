"""Objects made in the Console that the stack does not manage, offered as manifest entries:
one held by a managed, declared entry (a knowledge base of a managed agent) goes into that
entry; with `unmanaged`, a whole top-level one (an agent, a workflow) goes into a new file of
its own, named after its section and key. Their keys are the ones export gives."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bimpe_iac.export.against import file_references, flatten
from bimpe_iac.export.layout import Layout
from bimpe_iac.export.write import dump
from bimpe_iac.manifest import Stack
from bimpe_iac.model.export import Obj
from bimpe_iac.model.sections import holder_of, split_address
from bimpe_iac.state.model import StateDocument


@dataclass
class NewEntries:
    addresses: dict[str, str] = field(default_factory=dict)
    """Each new entry's address, with its id (what pull records in the state)."""
    in_holders: dict[str, Obj] = field(default_factory=dict)
    """Entries to write into their holder's node, by address."""
    files: dict[str, str] = field(default_factory=dict)
    """New files (manifests and the text files they reference) by path in the stack."""
    notes: list[str] = field(default_factory=list)


def _with_held(layout: Layout, address: str) -> Obj:
    data: Any = layout.sections
    for part in split_address(address) or []:
        data = data[part]
    assert isinstance(data, dict)
    return data


def _below(address: str, addresses: dict[str, Any]) -> Iterator[str]:
    yield from (a for a in addresses if a.startswith(address + "."))


def new_file_name(directory: Path, section: str, key: str, taken: set[str]) -> str:
    stem = f"{section}-{key}".replace("/", "-")
    name, number = f"{stem}.yaml", 1
    while (directory / name).exists() or name in taken:
        number += 1
        name = f"{stem}-{number}.yaml"
    return name


def find_new(
    stack: Stack,
    state: StateDocument,
    layout: Layout,
    *,
    unmanaged: bool,
    schema: str | None,
) -> NewEntries:
    found = NewEntries()
    live = flatten(layout, stack.sections)
    managed = {entry.id for entry in state.resources.values()}
    for address, (section, _) in live.items():
        holder = holder_of(address)
        if address in state.resources or layout.ids.get(address) in managed:
            continue
        if holder is not None and holder not in found.addresses and holder not in state.resources:
            continue
        if holder in found.addresses:
            continue  # written with its holder
        if address in stack.resources:
            found.notes.append(
                f"{address}: made in the Console and declared in the manifests, but not in the"
                " state; `plan --adopt` imports it"
            )
            continue
        data = _with_held(layout, address)
        if holder is None:
            if not unmanaged:
                continue
            name = new_file_name(
                stack.directory, section, address.split(".", 1)[1], set(found.files)
            )
            key = (split_address(address) or [address])[-1]
            found.files[name] = dump({section: {key: data}}, schema)
        elif holder in stack.resources:
            found.in_holders[address] = data
        else:
            continue
        found.addresses[address] = layout.ids[address]
        found.addresses |= {a: layout.ids[a] for a in _below(address, live) if a in layout.ids}
        for path in file_references(data):
            if path in layout.files and not (stack.directory / path).exists():
                found.files[path] = layout.files[path]
    return found
