"""The sections of a manifest: where each kind of resource is written, and its address.

A section is declared by its kind's module (`resources/`); the manifest loader, the address
rules, state edits and export read them here instead of knowing any kind by name. A section
`within` another is written inside each entry of its holder (an agent's `knowledge_bases:`)
and its addresses extend the holder's: `agents.support.knowledge_bases.faq`.

An address is pairs of a section and a key, after the uses of modules it is declared in:
`module.brand_a.agents.support.knowledge_bases.faq`. A key is a plain word, an instance of a
`for_each` (`regional["ng"]`), or any other text in quotes (`phone_numbers."+2348012345678"`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bimpe_iac.model.views import StackView, StateEntry

_PLAIN = re.compile(r"^[A-Za-z0-9_-]+$")
_INSTANCE = re.compile(r'^[A-Za-z0-9_-]+\["[^"\\]*"\]$')
_INSTANCE_SUFFIX = re.compile(r'\["[^"\\]*"\]')
_PART = re.compile(r'"([^"]*)"|([A-Za-z0-9_-]+\["[^"\\]*"\])|([^."]+)')
MODULE = "module"
"""The word before the name of a use of a module in an address: `module.brand_a.agents.x`."""


def instance_key(key: str, each: str) -> str:
    """The key of one instance of a `for_each`: `regional["ng"]`."""
    return f'{key}["{each}"]'


def instances_of(address: str, addresses: Iterable[str]) -> list[str]:
    """The instances of the for_each at `address` among `addresses`: `agents.regional["ng"]`
    and `agents.regional["gh"]` for `agents.regional`."""
    return sorted(
        a
        for a in addresses
        if a.startswith(f'{address}["') and _INSTANCE_SUFFIX.fullmatch(a, len(address))
    )


def join_address(*parts: str) -> str:
    """`agents.bot.knowledge_bases.faq`, quoting keys that are neither plain words nor
    instances: `phone_numbers."+2348012345678"`."""
    return ".".join(
        part if _PLAIN.match(part) or _INSTANCE.match(part) else f'"{part}"' for part in parts
    )


def split_address(address: str) -> list[str] | None:
    """The parts of an address (quotes removed), or None when it is not well formed."""
    parts: list[str] = []
    at = 0
    while True:
        match = _PART.match(address, at)
        if match is None:
            return None
        parts.append(next(group for group in match.groups() if group is not None))
        at = match.end()
        if at == len(address):
            return parts
        if address[at] != ".":
            return None
        at += 1


@dataclass(frozen=True, slots=True)
class Entry:
    """One resource the manifests declare: its address, its key in its section, its spec, and
    the address of the resource holding it (None for a top-level one)."""

    address: str
    section: str
    key: str
    spec: Any
    holder: str | None = None
    module: str = ""
    """The address of the use of a module that declares it (`module.brand_a`); "" for the
    stack's own resources."""

    def refers_to(self, section: str, key: str) -> str:
        """The address of entry `key` of top-level `section` beside this one: in the same
        module, where a reference written in a resource names it."""
        return in_module(self.module, section, key)


@dataclass(frozen=True, slots=True)
class Reference:
    """A field of a section's entries that holds the key of an entry of another section."""

    field: str
    section: str
    hint: str = ""
    """Added to the error when the key names nothing (how else to write the reference)."""


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem a section's `check` finds in one entry: at `field` of the entry (its key when
    None). With `first`, the key of an earlier entry the problem is about, the message is
    followed by `: first declared at FILE:LINE:COLUMN` of that entry."""

    key: str
    message: str
    field: str | None = None
    first: str | None = None


EntriesCheck = Callable[[Mapping[str, Any]], list[Finding]]
"""A check across a top-level section's entries, by key, as written (after interpolation)."""
ImpliedMoves = Callable[["StackView", "Mapping[str, StateEntry]"], list[tuple[str, str]]]
"""Renames (old address, new address) that the stack and the state imply without a `moved:`
block; followed as `moved:` blocks are, after them."""


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    """The YAML key of the section, and the word for it in addresses (`knowledge_bases`)."""
    spec: Any
    """The pydantic type of one entry (a model, or an annotated union of models)."""
    noun: str
    """One entry, in messages: `knowledge base`."""
    within: str | None = None
    """The section whose entries hold this one's; None for a top-level section."""
    key: Any = None
    """The pydantic type of an entry's key; None for the manifest's plain `Key`."""
    description: str = ""
    """The section's description in the JSON Schema."""
    references: tuple[Reference, ...] = ()
    movable: bool = True
    """Whether `moved:` and `state mv` may give an entry a new key."""
    count_name: str | None = None
    """The section's name in counts (`phone_links`); the section's name when unset."""
    plural: str | None = None
    """The noun for several entries (`phone links`); the noun with an `s` when unset."""
    export: Callable[..., Any] | None = None
    """How `export` writes the section's entries (`model/export.py`), when it does."""
    check: EntriesCheck | None = None
    """What validation checks across the entries, beyond each entry's own spec."""
    implied_moves: ImpliedMoves | None = None
    identity: Callable[[str, Any], str | None] | None = None
    """The object in BimpeAI an entry names by itself, from its key and its data as written
    (a phone number), which the stack and its uses of modules may declare only once."""
    manifest_keys: tuple[tuple[str, str], ...] = ()
    """The manifest key of each value field named otherwise: a field of the entry's kind
    (`workflow_id` -> `workflow`), or `ATTRIBUTE.FIELD` of an address under the entry that
    another kind manages from the entry's fields (`live_status.status` -> `live_status`)."""

    @property
    def counted_as(self) -> str:
        return self.count_name or self.name

    @property
    def nouns(self) -> str:
        return self.plural or f"{self.noun}s"


class Sections:
    """Every section of the manifest, in the order the registry lists them."""

    def __init__(self, sections: Iterable[Section]) -> None:
        self._all = tuple(sections)
        self._by_name = {section.name: section for section in self._all}
        for section in self._all:
            if section.within is not None and section.within not in self._by_name:
                raise ValueError(f"section {section.name} is within unknown {section.within}")

    def __iter__(self) -> Iterator[Section]:
        return iter(self._all)

    def __getitem__(self, name: str) -> Section:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def top(self) -> tuple[Section, ...]:
        return tuple(s for s in self._all if s.within is None)

    def held_by(self, name: str) -> tuple[Section, ...]:
        return tuple(s for s in self._all if s.within == name)

    def chain(self, name: str) -> tuple[str, ...]:
        """The section names from the top down to `name`: knowledge_bases -> (agents, ...)."""
        names = [name]
        while (within := self._by_name[names[-1]].within) is not None:
            names.append(within)
        return tuple(reversed(names))

    def shape(self, name: str) -> str:
        """How an address of the section is written: `agents.KEY.knowledge_bases.KEY`."""
        return ".".join(f"{n}.KEY" for n in self.chain(name))

    def shapes(self, movable_only: bool = False) -> list[str]:
        return [self.shape(s.name) for s in self._all if s.movable or not movable_only]

    def section_of(self, address: str) -> Section | None:
        """The section an address belongs to, or None when it is not one of a section's."""
        parts = split_address(address)
        if parts is None:
            return None
        parts = parts[2 * _module_pairs(parts) :]
        if len(parts) < 2 or len(parts) % 2:
            return None
        names = tuple(parts[0::2])
        if any(not key for key in parts[1::2]) or names[-1] not in self._by_name:
            return None
        return self._by_name[names[-1]] if self.chain(names[-1]) == names else None

    def address(self, section: str, key: str, holder: str | None = None, module: str = "") -> str:
        """The address of entry `key` of `section`, within the entry at `holder` (or at the
        top of the use of a module at `module`)."""
        return in_module(holder or module, section, key)


def in_module(module: str, section: str, key: str) -> str:
    """The address of entry `key` of `section` under `module` (an address; "" for none)."""
    own = join_address(section, key)
    return f"{module}.{own}" if module else own


def _module_pairs(parts: list[str]) -> int:
    """How many `module.NAME` pairs an address's parts start with."""
    count = 0
    while len(parts) > 2 * count + 1 and parts[2 * count] == MODULE:
        count += 1
    return count


def module_of(address: str) -> str:
    """The use of a module an address is declared in (`module.brand_a` for
    `module.brand_a.agents.bot`), or "" for the stack's own."""
    parts = split_address(address)
    if parts is None:
        return ""
    return join_address(*parts[: 2 * _module_pairs(parts)]) if _module_pairs(parts) else ""


def holder_of(address: str) -> str | None:
    """The address holding `address` (`agents.bot` for `agents.bot.knowledge_bases.faq`)."""
    parts = split_address(address)
    if parts is None or len(parts) - 2 * _module_pairs(parts) <= 2:
        return None
    return join_address(*parts[:-2])


def key_of(address: str) -> str:
    """The key of the entry at `address` (`faq` for `agents.bot.knowledge_bases.faq`)."""
    parts = split_address(address)
    return parts[-1] if parts else address


def top_of(address: str) -> str:
    """The top-level address an address is under (`agents.bot` for
    `agents.bot.custom_apis.orders.tools.get_order`; `module.a.agents.bot` in a module),
    or itself."""
    parts = split_address(address)
    if not parts:
        return address
    end = 2 * _module_pairs(parts) + 2
    return join_address(*parts[:end]) if len(parts) >= end else address
