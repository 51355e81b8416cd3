"""One resource file: parsed, interpolated and validated, keeping every resource that is
valid even when others in the file are not, so cross-file checks still see them."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bimpe_iac.manifest.fields import FileContext
from bimpe_iac.manifest.interpolate import Scope, interpolate
from bimpe_iac.manifest.issues import DataPath
from bimpe_iac.manifest.models import (
    AgentSpec,
    MovedBlock,
    PhoneLinkSpec,
    ResourceFile,
    SourceLocation,
    WorkflowSpec,
)
from bimpe_iac.manifest.validation import validate
from bimpe_iac.manifest.yaml_loader import Document, load_yaml
from bimpe_iac.model.issues import Issue, Position

_EMPTY = "file is empty; a resource file holds workflows:, agents:, phone_numbers: or moved:"

ResourceSpec = WorkflowSpec | AgentSpec | PhoneLinkSpec
SECTIONS: dict[str, type[WorkflowSpec] | type[AgentSpec] | type[PhoneLinkSpec]] = {
    "workflows": WorkflowSpec,
    "agents": AgentSpec,
    "phone_numbers": PhoneLinkSpec,
}


@dataclass
class Declared:
    """A resource as written: its key, where, its data after interpolation, and its spec
    when it is valid."""

    section: str
    key: str
    document: Document
    data: Any
    spec: ResourceSpec | None = None

    @property
    def path(self) -> DataPath:
        return (self.section, self.key)


@dataclass
class LoadedFile:
    path: Path
    document: Document | None = None
    declared: list[Declared] = field(default_factory=list)
    moved: list[tuple[int, MovedBlock]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)


def load_resource_file(path: Path, stack_dir: Path, scope: Scope) -> LoadedFile:
    loaded = LoadedFile(path)
    document, loaded.issues = load_yaml(path, within=stack_dir)
    if document is None:
        return loaded
    loaded.document = document
    if document.data is None:
        loaded.issues.append(Issue(path, Position(1, 1), "", _EMPTY))
        return loaded
    interpolated = interpolate(document, scope)
    loaded.issues += interpolated.issues
    context = FileContext(path.parent, stack_dir)
    resource_file, problems = validate(
        ResourceFile, document, interpolated.data, context=context, skip=interpolated.is_tainted
    )
    loaded.issues += problems
    data = interpolated.data
    if not isinstance(data, dict):
        return loaded
    for section in SECTIONS:
        items = data.get(section)
        if isinstance(items, dict):
            for key, item in items.items():
                loaded.declared.append(Declared(section, key, document, item))
    if resource_file is not None:
        _keep_all(loaded, resource_file)
    else:
        _keep_valid(loaded, data, context)
    for declared in loaded.declared:
        _locate(declared)
    return loaded


def _keep_all(loaded: LoadedFile, resource_file: ResourceFile) -> None:
    specs: dict[str, Mapping[str, ResourceSpec]] = {
        "workflows": resource_file.workflows,
        "agents": resource_file.agents,
        "phone_numbers": resource_file.phone_numbers,
    }
    for declared in loaded.declared:
        declared.spec = specs[declared.section][declared.key]
    loaded.moved = list(enumerate(resource_file.moved))


def _keep_valid(loaded: LoadedFile, data: dict[str, Any], context: FileContext) -> None:
    """Validate resource by resource; their errors were already reported for the file."""
    for declared in loaded.declared:
        model = SECTIONS[declared.section]
        try:
            declared.spec = model.model_validate(declared.data, context=context)
        except ValidationError:
            declared.spec = None
    moved = data.get("moved")
    for index, block in enumerate(moved if isinstance(moved, list) else []):
        with contextlib.suppress(ValidationError):
            loaded.moved.append((index, MovedBlock.model_validate(block)))


def _locate(declared: Declared) -> None:
    spec = declared.spec
    if spec is None:
        return
    spec._source = _source(declared.document, declared.path)
    if isinstance(spec, AgentSpec):
        for key, knowledge_base in spec.knowledge_bases.items():
            path = (*declared.path, "knowledge_bases", key)
            knowledge_base._source = _source(declared.document, path)


def _source(document: Document, path: DataPath) -> SourceLocation:
    line, column = document.position(path, at_key=True)
    return SourceLocation(document.file, line, column)
