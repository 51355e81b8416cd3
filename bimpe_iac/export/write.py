"""Write a laid-out team as a stack directory, byte for byte the same for the same team:
keys in a fixed order, block style, literal blocks for text of several lines, `$${` for a
literal `${` in manifests (files are never interpolated), and a final newline."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bimpe_iac.export.layout import Layout
from bimpe_iac.manifest.settings import STACK_FILE
from bimpe_iac.model.export import VarReference
from bimpe_iac.schemas import SCHEMA_DIR

_WIDTH = 1_000_000  # never fold a long line


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent list items under their key, as the examples and most editors do.
        super().increase_indent(flow, False)


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Literal style when the text allows it; PyYAML quotes it when it does not.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _mapping(dumper: yaml.SafeDumper, value: dict[str, Any]) -> yaml.MappingNode:
    # References ({file: ...}, {public: ...}, {id: ...}) read best on one line.
    inline = len(value) == 1 and next(iter(value)) in ("file", "public", "id")
    return dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=inline or None)


def _sequence(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.SequenceNode:
    # A list of short values reads best on one line, as in `tags: [support, tier-1]`.
    inline = bool(value) and all(
        isinstance(item, int | float | bool) or (isinstance(item, str) and "\n" not in item)
        for item in value
    )
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=inline or None)


def _reference(dumper: yaml.SafeDumper, value: VarReference) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value))


_Dumper.add_representer(VarReference, _reference)
_Dumper.add_representer(str, _text)
_Dumper.add_representer(dict, _mapping)
_Dumper.add_representer(list, _sequence)


@dataclass(frozen=True)
class TargetSettings:
    """The target the written stack names; none at all by default, so that it uses
    BIMPE_API_KEY when set and the local emulator when not."""

    api_key_env: str | None = None
    base_url: str | None = None
    emulator: bool = False


def escape(value: Any) -> Any:
    """`value` with every `${` in its strings written `$${`, so it is not interpolated."""
    if isinstance(value, str):
        return value.replace("${", "$${")
    if isinstance(value, dict):
        return {key: escape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [escape(item) for item in value]
    return value


def dump(data: dict[str, Any], schema: str | None) -> str:
    header = f"# yaml-language-server: $schema={schema}\n" if schema else ""
    body = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=_WIDTH,
    )
    return header + body


def schema_base(out: Path) -> str | None:
    """The schemas directory relative to `out`, when bimpe-iac runs from a source checkout."""
    if not SCHEMA_DIR.is_dir():
        return None
    return Path(os.path.relpath(SCHEMA_DIR, out.absolute())).as_posix()


def render(
    layout: Layout,
    *,
    name: str,
    environment: str,
    target: TargetSettings,
    schemas: str | None,
) -> dict[str, str]:
    """Every file of the stack by its path relative to the stack directory."""

    def schema(file: str) -> str | None:
        return f"{schemas}/{file}" if schemas else None

    target_data: dict[str, Any] = {}
    if target.emulator:
        target_data["emulator"] = True
    if target.base_url is not None:
        target_data["base_url"] = target.base_url
    if target.api_key_env is not None:
        target_data["api_key_env"] = target.api_key_env
    settings = {"target": target_data} if target_data else {}
    stack: dict[str, Any] = {"name": name}
    if layout.variables:
        # Credentials cannot be read back: each is a sensitive var the user fills in.
        stack["vars"] = {
            var: {"value": f"${{env.{env_name(var)}}}", "sensitive": True, "description": what}
            for var, what in sorted(layout.variables.items())
        }
    stack["environments"] = {environment: settings}
    files = {STACK_FILE: dump(stack, schema("stack.schema.json"))}
    for name, entries in layout.sections.items():
        if entries:
            files[f"{name}.yaml"] = dump(escape({name: entries}), schema("resources.schema.json"))
    files.update(layout.files)
    return files


def env_name(var: str) -> str:
    """The environment variable an exported credential's var reads: its name in capitals."""
    return var.upper()


def missing_credentials(layout: Layout) -> list[str]:
    """One line per credential the written stack needs: the variable to set and what for."""
    return [f"{env_name(var)}: {what}" for var, what in sorted(layout.variables.items())]


def is_empty(directory: Path) -> bool:
    return not directory.exists() or not any(directory.iterdir())


def write_stack(
    directory: Path, files: Mapping[str, str | bytes], *, replace: bool = False
) -> None:
    """Write `files` under `directory`. With `replace`, the manifests and the prompts/ and
    kb/ directories already there go first, so none is left over from an earlier export."""
    directory.mkdir(parents=True, exist_ok=True)
    if replace:
        for entry in directory.iterdir():
            if entry.is_file() and entry.suffix in (".yaml", ".yml"):
                entry.unlink()
            elif entry.is_dir() and entry.name in ("prompts", "kb"):
                shutil.rmtree(entry)
    for relative, text in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
