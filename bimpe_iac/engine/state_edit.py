"""Edits of a state document that keep it whole: renaming an address, or forgetting one, takes
its children along (an agent's knowledge bases, actions and live status), and a rename also
rewrites the `depends_on` that name it. Nothing here touches BimpeAI."""

from __future__ import annotations

from collections.abc import Iterable

from bimpe_iac.errors import StateError
from bimpe_iac.manifest.issues import did_you_mean
from bimpe_iac.model.plan import Move
from bimpe_iac.model.sections import Sections, holder_of
from bimpe_iac.state.model import StateDocument


def _not_movable(sections: Sections) -> str:
    *others, last = sections.shapes(movable_only=True)
    fixed = [f"{s.noun}'s address" for s in sections if not s.movable]
    return (
        f"only {', '.join(others)} and {last} move; the entries under an address"
        " (an agent's actions) move with it" + "".join(f", and a {noun} is fixed" for noun in fixed)
    )


def _children(document: StateDocument, address: str) -> list[str]:
    return sorted(a for a in document.resources if a.startswith(address + "."))


def _check_present(document: StateDocument, address: str) -> None:
    if address not in document.resources:
        hint = did_you_mean(address, sorted(document.resources))
        raise StateError(f"{address} is not in the state{hint}")


def moves_for(document: StateDocument, old: str, new: str, sections: Sections) -> tuple[Move, ...]:
    """The renames that moving `old` to `new` makes, children included; StateError when the
    move is not possible."""
    _check_present(document, old)
    found = [sections.section_of(address) for address in (old, new)]
    if not all(section is not None and section.movable for section in found):
        raise StateError(f"cannot move {old} to {new}: {_not_movable(sections)}")
    if found[0] != found[1]:
        raise StateError(f"cannot move {old} to {new}: a move keeps the kind of resource")
    holder = holder_of(old)
    section = found[0]
    if holder is not None and section is not None and holder_of(new) != holder:
        within = sections[section.within or ""].noun
        raise StateError(
            f"cannot move {old} to {new}: a {section.noun} stays with its {within} ({holder})"
        )
    moves = (Move(old, new), *(Move(a, new + a[len(old) :]) for a in _children(document, old)))
    taken = [m.target for m in moves if m.target in document.resources]
    if taken:
        raise StateError(f"cannot move {old} to {new}: {taken[0]} is already in the state")
    return moves


def rename(document: StateDocument, moves: Iterable[Move]) -> tuple[Move, ...]:
    """Apply each move whose source is in the state and whose target is not (so applying the
    same moves again does nothing); the moves done."""
    done = []
    for move in moves:
        if move.target in document.resources:
            continue
        if move.source not in document.resources:
            # A create whose answer was lost has only its intent: that moves all the same.
            if move.source in document.intents and move.target not in document.intents:
                document.intents[move.target] = document.intents.pop(move.source)
                done.append(move)
            continue
        entry = document.resources.pop(move.source)
        # Generations only grow at an address, so no later create there reuses an earlier key.
        if entry.generation:
            document.generations[move.source] = entry.generation
        entry.generation = max(entry.generation, document.generations.pop(move.target, 0))
        document.resources[move.target] = entry
        intent = document.intents.pop(move.source, None)
        if intent is not None:
            document.intents[move.target] = intent
        done.append(move)
    renamed = {move.source: move.target for move in done}
    for entry in document.resources.values():
        entry.depends_on = [renamed.get(address, address) for address in entry.depends_on]
    return tuple(done)


def forget(document: StateDocument, address: str) -> list[str]:
    """Drop `address` and its children from the state; the addresses forgotten."""
    _check_present(document, address)
    gone = [address, *_children(document, address)]
    for name in gone:
        entry = document.resources.pop(name)
        if entry.generation:
            document.generations[name] = entry.generation
        document.intents.pop(name, None)
    return gone
