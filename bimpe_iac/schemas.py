"""Generate the JSON Schemas for editors from the manifest models and the kinds' sections.

`python -m bimpe_iac.schemas` rewrites schemas/*.schema.json;
with `--check` it only reports whether they are up to date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from bimpe_iac.manifest.composition import resource_file_model
from bimpe_iac.manifest.models import ModuleFile, StackFile
from bimpe_iac.resources import REGISTRY

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas"
SCHEMAS: dict[str, type[BaseModel]] = {
    "stack.schema.json": StackFile,
    "resources.schema.json": resource_file_model(REGISTRY.sections),
    "module.schema.json": ModuleFile,
}


def schema(model: type[BaseModel]) -> dict[str, Any]:
    generated = model.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **generated}


def render(model: type[BaseModel]) -> str:
    return json.dumps(schema(model), indent=2, ensure_ascii=False) + "\n"


def stale(directory: Path = SCHEMA_DIR) -> list[Path]:
    """The schema files that differ from what the models generate."""
    return [
        directory / name
        for name, model in SCHEMAS.items()
        if not (directory / name).exists()
        or (directory / name).read_text(encoding="utf-8") != render(model)
    ]


def write(directory: Path = SCHEMA_DIR) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, model in SCHEMAS.items():
        (directory / name).write_text(render(model), encoding="utf-8")


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        outdated = stale()
        for path in outdated:
            print(f"{path} is out of date; run python -m bimpe_iac.schemas")
        return 1 if outdated else 0
    write()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
