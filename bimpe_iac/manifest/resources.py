"""One resource file: parsed, interpolated, its resources present in the environment kept and
its `for_each` expanded into instances (`instances.py`), and validated, keeping every
resource that is valid even when others in the file are not, so cross-file checks still see
them."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from bimpe_iac.manifest.composition import entry_types, resource_file_model
from bimpe_iac.manifest.fields import FileContext
from bimpe_iac.manifest.instances import expand
from bimpe_iac.manifest.interpolate import Scope, interpolate
from bimpe_iac.manifest.issues import DataPath
from bimpe_iac.manifest.models import (
    MovedBlock,
    ResourceSpec,
    SourceLocation,
)
from bimpe_iac.manifest.validation import validate
from bimpe_iac.manifest.yaml_loader import Document, load_yaml
from bimpe_iac.model.issues import Issue, Position, display_path
from bimpe_iac.model.sections import Sections


def _empty(sections: Sections) -> str:
    names = [f"{section.name}:" for section in sections.top]
    return f"file is empty; a resource file holds {', '.join(names)} or moved:"


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

    @property
    def where(self) -> str:
        """`FILE:LINE:COLUMN` of its key."""
        at = self.document.position(self.path, at_key=True)
        return f"{display_path(self.document.file)}:{at.line}:{at.column}"


@dataclass
class LoadedFile:
    path: Path
    document: Document | None = None
    declared: list[Declared] = field(default_factory=list)
    moved: list[tuple[int, MovedBlock]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)
    """The values of `Secret` fields in the file: as sensitive as a sensitive var's."""
    unavailable: dict[tuple[str, str], str] = field(default_factory=dict)
    """Why a reference cannot name a top-level key the file writes but does not declare here
    (`expand`'s)."""


def load_resource_file(
    path: Path, stack_dir: Path, scope: Scope, sections: Sections, root: str = "stack"
) -> LoadedFile:
    """The file at `path`, in the directory `stack_dir` of a stack or a module (`root`)."""
    loaded = LoadedFile(path)
    document, loaded.issues = load_yaml(path, within=stack_dir, root=root)
    if document is None:
        return loaded
    loaded.document = document
    if document.data is None:
        loaded.issues.append(Issue(path, Position(1, 1), "", _empty(sections)))
        return loaded
    interpolated = interpolate(document, scope, defer_each=True)
    expanded = expand(document, interpolated, scope, sections)
    interpolated.given.update(expanded.given)
    loaded.issues += interpolated.issues + interpolated.noted(expanded.issues)
    loaded.unavailable = expanded.unavailable
    context = FileContext(path.parent, stack_dir, loaded.secrets, root)
    model = resource_file_model(sections)
    data = expanded.data
    resource_file, problems = validate(
        model, document, data, context=context, skip=expanded.is_tainted
    )
    loaded.issues += interpolated.noted(problems)
    if not isinstance(data, dict):
        return loaded
    for section in sections.top:
        items = data.get(section.name)
        if isinstance(items, dict):
            for key, item in items.items():
                loaded.declared.append(Declared(section.name, key, document, item))
    if resource_file is not None:
        _keep_all(loaded, resource_file)
    else:
        _keep_valid(loaded, data, context, sections)
    # A move with an unresolved reference was reported; checking it too would say it again.
    unresolved = {path[1] for path in expanded.tainted if path[:1] == ("moved",) and path[1:]}
    loaded.moved = [(i, block) for i, block in loaded.moved if i not in unresolved]
    for declared in loaded.declared:
        _locate(declared, sections)
    return loaded


def _keep_all(loaded: LoadedFile, resource_file: Any) -> None:
    for declared in loaded.declared:
        declared.spec = getattr(resource_file, declared.section)[declared.key]
    loaded.moved = list(enumerate(resource_file.moved))


def _keep_valid(
    loaded: LoadedFile, data: dict[str, Any], context: FileContext, sections: Sections
) -> None:
    """Validate resource by resource; their errors were already reported for the file."""
    types = entry_types(sections)
    for declared in loaded.declared:
        adapter = _adapter(types[declared.section])
        try:
            declared.spec = adapter.validate_python(declared.data, context=context)
        except ValidationError:
            declared.spec = None
    moved = data.get("moved")
    for index, block in enumerate(moved if isinstance(moved, list) else []):
        with contextlib.suppress(ValidationError):
            loaded.moved.append((index, MovedBlock.model_validate(block)))


_ADAPTERS: dict[int, TypeAdapter[Any]] = {}


def _adapter(entry_type: Any) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(id(entry_type))
    if adapter is None:
        adapter = _ADAPTERS[id(entry_type)] = TypeAdapter(entry_type)
    return adapter


def _locate(declared: Declared, sections: Sections) -> None:
    if declared.spec is not None:
        _place(declared.spec, declared.section, declared.path, declared.document, sections)


def _place(
    spec: ResourceSpec, section: str, path: DataPath, document: Document, sections: Sections
) -> None:
    spec._source = _source(document, path)
    for held in sections.held_by(section):
        for key, child in getattr(spec, held.name, {}).items():
            _place(child, held.name, (*path, held.name, key), document, sections)


def _source(document: Document, path: DataPath) -> SourceLocation:
    line, column = document.position(path, at_key=True)
    return SourceLocation(document.file, line, column)
