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
from bimpe_iac.manifest.declarations import declarations, manifest_files
from bimpe_iac.manifest.issues import InvalidStackError, format_address
from bimpe_iac.manifest.models import SourceLocation
from bimpe_iac.manifest.modules import load_modules, shared_objects
from bimpe_iac.manifest.overrides import NO_OVERRIDES, VarOverrides
from bimpe_iac.manifest.references import check_moves, check_references, declared_addresses
from bimpe_iac.manifest.resources import Declared, LoadedFile
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
    overrides: VarOverrides = NO_OVERRIDES,
) -> Stack:
    """Load and validate the stack in directory `path` for environment `env`, whose
    resource files hold `sections` (the registry's).

    `environ` stands in for the process environment that `${env.NAME}` reads; `overrides`
    are the vars given on the command line.
    Raises InvalidStackError carrying every problem found, each located in its file.
    """
    directory = path.absolute()
    manifests = _manifests(directory)
    environ = os.environ if environ is None else environ
    loaded_settings = load_settings(directory, env, environ, overrides)
    issues = list(loaded_settings.issues)
    scope = loaded_settings.scope
    own = declarations(manifests, directory, scope, sections)
    issues += own.issues + check_references(own.resources, sections, own.unavailable)
    modules = load_modules(directory, scope, sections)
    issues += modules.issues + shared_objects(own, modules.uses, sections)
    addresses = declared_addresses(own.resources, sections).union(
        *(declared_addresses(u.declarations.resources, sections, u.address) for u in modules.uses)
    )
    moves = [*own.moves, *(move for use in modules.uses for move in use.declarations.moves)]
    issues += check_moves(addresses, moves, sections)
    resources = entries_of(sections, _specs(own.resources))
    for use in modules.uses:
        resources |= entries_of(sections, _specs(use.declarations.resources), use.address)
    every = [*own.resources.values()]
    every += [d for use in modules.uses for d in use.declarations.resources.values()]
    files = [("", f) for f in own.files]
    files += [(use.address, f) for use in modules.uses for f in use.declarations.files]
    if all(f.document is not None for _, f in files) and all(d.spec for d in every):
        issues += loaded_settings.outputs.check(sections, resources)

    settings = loaded_settings.settings
    sensitive = loaded_settings.sensitive_values.union(own.secrets, modules.sensitive_values)
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
        resources=resources,
        moved=tuple(move.block for move in moves),
        sensitive_values=sensitive,
        locations=_Locations(files),
        outputs=tuple(loaded_settings.outputs.outputs),
    )


def _masked(message: str, sensitive: frozenset[str]) -> str:
    masked = mask(message, sensitive)
    return masked if masked == message else _HINT.sub("", masked)


def _manifests(directory: Path) -> list[Path]:
    try:
        if not directory.is_dir():
            message = (
                "not a directory; give the directory that holds stack.yaml"
                if directory.exists()
                else "stack directory does not exist"
            )
            raise InvalidStackError(directory, [Issue(directory, None, "", message)])
        return manifest_files(directory, STACK_FILE)
    except OSError as exc:
        issue = Issue(directory, None, "", f"stack directory cannot be read ({exc.strerror})")
        raise InvalidStackError(directory, [issue]) from None


def _specs(resources: Mapping[tuple[str, str], Declared]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for (section, key), declared in resources.items():
        out.setdefault(section, {})[key] = declared.spec
    return out


class _Locations(Mapping[str, SourceLocation]):
    """Where each address is written, worked out on first use: most runs never ask."""

    def __init__(self, files: list[tuple[str, LoadedFile]]) -> None:
        self._files: list[tuple[str, LoadedFile]] | None = files
        self._found: dict[str, SourceLocation] = {}

    def _all(self) -> dict[str, SourceLocation]:
        if self._files is not None:
            for module, loaded in self._files:
                if loaded.document is None:
                    continue
                prefix = f"{module}." if module else ""
                for path, marks in loaded.document.marks.items():
                    line, column = marks.key or marks.start
                    location = SourceLocation(loaded.path, line, column)
                    self._found[prefix + format_address(path)] = location
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
