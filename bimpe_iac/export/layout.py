"""Lay a team out as manifest data, section by section: each kind lays out its own objects
(`export` on its section), top-level sections first and then what each entry holds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from bimpe_iac.model.export import ExportContext, Exported, ExportedTeam, Obj
from bimpe_iac.model.sections import Sections, holder_of, key_of


@dataclass(frozen=True)
class Layout:
    """Manifest data of each top-level section by key, how many entries each section got,
    the text files they reference by path, and what the user should know."""

    sections: dict[str, dict[str, Obj]]
    counts: tuple[tuple[int, str, str], ...] = ()
    """(count, noun, plural) of each section, in the registry's order."""
    files: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    variables: dict[str, str] = field(default_factory=dict)
    """Sensitive vars the written stack reads and the user must set, with what each is for."""
    ids: dict[str, str] = field(default_factory=dict)
    """The id of the object at each address."""

    def section(self, name: str) -> dict[str, Obj]:
        return self.sections.get(name, {})

    def summary(self) -> str:
        return ", ".join(f"{n} {noun if n == 1 else plural}" for n, noun, plural in self.counts)


def _keyed(
    entries: list[Exported],
    section: str,
    holder: Exported | None,
    sections: Sections,
    known: Mapping[tuple[str, str], str],
) -> list[Exported]:
    """`entries` at the addresses `known` gives their ids under this holder; the others keep
    the keys made from their names, with `-2`, `-3`, ... where a known one has that key.
    An entry known at an address no key of this section gives is left out."""
    within = holder.address if holder is not None else None

    def address(key: str) -> str:
        return sections.address(section, key, within)

    kept = {
        entry.id: found
        for entry in entries
        if (found := known.get((section, entry.id))) is not None and holder_of(found) == within
    }
    taken = set(kept.values())
    out = []
    for entry in entries:
        place = kept.get(entry.id)
        if place is not None and address(key_of(place)) != place:
            continue  # declared through a construct (a module's use) export does not write
        key = entry.key if place is None else key_of(place)
        number = 1
        while place is None and address(key) in taken:
            number += 1
            key = f"{entry.key}-{number}"
        taken.add(address(key))
        out.append(replace(entry, key=key, address=address(key)))
    return sorted(out, key=lambda entry: entry.key)


def _left_out(known: Mapping[tuple[str, str], str], sections: Sections) -> frozenset[str]:
    """The ids of the top-level objects known at an address no key gives (a module's use, an
    instance of a for_each): the stack declares them through a construct export does not
    write, so no kind lays them out (nor warns about them)."""
    return frozenset(
        id
        for (section, id), place in known.items()
        if holder_of(place) is None and sections.address(section, key_of(place), None) != place
    )


def _without(team: ExportedTeam, ids: frozenset[str]) -> ExportedTeam:
    top = {
        name: [o for o in objects if o.get("id") not in ids] for name, objects in team.top.items()
    }
    return ExportedTeam(top, team.children)


def lay_out(
    team: ExportedTeam,
    sections: Sections,
    *,
    selected: frozenset[str] | None = None,
    known: Mapping[tuple[str, str], str] | None = None,
) -> Layout:
    """`known`: the address of each object a state manages, by (section, id): those objects
    keep their addresses, and the others get keys from their names."""
    known = known or {}
    context = ExportContext(team=_without(team, _left_out(known, sections)), selected=selected)
    counts = dict.fromkeys((s.name for s in sections), 0)
    ids: dict[str, str] = {}

    def export(name: str, holder: Exported | None) -> dict[str, Obj]:
        section = sections[name]
        if section.export is None:
            return {}
        made: list[Exported] = section.export(context, holder)
        entries = _keyed(made, name, holder, sections, known)
        context.keys.setdefault(name, {}).update({e.id: e.key for e in entries})
        counts[name] += len(entries)
        ids.update({e.address: e.id for e in entries})
        out: dict[str, Obj] = {}
        for entry in entries:
            for held in sections.held_by(name):
                nested = export(held.name, entry)
                if nested:
                    entry.data[held.name] = nested
            out[entry.key] = entry.data
        return out

    laid_out = {section.name: export(section.name, None) for section in sections.top}
    return Layout(
        sections=laid_out,
        counts=tuple((counts[s.name], s.noun, s.nouns) for s in sections if s.export is not None),
        files=dict(sorted(context.files.items())),
        warnings=tuple(context.warnings),
        variables=dict(context.variables),
        ids=ids,
    )
