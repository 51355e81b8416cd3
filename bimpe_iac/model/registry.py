"""The resource kinds and plan checks a run works with, handed to the engine by the commands."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bimpe_iac.model.kind import PlanCheck, ResourceKind
from bimpe_iac.model.sections import Sections


@dataclass(frozen=True)
class Registry:
    kinds: Mapping[str, ResourceKind]
    """Every kind by its name."""
    plan_checks: tuple[PlanCheck, ...]
    """What the live team tells about the manifests before any change, each issue located."""
    sections: Sections
    """Where each kind is written in a manifest, and the shape of its addresses."""
