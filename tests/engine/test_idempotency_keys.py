"""Idempotency keys are sent to BimpeAI and kept in the state while a create is under way, and
the body they are made from may hold a sensitive value: they are keyed by the API key, so the
same create gives the same key only under the same API key, and no guess of the value can be
tested against one offline (as it could against the unkeyed SHA-256 they used to be)."""

from __future__ import annotations

import hashlib

from bimpe_iac.engine.idempotency import create_key
from bimpe_iac.state.digests import Digests
from bimpe_iac.state.model import value_hash


def key_of(description: str, api_key: str = "sk_emu_one") -> str:
    body = {"name": "A", "business_description": description}
    return create_key(
        stack="s",
        environment="e",
        lineage="l",
        address="agents.a",
        generation=0,
        body=body,
        digests=Digests(api_key, "l"),
    )


def test_the_same_create_under_the_same_key_gives_the_same_key() -> None:
    one = key_of("4821")
    assert one == key_of("4821")
    assert one != key_of("4821", api_key="sk_emu_two")
    assert one.startswith("bimpe-iac-") and len(one) == len("bimpe-iac-") + 40


def test_a_pin_in_the_body_cannot_be_guessed_from_the_key() -> None:
    key = key_of("4821")
    for pin in range(10_000):
        body = {"name": "A", "business_description": f"{pin:04d}"}
        material = "\x1f".join(["s", "e", "l", "agents.a", "0", value_hash(body)])
        assert hashlib.sha256(material.encode()).hexdigest()[:40] not in key
