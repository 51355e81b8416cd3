"""`moved:` blocks: before planning, the state entry at a block's `from` (and its children's)
is renamed to its `to`, so a renamed key is planned as the same resource, not destroyed and
created again. The plan carries the renames; apply writes them to the state first.

A chain (a -> b, b -> c) goes to its end. Agents and workflows move before knowledge bases, so
a knowledge base block may name its agent's new address.

A section may imply renames without a block (`Section.implied_moves`: a phone link whose E.164
key became a logical key with the same number); they are followed as blocks are, except that
a block moving the same address wins.
"""

from __future__ import annotations

from collections.abc import Sequence

from bimpe_iac.engine.state_edit import moves_for, rename
from bimpe_iac.errors import PlanError, StateError
from bimpe_iac.manifest import MovedBlock, Stack
from bimpe_iac.model.plan import Move
from bimpe_iac.model.sections import Sections
from bimpe_iac.state.model import StateDocument


def _end(address: str, following: dict[str, str]) -> str:
    seen = {address}
    while address in following and following[address] not in seen:
        address = following[address]
        seen.add(address)
    return address


def stack_moves(stack: Stack, state: StateDocument) -> list[MovedBlock]:
    """The stack's `moved:` blocks, then the renames its sections imply from `state`."""
    moved = {block.from_ for block in stack.moved}
    implied = [
        MovedBlock.model_validate({"from": source, "to": target})
        for section in stack.sections
        if section.implied_moves is not None
        for source, target in section.implied_moves(stack, state.resources)
        if source not in moved
    ]
    return [*stack.moved, *implied]


def follow_moved(
    blocks: Sequence[MovedBlock], state: StateDocument, sections: Sections
) -> tuple[StateDocument, tuple[Move, ...]]:
    """The state with the blocks' renames made (a copy: `state` is left as it is), and those
    renames, first address to last. PlanError when a rename is not possible."""
    if not blocks:
        return state, ()
    document = state.model_copy(deep=True)
    following = {block.from_: block.to for block in blocks}
    origin: dict[str, str] = {}
    for depth in sorted({block.from_.count(".") for block in blocks}):
        sources = [
            b.from_ for b in blocks if b.from_.count(".") == depth and b.from_ in document.resources
        ]
        arriving: dict[str, str] = {}
        for source in sources:
            target = _end(source, following)
            if target in document.resources:
                raise PlanError(
                    f"moved: {source} cannot move to {target}, which the state holds already;"
                    f" forget one of them with `bimpe-iac state rm`, or remove the block"
                )
            if target in arriving:
                raise PlanError(
                    f"moved: both {arriving[target]} and {source} would move to {target};"
                    f" forget one of them with `bimpe-iac state rm`"
                )
            arriving[target] = source
        for target, source in arriving.items():
            try:
                moves = moves_for(document, source, target, sections)
            except StateError as error:
                raise PlanError(f"moved: {error}") from None
            for move in rename(document, moves):
                origin[move.target] = origin.pop(move.source, move.source)
    pending = [b.from_ for b in blocks if b.from_ in document.intents]
    for source in sorted(pending):
        # Only an intent (a create whose answer was lost) is there: it follows the block.
        for move in rename(document, (Move(source, _end(source, following)),)):
            origin[move.target] = origin.pop(move.source, move.source)
    return document, tuple(Move(source, target) for target, source in sorted(origin.items()))
