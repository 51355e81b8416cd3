"""The marker `state migrate` leaves in a local state file whose state moved to PostgreSQL.

Without it, a run that lacks the DSN (a new shell, a CI job without the secret) would read the
stale local file, or, were the file simply removed, no state at all, and plan to create again
what exists. The marker takes the file's place, so that such a run stops and says where the
state went; the old state is kept beside it as `<file>.migrated`, and `state migrate --to local`
puts it back before copying the newer versions over it.
"""

from __future__ import annotations

from typing import Final, Literal

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from bimpe_iac.manifest.models import DEFAULT_STATE_DSN_ENV

MOVED_FORMAT: Final = "bimpe-iac-state-moved"
MIGRATED_SUFFIX = ".migrated"
MAX_MARKER_BYTES = 4096


class MovedMarker(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    format: Literal["bimpe-iac-state-moved"] = MOVED_FORMAT
    backend: Literal["postgres"] = "postgres"
    dsn_env: str
    """The variable that holds the DSN of the state database."""
    location: str
    """The database, without its password (`postgresql://user@host:port/db`)."""
    serial: int
    lineage: str
    moved_at: str

    def encode(self) -> bytes:
        return self.model_dump_json(indent=2).encode() + b"\n"

    def refusal(self, path: object) -> str:
        """Why a run that found this marker at `path` stops, and what to do."""
        use = f"set {self.dsn_env} to that database's connection string"
        if self.dsn_env != DEFAULT_STATE_DSN_ENV:
            setting = f"`state: {{backend: postgres, dsn_env: {self.dsn_env}}}`"
            use = f"set {setting} in stack.yaml and {self.dsn_env} to its connection string"
        return (
            f"the state in {path} moved to PostgreSQL ({self.location}, serial {self.serial}) "
            f"with `state migrate` at {self.moved_at}: {use}, or bring the state back with "
            "`bimpe-iac state migrate --to local`"
        )


def parse_moved(data: bytes) -> MovedMarker | None:
    """The marker in `data`, or None when `data` is anything else (a state, say)."""
    if len(data) > MAX_MARKER_BYTES or MOVED_FORMAT.encode() not in data:
        return None
    try:
        return MovedMarker.model_validate(orjson.loads(data))
    except (orjson.JSONDecodeError, ValidationError):
        return None
