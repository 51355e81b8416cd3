"""Idempotency keys for creates: the same stack, environment, lineage, address, create count
and body always give the same key, so a retry or a rerun after a crash replays the first create
instead of making a duplicate; a deliberate re-create (a later generation) gets a new key."""

from __future__ import annotations

import hashlib
from typing import Any

from bimpe_iac.state.model import value_hash


def create_key(
    *, stack: str, environment: str, lineage: str, address: str, generation: int, body: Any
) -> str:
    material = "\x1f".join(
        [stack, environment, lineage, address, str(generation), value_hash(body)]
    )
    return "bimpe-iac-" + hashlib.sha256(material.encode()).hexdigest()[:40]
