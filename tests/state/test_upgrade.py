"""A state file of version 1 (plain SHA-256 digests of every field, sensitive ones too) reads
as version 2: no plain digest survives, and the leaves that held a sensitive value are known
by their masked text, unverified, until the next apply records them again."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from bimpe_iac.state.codec import decode_state, encode_state
from bimpe_iac.state.digests import UNVERIFIED
from bimpe_iac.state.local import LocalStateStore

SECRET = "oncall-7f3k9@kora.example"


def _plain(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:32]


VERSION_1 = {
    "format": "bimpe-iac-state",
    "version": 1,
    "lineage": "8d2f7c59-8a43-4c8e-9a39-f1d1c1f6b0a1",
    "serial": 3,
    "stack": "kora",
    "environment": "prod",
    "resources": {
        "agents.sales": {
            "kind": "agent",
            "id": "agt_1",
            "values": {
                "name": "Kemi",
                "escalation_email": "(sensitive)",
                "rules": [{"response": "Mail (sensitive) now"}, {"response": "Hello"}],
            },
            "hashes": {
                "name": _plain("Kemi"),
                "escalation_email": _plain(SECRET),
                "rules": _plain([{"response": f"Mail {SECRET} now"}, {"response": "Hello"}]),
            },
        }
    },
    "intents": {
        "agents.other": {
            "operation": "create",
            "idempotency_key": "bimpe-iac-0123",
            "body_hash": _plain({"escalation_email": SECRET}),
            "started_at": "2026-01-01T00:00:00Z",
        }
    },
}


def test_a_version_1_state_reads_without_its_plain_digests(tmp_path: Path) -> None:
    path = tmp_path / "prod.json"
    path.write_text(json.dumps(VERSION_1), encoding="utf-8")
    store = LocalStateStore(path)
    with store:
        doc = store.read("kora", "prod")
    entry = doc.resources["agents.sales"]
    assert doc.version == 2
    assert entry.hashes == {}
    assert entry.sensitive == {"/escalation_email": UNVERIFIED, "/rules/0/response": UNVERIFIED}
    assert entry.key_check is None
    assert entry.values == VERSION_1["resources"]["agents.sales"]["values"]  # type: ignore[index]
    written = encode_state(doc).decode()
    for plain in (*VERSION_1["resources"]["agents.sales"]["hashes"].values(),):  # type: ignore[index]
        assert plain not in written
    assert VERSION_1["intents"]["agents.other"]["body_hash"] not in written  # type: ignore[index]
    assert decode_state(written.encode()) == doc
