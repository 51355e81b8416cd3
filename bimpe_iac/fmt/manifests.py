"""The manifest files of a stack directory, each with the model that reads it: stack.yaml, the
resource files, and the files of the modules it uses that lie inside it. A module's directory
on its own holds module.yaml and resource files."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel

from bimpe_iac.manifest.composition import entry_types, resource_file_model
from bimpe_iac.manifest.declarations import manifest_files
from bimpe_iac.manifest.instances import PRESENCE
from bimpe_iac.manifest.models import ModuleFile, StackFile
from bimpe_iac.manifest.modules import MODULE_FILE
from bimpe_iac.manifest.settings import STACK_FILE
from bimpe_iac.manifest.text_files import TextFileError, read_text
from bimpe_iac.manifest.yaml_loader import parse_yaml
from bimpe_iac.model.issues import Issue
from bimpe_iac.model.sections import Sections


@dataclass(frozen=True)
class Manifest:
    path: Path
    within: Path
    """The directory of the stack or module the file belongs to, which it may not leave."""
    model: Any
    first: Mapping[type[BaseModel], Sequence[str]] = field(default_factory=dict)
    """The fields that go first in some models: in a resource entry, those that decide
    whether it is declared at all, and how often."""


class NotAStack(Exception):
    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.render())
        self.issue = issue


def manifests(directory: Path, sections: Sections) -> list[Manifest]:
    """The manifests of the stack (or module) in `directory`. NotAStack when it holds
    neither stack.yaml nor module.yaml, or cannot be listed."""
    directory = directory.absolute()
    try:
        if (directory / STACK_FILE).is_file():
            stack = Manifest(directory / STACK_FILE, directory, StackFile)
            found = [stack, *_resources(directory, STACK_FILE, sections)]
            for module in _modules_inside(stack):
                found += _module(module, sections)
            return list({manifest.path: manifest for manifest in found}.values())
        if (directory / MODULE_FILE).is_file():
            return _module(directory, sections)
    except OSError as exc:
        message = f"directory cannot be read ({exc.strerror or exc})"
        raise NotAStack(Issue(directory, None, "", message)) from None
    message = (
        f"holds no {STACK_FILE} (nor a module's {MODULE_FILE}); give a stack's directory"
        if directory.is_dir()
        else "stack directory does not exist"
    )
    raise NotAStack(Issue(directory, None, "", message))


def _module(directory: Path, sections: Sections) -> list[Manifest]:
    inputs = Manifest(directory / MODULE_FILE, directory, ModuleFile)
    return [inputs, *_resources(directory, MODULE_FILE, sections)]


def _resources(directory: Path, settings_file: str, sections: Sections) -> list[Manifest]:
    model = resource_file_model(sections)
    first = {entry: PRESENCE for entry in _entry_models(sections)}
    return [
        Manifest(path, directory, model, first) for path in manifest_files(directory, settings_file)
    ]


def _entry_models(sections: Sections) -> list[type[BaseModel]]:
    """The model of an entry of each section: each member of a union of them."""
    found = []
    pending = list(entry_types(sections).values())
    while pending:
        annotation = pending.pop()
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found.append(annotation)
        else:
            pending += get_args(annotation)
    return found


def _modules_inside(stack: Manifest) -> list[Path]:
    """The directories of the modules stack.yaml uses that lie inside the stack's; a module
    elsewhere is formatted on its own (or by the stack it lies in)."""
    try:
        document, _ = parse_yaml(read_text(stack.path, within=stack.within), stack.path)
    except TextFileError:
        return []
    data = document.data if document is not None else None
    uses = data.get("modules") if isinstance(data, dict) else None
    found = []
    for use in uses.values() if isinstance(uses, dict) else []:
        source = use.get("source") if isinstance(use, dict) else None
        if not isinstance(source, str) or "\0" in source:
            continue
        directory = Path(os.path.normpath(stack.within / source))
        resolved, own = directory.resolve(), stack.within.resolve()
        if resolved.is_relative_to(own) and resolved != own and (directory / MODULE_FILE).is_file():
            found.append(directory)
    return found
