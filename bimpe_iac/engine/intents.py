"""Pending creates (the state's intents): a create is recorded before it is sent, with its
idempotency key, its body and its parent; when its answer never came (a lost connection, a
killed run), the next run finds what it made before creating anything, so one address never
gets two objects.

Planning looks in the live listing for the one unmanaged object of the kind, parent and name
the create was sent with (`find_intended`): the plan then imports it and updates what the
manifests changed since, or deletes it when destroying. Otherwise apply sends the recorded
request again, same key and same body (`Executor`): BimpeAI replays its stored answer, which
names the object (or makes it now, if the first request never arrived); an object since
deleted by hand is made anew under a new key (`ResourceKind.exists`).
"""

from __future__ import annotations

from collections.abc import Mapping

from bimpe_iac.engine.adopt import namesakes
from bimpe_iac.model.kind import PlanContext, ResourceKind
from bimpe_iac.model.plan import Desired
from bimpe_iac.state.model import Intent, ResourceState


def find_intended(
    kinds: Mapping[str, ResourceKind], context: PlanContext, intents: Mapping[str, Intent]
) -> dict[str, ResourceState]:
    """For each pending create the state does not manage, the state entry of the live object
    it made, when the listing holds exactly one unmanaged object sent as it was."""
    managed = {(entry.kind, entry.id) for entry in context.state.values()}
    found: dict[str, ResourceState] = {}
    for address, intent in sorted(intents.items()):
        name = intent.kind
        if address in context.state or intent.body is None or name is None or name not in kinds:
            continue
        if not isinstance(intent.body.get("name"), str):
            continue  # actions and statuses belong to their agent: nothing to tell apart
        sent = Desired(address=address, kind=name, values=intent.body)
        ids = namesakes(kinds[name], sent, intent.parent_id, context, managed)
        if len(ids) == 1 and (name, ids[0]) not in managed:
            managed.add((name, ids[0]))
            found[address] = ResourceState(kind=name, id=ids[0], parent_id=intent.parent_id)
    return found
