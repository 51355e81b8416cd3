"""State documents written by an older bimpe-iac, brought to the current version as they are
read (the next write stores the new form). Each step takes the raw JSON of one version to the
next; steps are only ever appended.

Version 1 kept a plain SHA-256 digest of every field, sensitive ones too, from which a short
secret can be guessed offline. Version 2 keeps keyed digests of sensitive fields only
(`state/digests.py`) and names the leaves that held a sensitive value. A version 1 document
says which leaves those were only by their masked text ("(sensitive)" in them): they become
unverified sensitive leaves, always hidden, and their fields' drift cannot be checked until the
next apply records them again. Every plain digest is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from bimpe_iac.manifest.stack import SENSITIVE_MASK
from bimpe_iac.state.digests import UNVERIFIED
from bimpe_iac.state.pointers import leaves


def _masked_leaves(values: dict[str, Any]) -> list[str]:
    return [p for p, leaf in leaves(values) if isinstance(leaf, str) and SENSITIVE_MASK in leaf]


def _v1_to_v2(raw: dict[str, Any]) -> dict[str, Any]:
    resources = raw.get("resources")
    if isinstance(resources, dict):
        for entry in resources.values():
            if not isinstance(entry, dict):
                continue
            values = entry.get("values")
            masked = _masked_leaves(values) if isinstance(values, dict) else []
            entry["hashes"] = {}
            entry["sensitive"] = dict.fromkeys(masked, UNVERIFIED)
            entry["key_check"] = None
    intents = raw.get("intents")
    if isinstance(intents, dict):
        for intent in intents.values():
            if isinstance(intent, dict) and "body_hash" in intent:
                intent["body_hash"] = ""
    return {**raw, "version": 2}


STEPS: Final[dict[int, Callable[[dict[str, Any]], dict[str, Any]]]] = {1: _v1_to_v2}


def upgrade(raw: dict[str, Any]) -> dict[str, Any]:
    """`raw` brought to the current version, step by step (unchanged if it is current)."""
    version = raw.get("version")
    while isinstance(version, int) and version in STEPS:
        raw = STEPS[version](raw)
        version = raw.get("version")
    return raw
