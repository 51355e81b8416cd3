"""The resource files of one directory, a stack's or a module's: each read, and merged so that
a resource is declared once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bimpe_iac.manifest.interpolate import Scope
from bimpe_iac.manifest.references import PlacedMove
from bimpe_iac.manifest.resources import Declared, LoadedFile, load_resource_file
from bimpe_iac.model.issues import Issue
from bimpe_iac.model.sections import Sections


@dataclass
class Declarations:
    """What the files of a directory declare, keyed by section and key, and their problems."""

    files: list[LoadedFile] = field(default_factory=list)
    resources: dict[tuple[str, str], Declared] = field(default_factory=dict)
    moves: list[PlacedMove] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    @property
    def unavailable(self) -> dict[tuple[str, str], str]:
        """Why a key written but not declared here cannot be referenced (disabled, ...)."""
        out: dict[tuple[str, str], str] = {}
        for loaded in self.files:
            out.update(loaded.unavailable)
        return out

    @property
    def secrets(self) -> set[str]:
        return set().union(*(loaded.secrets for loaded in self.files))


def manifest_files(directory: Path, settings_file: str) -> list[Path]:
    """The resource files: YAML files directly in the directory, except its settings file and
    hidden ones. Subdirectories hold prompts and knowledge, not manifests. OSError when the
    directory cannot be listed."""
    return sorted(
        p
        for p in directory.iterdir()
        if p.suffix in (".yaml", ".yml")
        and p.name != settings_file
        and not p.name.startswith(".")
        and p.is_file()
    )


def declarations(
    paths: Iterable[Path], within: Path, scope: Scope, sections: Sections, root: str = "stack"
) -> Declarations:
    """The files at `paths`, which stay inside `within` (the directory of a stack or a
    module, `root`) with what they read, loaded with `scope` and merged."""
    out = Declarations()
    for path in paths:
        loaded = load_resource_file(path, within, scope, sections, root)
        out.files.append(loaded)
        out.issues += loaded.issues
        out.issues += _merge(loaded, out.resources, sections)
        if loaded.document is not None:
            out.moves += [PlacedMove(block, loaded.document, i) for i, block in loaded.moved]
    return out


def _merge(
    loaded: LoadedFile, resources: dict[tuple[str, str], Declared], sections: Sections
) -> list[Issue]:
    issues = []
    for declared in loaded.declared:
        first = resources.setdefault((declared.section, declared.key), declared)
        if first is declared:
            continue
        message = (
            f"duplicate {sections[declared.section].noun} '{declared.key}': first declared at"
            f" {first.where}"
        )
        issues.append(declared.document.issue(declared.path, message, at_key=True))
    return issues
