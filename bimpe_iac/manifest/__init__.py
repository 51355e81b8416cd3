"""Stack manifests: stack.yaml and YAML files of resources, loaded for one environment into a
validated `Stack`. The resources' sections and specs come from their kinds (`resources/`)."""

from bimpe_iac.manifest.issues import InvalidStackError
from bimpe_iac.manifest.loader import load_stack
from bimpe_iac.manifest.models import MovedBlock, ResourceSpec, SourceLocation, SpecModel, Target
from bimpe_iac.manifest.outputs import Output
from bimpe_iac.manifest.overrides import VarOverrides
from bimpe_iac.manifest.settings import LocalStateBackend, PostgresStateBackend, StateBackend
from bimpe_iac.manifest.stack import Stack
from bimpe_iac.model.issues import Issue, Position
from bimpe_iac.model.sections import Entry

__all__ = [
    "Entry",
    "InvalidStackError",
    "Issue",
    "LocalStateBackend",
    "MovedBlock",
    "Output",
    "Position",
    "PostgresStateBackend",
    "ResourceSpec",
    "SourceLocation",
    "SpecModel",
    "Stack",
    "StateBackend",
    "Target",
    "VarOverrides",
    "load_stack",
]
