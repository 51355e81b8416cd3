"""Load a stack directory: stack.yaml and every other YAML file directly in it, merged,
checked across files, and reported all at once."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from bimpe_iac import secrets
from bimpe_iac.manifest.issues import InvalidStackError, format_address
from bimpe_iac.manifest.models import SourceLocation
from bimpe_iac.manifest.references import PlacedMove, check_references
from bimpe_iac.manifest.resources import Declared, LoadedFile, load_resource_file
from bimpe_iac.manifest.settings import STACK_FILE, load_settings
from bimpe_iac.manifest.stack import Stack, entries_of, mask
from bimpe_iac.model.issues import Issue
from bimpe_iac.model.sections import Sections

# A hint naming the known values near a sensitive one would tell what that value is close to.
_HINT = re.compile(r" \(did you mean [^)]*\)")


def load_stack(
    path: Path,
    env: str | None = None,
    *,
    sections: Sections,
    environ: Mapping[str, str] | None = None,
) -> Stack:
    """Load and validate the stack in directory `path` for environment `env`, whose
    resource files hold `sections` (the registry's).

    `environ` stands in for the process environment that `${env.NAME}` reads.
    Raises InvalidStackError carrying every problem found, each located in its file.
    """
    directory = path.absolute()
    manifests = _manifests(directory)
    loaded_settings = load_settings(directory, env, os.environ if environ is None else environ)
    issues = list(loaded_settings.issues)
    scope = loaded_settings.scope
    files = [load_resource_file(p, directory, scope, sections) for p in manifests]
    resources: dict[tuple[str, str], Declared] = {}
    moves: list[PlacedMove] = []
    unavailable: dict[tuple[str, str], str] = {}
    for loaded in files:
        issues += loaded.issues
        issues += _merge(loaded, resources, sections)
        unavailable.update(loaded.unavailable)
        if loaded.document is not None:
            moves += [PlacedMove(block, loaded.document, i) for i, block in loaded.moved]
    issues += check_references(resources, moves, sections, unavailable)

    settings = loaded_settings.settings
    sensitive = loaded_settings.sensitive_values.union(*(loaded.secrets for loaded in files))
    secrets.remember(sensitive)  # scrubbed from any crash log
    if issues or settings is None:
        masked = [replace(issue, message=_masked(issue.message, sensitive)) for issue in issues]
        raise InvalidStackError(directory, masked)
    return Stack(
        name=settings.name,
        directory=directory,
        environment=settings.environment,
        target=settings.target,
        state=settings.state,
        sections=sections,
        resources=entries_of(sections, _specs(resources)),
        moved=tuple(move.block for move in moves),
        sensitive_values=sensitive,
        locations=_Locations(files),
    )


def _masked(message: str, sensitive: frozenset[str]) -> str:
    masked = mask(message, sensitive)
    return masked if masked == message else _HINT.sub("", masked)


def _manifests(directory: Path) -> list[Path]:
    """The resource files: YAML files directly in the directory, except stack.yaml and
    hidden ones. Subdirectories hold prompts and knowledge, not manifests."""
    try:
        if not directory.is_dir():
            message = (
                "not a directory; give the directory that holds stack.yaml"
                if directory.exists()
                else "stack directory does not exist"
            )
            raise InvalidStackError(directory, [Issue(directory, None, "", message)])
        entries = list(directory.iterdir())
    except OSError as exc:
        issue = Issue(directory, None, "", f"stack directory cannot be read ({exc.strerror})")
        raise InvalidStackError(directory, [issue]) from None
    return sorted(
        p
        for p in entries
        if p.suffix in (".yaml", ".yml")
        and p.name != STACK_FILE
        and not p.name.startswith(".")
        and p.is_file()
    )


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
            f" {first.written_at}"
        )
        issues.append(declared.document.issue(declared.path, message, at_key=True))
    return issues


def _specs(resources: Mapping[tuple[str, str], Declared]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for (section, key), declared in resources.items():
        out.setdefault(section, {})[key] = declared.spec
    return out


class _Locations(Mapping[str, SourceLocation]):
    """Where each address is written, worked out on first use: most runs never ask."""

    def __init__(self, files: list[LoadedFile]) -> None:
        self._files: list[LoadedFile] | None = files
        self._found: dict[str, SourceLocation] = {}

    def _all(self) -> dict[str, SourceLocation]:
        if self._files is not None:
            for loaded in self._files:
                if loaded.document is None:
                    continue
                for path, marks in loaded.document.marks.items():
                    line, column = marks.key or marks.start
                    self._found[format_address(path)] = SourceLocation(loaded.path, line, column)
            self._files = None
        return self._found

    def __getitem__(self, address: str) -> SourceLocation:
        return self._all()[address]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __reduce__(
        self,
    ) -> tuple[type[dict[str, SourceLocation]], tuple[dict[str, SourceLocation]]]:
        return (dict, (self._all(),))
