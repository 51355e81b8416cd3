"""Edits of a state document that keep it whole: renaming an address, or forgetting one, takes
its children along (an agent's knowledge bases, actions and live status), and a rename also
rewrites the `depends_on` that name it. Nothing here touches BimpeAI."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bimpe_iac.errors import StateError
from bimpe_iac.manifest.issues import did_you_mean
from bimpe_iac.manifest.models import ADDRESS_PATTERN
from bimpe_iac.model.plan import Move
from bimpe_iac.state.model import StateDocument

_MOVABLE = re.compile(ADDRESS_PATTERN)
_NOT_MOVABLE = (
    "only workflows.KEY, agents.KEY and agents.KEY.knowledge_bases.KEY move; an agent's actions"
    " and live_status move with it, and a phone link's address is its number"
)


def _shape(address: str) -> list[str]:
    """The collection names in an address: agents.a.knowledge_bases.b -> agents, knowledge_bases."""
    return address.split(".")[0::2]


def _children(document: StateDocument, address: str) -> list[str]:
    return sorted(a for a in document.resources if a.startswith(address + "."))


def _check_present(document: StateDocument, address: str) -> None:
    if address not in document.resources:
        hint = did_you_mean(address, sorted(document.resources))
        raise StateError(f"{address} is not in the state{hint}")


def moves_for(document: StateDocument, old: str, new: str) -> tuple[Move, ...]:
    """The renames that moving `old` to `new` makes, children included; StateError when the
    move is not possible."""
    _check_present(document, old)
    for address in (old, new):
        if not _MOVABLE.match(address):
            raise StateError(f"cannot move {old} to {new}: {_NOT_MOVABLE}")
    if _shape(old) != _shape(new):
        raise StateError(f"cannot move {old} to {new}: a move keeps the kind of resource")
    parent = old.split(".")[:2]
    if len(_shape(old)) > 1 and new.split(".")[:2] != parent:
        raise StateError(
            f"cannot move {old} to {new}: a knowledge base stays with its agent"
            f" ({'.'.join(parent)})"
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
