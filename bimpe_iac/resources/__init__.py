"""The resource kinds bimpe-iac manages: one module each, registered here by name.

Adding a kind means adding its module and one line below; the engine reads only this registry.
"""

from __future__ import annotations

from bimpe_iac.model.sections import Sections
from bimpe_iac.resources import actions, agent, knowledge_base, live_status, phone_link, workflow
from bimpe_iac.resources.action_names import check_action_names
from bimpe_iac.resources.base import PlanCheck, ResourceKind

KINDS: dict[str, ResourceKind] = {
    workflow.KIND.name: workflow.KIND,
    agent.KIND.name: agent.KIND,
    knowledge_base.KIND.name: knowledge_base.KIND,
    actions.KIND.name: actions.KIND,
    live_status.KIND.name: live_status.KIND,
    phone_link.KIND.name: phone_link.KIND,
}

PLAN_CHECKS: tuple[PlanCheck, ...] = (check_action_names, phone_link.check_number_holders)
"""What the live team tells about the manifests before any change, each issue located."""

SECTIONS = Sections((workflow.SECTION, agent.SECTION, knowledge_base.SECTION, phone_link.SECTION))
"""Where each kind is written in a manifest, and the shape of its addresses."""
