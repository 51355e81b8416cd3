"""The emulator answers the official SDK over loopback HTTP."""

from __future__ import annotations

from bimpeai import BimpeAI


def test_public_catalog_is_readable(sdk: BimpeAI) -> None:
    names = {w.name for w in sdk.workflows.list(scope="public")}
    assert {"Customer Support Triage", "Appointment Booking", "Sales Assistant"} <= names
