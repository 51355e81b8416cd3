"""Stack manifests: YAML files describing workflows, agents, knowledge bases and phone
links, loaded for one environment into a validated `Stack`."""

from bimpe_iac.manifest.issues import InvalidStackError
from bimpe_iac.manifest.loader import load_stack
from bimpe_iac.manifest.models import (
    AgentSpec,
    FaqSpec,
    FlowSpec,
    KnowledgeBaseSpec,
    MovedBlock,
    PhoneLinkSpec,
    PublicWorkflow,
    RuleSpec,
    SourceLocation,
    Target,
    TextKnowledgeBaseSpec,
    UrlKnowledgeBaseSpec,
    WorkflowById,
    WorkflowSpec,
)
from bimpe_iac.manifest.settings import LocalStateBackend, PostgresStateBackend, StateBackend
from bimpe_iac.manifest.stack import Stack
from bimpe_iac.model.issues import Issue, Position

__all__ = [
    "AgentSpec",
    "FaqSpec",
    "FlowSpec",
    "InvalidStackError",
    "Issue",
    "KnowledgeBaseSpec",
    "LocalStateBackend",
    "MovedBlock",
    "PhoneLinkSpec",
    "Position",
    "PostgresStateBackend",
    "PublicWorkflow",
    "RuleSpec",
    "SourceLocation",
    "Stack",
    "StateBackend",
    "Target",
    "TextKnowledgeBaseSpec",
    "UrlKnowledgeBaseSpec",
    "WorkflowById",
    "WorkflowSpec",
    "load_stack",
]
