"""The committed OpenAPI document of the emulator is the one the code generates."""

from __future__ import annotations

from pathlib import Path

from bimpe_iac.commands.emulator import openapi_text

OPENAPI = Path(__file__).parents[1] / "schemas" / "bimpe-console-api.openapi.json"


def test_openapi_document_is_fresh() -> None:
    assert OPENAPI.read_text(encoding="utf-8") == openapi_text(), (
        "schemas/bimpe-console-api.openapi.json is stale: run "
        "`bimpe-iac emulator openapi --out schemas/bimpe-console-api.openapi.json`"
    )


def test_openapi_lists_every_console_path() -> None:
    text = OPENAPI.read_text(encoding="utf-8")
    for path in (
        "/api/v1/console/agents/{agent_id}/knowledge_bases/{kb_id}",
        "/api/v1/console/workflows/clone",
        "/api/v1/console/agents/{agent_id}/conversations/{conversation_id}/stream",
        "/api/v1/console/phone-numbers/request",
        "/api/v1/console/agents/{agent_id}/calls/{call_id}",
    ):
        assert f'"{path}"' in text
