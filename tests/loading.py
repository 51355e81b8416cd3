"""`load_stack` with the registry's sections, as the commands call it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from bimpe_iac.manifest import Stack, VarOverrides
from bimpe_iac.manifest import load_stack as load_with
from bimpe_iac.resources import REGISTRY


def load_stack(
    path: Path,
    env: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: VarOverrides | None = None,
) -> Stack:
    given = overrides or VarOverrides()
    return load_with(path, env, sections=REGISTRY.sections, environ=environ, overrides=given)
