"""Moving a state from one backend to another without losing anything: its versions are copied
oldest first with their serial, lineage, time and writer kept, and the copy's current version
must then equal the source's. The source is left as it was."""

from __future__ import annotations

from bimpe_iac.errors import StateError
from bimpe_iac.state.backend import StateStore


def transfer(
    source: StateStore,
    target: StateStore,
    stack: str,
    environment: str,
    *,
    keep: int | None = None,
) -> list[int]:
    """Copy the state's versions from `source` to `target` (only the last `keep`, when given)
    and return the serials copied. Hold both locks around this."""
    history = source.history(stack, environment)
    if not history:
        raise StateError(f"{source.location} holds no state to migrate")
    current = source.read(stack, environment)
    serials = [
        v.serial for v in history if v.lineage == current.lineage and v.serial <= current.serial
    ]
    if keep is not None:
        serials = serials[-keep:]
    if target.history(stack, environment):
        existing = target.read(stack, environment)
        if existing.lineage != current.lineage:
            raise StateError(
                f"{target.location} already holds another state (lineage {existing.lineage}, "
                f"serial {existing.serial}); nothing was migrated"
            )
        if existing.serial > current.serial:
            raise StateError(
                f"{target.location} already holds a newer version of this state (serial "
                f"{existing.serial}, against {current.serial}); nothing was migrated"
            )
        serials = [serial for serial in serials if serial > existing.serial]
    for serial in serials:
        target.write(source.read_version(stack, environment, serial), stamp=False)
    copied = target.read(stack, environment)
    if copied.model_dump(mode="json") != current.model_dump(mode="json"):
        raise StateError(
            f"the state copied to {target.location} (serial {copied.serial}) differs from "
            f"{source.location} (serial {current.serial}); keep using the source"
        )
    return serials
