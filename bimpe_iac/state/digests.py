"""Keyed digests: what a state file or a saved plan holds in place of a sensitive value.

A plain digest of a sensitive value lets whoever holds the file test guesses offline (a
4-digit PIN falls to 10,000 hashes). Every digest of something that held a sensitive value is
therefore an HMAC-SHA256 under a key only the API key gives:

    key    = HMAC-SHA256(api key, "bimpe-iac state digest" 0x1f lineage)
    digest = HMAC-SHA256(key, purpose 0x1f data)

Each purpose (a field's value, the set of secrets in one value, a plan's marker, a live
fingerprint, an idempotency key) has its own label, so no digest stands in for another. `check`
is a short digest of nothing but the key: an entry stores it, so that a later run can tell a
changed API key (its digests cannot be checked) from a changed value.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from typing import Any

import orjson
from bimpeai import AsyncBimpeAI

UNVERIFIED = ""
"""The check of a sensitive leaf whose secrets no key ever vouched for (a state written before
keyed digests, or a value that could not be read unmasked): always hidden, never compared."""


class Digests:
    """Keyed digests for one state (its lineage) under one API key. The key never leaves it."""

    __slots__ = ("_key",)

    def __init__(self, api_key: str, lineage: str) -> None:
        material = b"bimpe-iac state digest\x1f" + lineage.encode("utf-8")
        self._key = hmac.new(api_key.encode("utf-8"), material, hashlib.sha256).digest()

    def __repr__(self) -> str:
        return "Digests(***)"

    def _mac(self, purpose: str, data: bytes) -> str:
        message = purpose.encode("ascii") + b"\x1f" + data
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    @property
    def check(self) -> str:
        """Tells this key from another; nothing else can be learnt from it."""
        return self._mac("key check", b"")[:16]

    def value(self, value: Any) -> str:
        """A JSON value (key order does not matter), as a state entry records a field."""
        return self._mac("field", orjson.dumps(value, option=orjson.OPT_SORT_KEYS))[:32]

    def secrets(self, found: Iterable[str]) -> str:
        """Which sensitive values one leaf held, whatever their order."""
        return self._mac("secrets", orjson.dumps(sorted(set(found))))[:32]

    def text(self, text: str) -> str:
        """A saved plan's `{"$sensitive": ...}` marker of a string."""
        return self._mac("plan string", text.encode("utf-8"))

    def fingerprint(self, fingerprint: str) -> str:
        """A live object's fingerprint as a saved plan holds it."""
        return self._mac("live fingerprint", fingerprint.encode("ascii"))[:32]

    def idempotency(self, material: str) -> str:
        return self._mac("idempotency", material.encode("utf-8"))


def digests_for(client: AsyncBimpeAI, lineage: str) -> Digests:
    """The digests of a state under the key `client` sends: the client is the one place that
    knows it for every target (the embedded emulator's key is made when the client is)."""
    api_key: str = client._api_key
    return Digests(api_key, lineage)
