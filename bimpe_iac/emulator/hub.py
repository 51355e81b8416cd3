"""In-process fan-out of new messages to the SSE streams that watch their conversation."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Ticket:
    team_id: str
    agent_id: str
    conversation_id: str
    expires_at: float


@dataclass
class MessageHub:
    ticket_ttl_s: int = 60
    heartbeat_s: float = 15.0
    max_stream_s: float = 300.0
    _watchers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = field(
        default_factory=lambda: defaultdict(set)
    )
    _tickets: dict[str, Ticket] = field(default_factory=dict)

    def issue(self, token: str, team_id: str, agent_id: str, conversation_id: str) -> None:
        now = time.monotonic()
        self._tickets = {k: t for k, t in self._tickets.items() if t.expires_at > now}
        self._tickets[token] = Ticket(team_id, agent_id, conversation_id, now + self.ticket_ttl_s)

    def redeem(self, token: str) -> Ticket | None:
        """A ticket works once, before it expires."""
        ticket = self._tickets.pop(token, None)
        if ticket is None or ticket.expires_at < time.monotonic():
            return None
        return ticket

    def subscribe(self, conversation_id: str) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._watchers[conversation_id].add(queue)
        return queue

    def unsubscribe(self, conversation_id: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._watchers[conversation_id].discard(queue)
        if not self._watchers[conversation_id]:
            del self._watchers[conversation_id]

    def publish(self, conversation_id: str, message: dict[str, Any]) -> None:
        for queue in self._watchers.get(conversation_id, ()):
            queue.put_nowait(message)
