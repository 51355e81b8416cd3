"""Same-name twins. When no state manages a live object, a create of the same kind and name
(the same agent, for a knowledge base) would make a second one beside it: most often because
the state was lost. Such a create is refused before any change, naming the live object, until
the user chooses: `--adopt` manages the live object, `--allow-duplicates` creates another.
Names are matched as adoption matches them (`engine/adopt.namesakes`)."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from bimpe_iac.engine.adopt import namesakes
from bimpe_iac.model.issues import Issue
from bimpe_iac.model.kind import PlanContext, ResourceKind
from bimpe_iac.model.plan import Desired

_CHOICE = "use --adopt to manage it, or --allow-duplicates to create another"


def find_twins(
    kinds: Mapping[str, ResourceKind],
    desired: Mapping[str, Desired],
    context: PlanContext,
    pending: Collection[str] = (),
) -> list[Issue]:
    """An issue at each resource the plan would create beside an unmanaged namesake.

    `pending`: addresses whose create was sent but never recorded (the state's intents), as
    after a crash: sending it again with its idempotency key returns the object it made."""
    managed = {(entry.kind, entry.id) for entry in context.state.values()}
    issues = []
    for address, want in sorted(desired.items()):
        name = want.values.get("name")
        kind = kinds[want.kind]
        # Actions, live status and phone links have no name: they belong to their parent.
        if not isinstance(name, str) or address in context.state or address in pending:
            continue
        if kind.read(address, None, context) is not None:
            continue
        parent_id = context.state_id(want.parent) if want.parent is not None else None
        if want.parent is not None and parent_id is None:
            continue  # a new parent has no children yet
        ids = namesakes(kind, want, parent_id, context, managed)
        if ids:
            noun = kind.name.replace("_", " ")
            article = "an" if noun[0] in "aeiou" else "a"
            message = (
                f"{article} {noun} named {context.stack.mask(repr(name))} already exists"
                f" ({', '.join(sorted(ids))}) and the state does not manage it: {_CHOICE}"
            )
            issues.append(context.stack.issue_at(address, message))
    return issues
