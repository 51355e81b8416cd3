"""Latency, injected faults and the per-key rate limit: the emulator's unreliable-network knobs.

Fault kinds, each drawn with its weight when a request is chosen to fail (`fault_rate`):
  error_500          500 internal_error, nothing done
  unavailable_503    503 with Retry-After, nothing done
  throttled_429      429 with Retry-After and X-RateLimit-Remaining: 0 and -Reset (and -Limit
                     when a rate limit is set), nothing done
  drop_before        the connection drops before the request is handled
  drop_after_commit  the request is handled and committed, then the connection drops

An aimed fault (`aimed`) hits chosen requests instead of random ones: the next `count` requests
of one route (`POST /agents`, `PATCH /agents/{agent_id}`), whatever `fault_rate` says.
"""

from __future__ import annotations

import random
import re
import threading
import time
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

FaultKind = Literal[
    "error_500", "unavailable_503", "throttled_429", "drop_before", "drop_after_commit"
]
FAULT_KINDS: tuple[FaultKind, ...] = (
    "error_500",
    "unavailable_503",
    "throttled_429",
    "drop_before",
    "drop_after_commit",
)


class AimedFault(BaseModel):
    """A fault for the next `count` requests of one route, as the counters name routes."""

    model_config = ConfigDict(extra="forbid")

    route: Annotated[str, Field(min_length=3, max_length=200)]
    kind: FaultKind
    count: Annotated[int, Field(ge=1, le=1000)] = 1


class FaultSettings(BaseModel):
    """What the admin API reads and writes at /_emulator/faults."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    latency_ms: Annotated[float, Field(ge=0, le=60_000)] = 0.0
    fault_rate: Annotated[float, Field(ge=0, le=1)] = 0.0
    fault_kinds: dict[FaultKind, Annotated[float, Field(ge=0)]] = Field(
        default_factory=lambda: dict.fromkeys(FAULT_KINDS, 1.0)
    )
    rate_limit: Annotated[int, Field(ge=1)] | None = None
    retry_after_s: Annotated[int, Field(ge=0, le=60)] = 1
    seed: int | None = None
    aimed: list[AimedFault] = Field(default_factory=list, max_length=100)


@dataclass(slots=True)
class _Aim:
    route: re.Pattern[str]
    kind: FaultKind
    left: int


def _route_pattern(route: str) -> re.Pattern[str]:
    """`POST /agents/{agent_id}/knowledge_bases` matches that request for any agent."""
    parts = re.split(r"(\{[^/{}]+\})", route)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


class FaultDice:
    """Draws faults; seeded draws repeat, so a failing test run can be replayed."""

    def __init__(self, settings: FaultSettings) -> None:
        self.settings = settings
        self._random = random.Random(settings.seed)
        self._lock = threading.Lock()
        self._aimed = self._aim(settings)

    @staticmethod
    def _aim(settings: FaultSettings) -> list[_Aim]:
        return [_Aim(_route_pattern(a.route), a.kind, a.count) for a in settings.aimed]

    def configure(self, settings: FaultSettings) -> None:
        with self._lock:
            self.settings = settings
            self._random = random.Random(settings.seed)
            self._aimed = self._aim(settings)

    def aimed(self, request: str) -> FaultKind | None:
        """The fault aimed at `request` (`POST /agents/agt_1/knowledge_bases`), if one is
        left; counts it down."""
        if not self._aimed:
            return None
        with self._lock:
            for aim in self._aimed:
                if aim.left > 0 and aim.route.fullmatch(request):
                    aim.left -= 1
                    return aim.kind
        return None

    def draw(self) -> FaultKind | None:
        settings = self.settings
        if settings.fault_rate <= 0:
            return None
        with self._lock:
            if self._random.random() >= settings.fault_rate:
                return None
            kinds = [k for k in FAULT_KINDS if settings.fault_kinds.get(k, 0) > 0]
            if not kinds:
                return None
            weights = [settings.fault_kinds[k] for k in kinds]
            return self._random.choices(kinds, weights)[0]


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_at: int


class RateLimiter:
    """A fixed one-second window per API key."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, limit: int) -> RateDecision:
        window = int(time.time())
        with self._lock:
            start, used = self._windows.get(key, (window, 0))
            if start != window:
                start, used = window, 0
            allowed = used < limit
            if allowed:
                used += 1
            self._windows[key] = (start, used)
        return RateDecision(allowed, limit, max(0, limit - used), window + 1)
