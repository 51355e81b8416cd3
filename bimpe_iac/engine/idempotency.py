"""Idempotency keys for creates: the same stack, environment, lineage, address, create count
and body always give the same key, so a retry or a rerun after a crash replays the first create
instead of making a duplicate; a deliberate re-create (a later generation) gets a new key.

The body may hold a sensitive value, and the key is sent to BimpeAI and kept in the state while
the create is under way: it is a keyed digest (`state/digests.py`), so that it cannot be used to
test a guess of that value. A rerun with another API key makes other keys."""

from __future__ import annotations

from typing import Any

from bimpe_iac.state.digests import Digests
from bimpe_iac.state.model import value_hash


def create_key(
    *,
    stack: str,
    environment: str,
    lineage: str,
    address: str,
    generation: int,
    body: Any,
    digests: Digests,
) -> str:
    material = "\x1f".join(
        [stack, environment, lineage, address, str(generation), value_hash(body)]
    )
    return "bimpe-iac-" + digests.idempotency(material)[:40]
