"""The emulator's AI: a deterministic reply drawn from the agent's workflow rules and FAQ."""

from __future__ import annotations

import re
from typing import Any

_WORD = re.compile(r"[a-z0-9']+")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "can",
        "do",
        "does",
        "for",
        "how",
        "i",
        "is",
        "it",
        "me",
        "my",
        "of",
        "on",
        "or",
        "the",
        "to",
        "we",
        "what",
        "you",
    ]
)


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


TOOL_CALL = "Called the tool {action} ({method} {url}); the emulator does not reach the API."


def ai_reply(
    agent: dict[str, Any],
    workflow: dict[str, Any] | None,
    message: str,
    tools: dict[str, dict[str, Any]] | None = None,
) -> str:
    """Same agent, workflow, message and tools always give the same reply. A message that
    names an enabled tool's action (`tools`: definitions by action name) is answered with
    the call the agent would make, so that a test chat can show the tool is wired up."""
    lowered = message.lower()
    for action in sorted(tools or {}):
        if re.search(rf"\b{re.escape(action.lower())}\b", lowered):
            tool = (tools or {})[action]
            method, url = tool.get("http_method", "GET"), tool.get("url_template", "")
            return TOOL_CALL.format(action=action, method=method, url=url)
    if workflow is not None:
        for rule in workflow.get("rules") or []:
            trigger = (rule.get("trigger") or "").lower()
            if rule.get("enabled", True) and trigger and trigger in lowered:
                return str(rule.get("response") or "")
        asked = _words(message)
        best: tuple[int, str] | None = None
        for item in workflow.get("faq") or []:
            shared = len(asked & _words(item.get("question", "")))
            if shared >= 2 and (best is None or shared > best[0]):
                best = (shared, str(item.get("answer", "")))
        if best is not None:
            return best[1]
    snippet = message.strip().replace("\n", " ")[:80]
    return f'Thanks for your message to {agent["name"]}: "{snippet}". How else can I help?'
