"""A stack's outputs as `apply`, `plan` and `output` print them: `name = value` lines or JSON.

A sensitive output reads "(sensitive)" everywhere, JSON included: bimpe-iac never prints a
secret. Ids come from a state (`ids_in`), or from a plan for what it leaves as it is
(`ids_after`); an output whose resource has no id there is not known.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from bimpe_iac.manifest import Output
from bimpe_iac.manifest.interpolate import VarValue
from bimpe_iac.manifest.stack import SENSITIVE_MASK
from bimpe_iac.model.plan import Plan
from bimpe_iac.printable import visible
from bimpe_iac.render.markdown import cell
from bimpe_iac.render.values import KNOWN_AFTER_APPLY, Mask
from bimpe_iac.state.model import StateDocument


def ids_in(state: StateDocument) -> dict[str, str]:
    return {address: entry.id for address, entry in state.resources.items()}


def ids_after(plan: Plan, state: StateDocument) -> dict[str, str]:
    """The ids the plan leaves as they are: renamed ones under their new address; created,
    replaced and deleted ones have none yet."""
    ids = ids_in(state)
    for move in plan.moved:
        if move.source in ids:
            ids[move.target] = ids.pop(move.source)
    for change in plan.changes:
        if change.action in ("create", "replace", "delete"):
            ids.pop(change.address, None)
        elif change.id is not None:
            ids[change.address] = change.id
    return ids


def shown_value(output: Output, value: VarValue, mask: Mask) -> Any:
    """The value as it may be shown: masked whole when sensitive, else its sensitive parts."""
    if output.sensitive:
        return SENSITIVE_MASK
    if isinstance(value, str):
        return mask(value)
    return SENSITIVE_MASK if mask(json.dumps(value)) != json.dumps(value) else value


def _shown(
    outputs: Sequence[Output], ids: Mapping[str, str], mask: Mask, unknown: str | None
) -> list[tuple[str, str]]:
    """Each output's name and value as text; one not known reads `unknown`, or is left out."""
    shown = []
    for output in outputs:
        value = output.value(ids)
        if value is None:
            if unknown is not None:
                shown.append((output.name, unknown))
            continue
        masked = shown_value(output, value, mask)
        text = masked if masked == SENSITIVE_MASK else json.dumps(masked, ensure_ascii=False)
        shown.append((output.name, text))
    return shown


def output_lines(
    outputs: Sequence[Output], ids: Mapping[str, str], mask: Mask, *, unknown: str | None
) -> list[str]:
    """`name = value` for each output; one not known reads `unknown`, or is left out."""
    return [visible(f"{name} = {text}") for name, text in _shown(outputs, ids, mask, unknown)]


def outputs_block(outputs: Sequence[Output], ids: Mapping[str, str], mask: Mask) -> str | None:
    """The "Outputs:" block after a plan or an apply; None for a stack without outputs."""
    if not outputs:
        return None
    lines = output_lines(outputs, ids, mask, unknown=KNOWN_AFTER_APPLY)
    return "\n".join(["", "Outputs:", "", *lines])


def outputs_markdown(outputs: Sequence[Output], ids: Mapping[str, str], mask: Mask) -> list[str]:
    """The outputs as a Markdown table, for the end of a plan comment; none without outputs."""
    if not outputs:
        return []
    rows = [
        f"| `{name}` | {cell(text)} |"
        for name, text in _shown(outputs, ids, mask, KNOWN_AFTER_APPLY)
    ]
    return ["\n".join(["**Outputs**", "", "| output | value |", "|---|---|", *rows])]


def outputs_json(outputs: Sequence[Output], ids: Mapping[str, str], mask: Mask) -> str:
    """{name: {value, sensitive, description}}; a value not known is null."""
    document = {}
    for output in outputs:
        value = output.value(ids)
        document[output.name] = {
            "value": None if value is None else shown_value(output, value, mask),
            "sensitive": output.sensitive,
            "description": None if output.description is None else mask(output.description),
        }
    return json.dumps(document, indent=2)
