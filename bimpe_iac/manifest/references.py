"""Checks across resources: every reference names something declared in this environment
(an instance of a `for_each` by its instance key), and `moved` blocks describe renames that
can be followed without going round in circles."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bimpe_iac.manifest.fields import KEY_OR_INSTANCE_PATTERN
from bimpe_iac.manifest.issues import DataPath, did_you_mean
from bimpe_iac.manifest.models import MovedBlock
from bimpe_iac.manifest.resources import Declared
from bimpe_iac.manifest.stack import entries_of
from bimpe_iac.manifest.yaml_loader import Document
from bimpe_iac.model.issues import Issue
from bimpe_iac.model.sections import Section, Sections

_KEY = re.compile(KEY_OR_INSTANCE_PATTERN)


@dataclass(frozen=True)
class PlacedMove:
    """A `moved` block and where it is written; in a module's file, `block` holds the
    addresses in the stack, and `use` says which use of the module it comes from."""

    block: MovedBlock
    document: Document
    index: int
    use: Use | None = None

    def issue(self, field: str, message: str) -> Issue:
        issue = self.document.issue(("moved", self.index, field), message)
        return self.use.tag(issue) if self.use else issue


@dataclass(frozen=True)
class Use:
    """A use of a module, as its files' problems name it: `module.brand_a`, used at a place in
    stack.yaml."""

    address: str
    used_at: str
    """`stack/stack.yaml:12:5`."""

    def tag(self, issue: Issue) -> Issue:
        address = f"{self.address}.{issue.address}" if issue.address else self.address
        note = f" (in {self.address}, used at {self.used_at})"
        return replace(issue, address=address, message=issue.message + note)


def check_references(
    resources: Mapping[tuple[str, str], Declared],
    sections: Sections,
    unavailable: Mapping[tuple[str, str], str] | None = None,
) -> list[Issue]:
    """Every reference names a resource declared beside it (in the same use of a module).
    `unavailable` says why a reference cannot name a key written but not declared here
    (`(section, key)` -> `is disabled here (enabled: false)`)."""
    issues: list[Issue] = []
    unavailable = unavailable or {}
    keys: dict[str, list[str]] = {}
    for name, key in resources:
        keys.setdefault(name, []).append(key)
    for declared in resources.values():
        for section, path, data in _written(declared, sections):
            # Checked on the data as written, so a reference is checked even when something
            # else in the resource is invalid.
            for reference in section.references:
                value = data.get(reference.field)
                if not (isinstance(value, str) and _KEY.match(value)):
                    continue
                known = sorted(keys.get(reference.section, []))
                if value in known:
                    continue
                noun = sections[reference.section].noun
                why = unavailable.get((reference.section, value))
                if why is not None:
                    message = f"{noun} '{value}' {why}"
                else:
                    hint = did_you_mean(value, known) or reference.hint
                    message = f"unknown {noun} '{value}'{hint}"
                issues.append(declared.document.issue((*path, reference.field), message))
    issues += _check_sections(resources, sections)
    issues += _plain_and_instances(resources, sections)
    return issues


def _check_sections(
    resources: Mapping[tuple[str, str], Declared], sections: Sections
) -> list[Issue]:
    """What each top-level section's own `check` finds across its entries."""
    issues: list[Issue] = []
    for section in sections.top:
        if section.check is None:
            continue
        written = {key: d for (name, key), d in resources.items() if name == section.name}
        for found in section.check({key: declared.data for key, declared in written.items()}):
            declared = written[found.key]
            message = found.message
            if found.first is not None:
                message += f": first declared at {written[found.first].where}"
            if found.field is None:
                issues.append(declared.document.issue(declared.path, message, at_key=True))
            else:
                issues.append(declared.document.issue((*declared.path, found.field), message))
    return issues


def _plain_and_instances(
    resources: Mapping[tuple[str, str], Declared], sections: Sections
) -> list[Issue]:
    """A key declared both plain and with for_each (in two files) would leave `regional` a
    resource and the name of instances at once."""
    issues: list[Issue] = []
    for section, key in {(s, k.partition('["')[0]) for s, k in resources if '["' in k}:
        plain = resources.get((section, key))
        if plain is None:
            continue
        template = next(
            d for (s, k), d in resources.items() if s == section and k.startswith(f'{key}["')
        )
        noun = sections[section].noun
        message = f"{noun} '{key}' is also declared with for_each at {template.where}"
        issues.append(plain.document.issue(plain.path, message, at_key=True))
    return issues


def _written(
    declared: Declared, sections: Sections
) -> Iterator[tuple[Section, DataPath, dict[str, Any]]]:
    """Each resource written in a declared one, as data: itself and what it holds."""

    def walk(section: Section, path: DataPath, data: Any) -> Iterator[Any]:
        if not isinstance(data, dict):
            return
        yield section, path, data
        for held in sections.held_by(section.name):
            children = data.get(held.name)
            for key, child in children.items() if isinstance(children, dict) else ():
                yield from walk(held, (*path, held.name, key), child)

    yield from walk(sections[declared.section], declared.path, declared.data)


def declared_addresses(
    resources: Mapping[tuple[str, str], Declared], sections: Sections, module: str = ""
) -> set[str]:
    """Every declared address (under the use of a module at `module`): the valid resources
    with what they hold, and the invalid ones by their own address."""
    specs: dict[str, dict[str, Any]] = {}
    addresses = set()
    for (section, key), declared in resources.items():
        if declared.spec is not None:
            specs.setdefault(section, {})[key] = declared.spec
        else:
            addresses.add(sections.address(section, key, module=module))
    return addresses | set(entries_of(sections, specs, module))


def _kind(address: str, sections: Sections) -> str | None:
    found = sections.section_of(address)
    return found.name if found else None


def check_moves(
    addresses: set[str], moves: Sequence[PlacedMove], sections: Sections
) -> list[Issue]:
    """The renames `moves` describe can be followed: each between declared `addresses` of one
    kind, each old address once, and none going round in a cycle."""
    issues: list[Issue] = []
    sources: dict[str, PlacedMove] = {}
    *others, last = sections.shapes(movable_only=True)
    movable = f"{', '.join(others)} or {last}" if others else last
    for move in moves:
        source, target = move.block.from_, move.block.to
        unmovable = [
            (field, address)
            for field, address in (("from", source), ("to", target))
            if not ((found := sections.section_of(address)) and found.movable)
        ]
        if unmovable:
            field, address = unmovable[0]
            message = f"'{address}' is not a resource address: write {movable}"
            issues.append(move.issue(field, message))
            continue
        if source in sources:
            issues.append(move.issue("from", f"{source} is already moved by an earlier block"))
            continue
        sources[source] = move
        if _kind(source, sections) != _kind(target, sections):
            issues.append(
                move.issue(
                    "to", f"cannot move {source} to {target}: a move keeps the kind of resource"
                )
            )
        elif source in addresses:
            issues.append(
                move.issue(
                    "from", f"{source} is still declared; a move's 'from' is the old address"
                )
            )
    for move in moves:
        target = move.block.to
        if target not in addresses and target not in sources:
            issues.append(move.issue("to", f"{target} is not declared in this stack"))
    issues += _cycles(sources)
    return issues


def _cycles(sources: Mapping[str, PlacedMove]) -> list[Issue]:
    issues: list[Issue] = []
    reported: set[str] = set()
    for start in sources:
        chain = [start]
        while (current := sources[chain[-1]].block.to) in sources and current not in chain:
            chain.append(current)
        target = sources[chain[-1]].block.to
        if target in chain and not reported & set(chain):
            cycle = [*chain[chain.index(target) :], target]
            reported.update(cycle)
            issues.append(sources[cycle[-2]].issue("to", "reference cycle: " + " -> ".join(cycle)))
    return issues
