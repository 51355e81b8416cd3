"""What `pull` found and did, as text: the Console's changes it writes, the conflicts it
does not, and what it leaves to the user. Values are masked; long ones are cut."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from bimpe_iac.engine.merge import MISSING, Conflict, Edit, path_text, present
from bimpe_iac.model.identity import identity_key
from bimpe_iac.printable import visible
from bimpe_iac.render.lines import plain
from bimpe_iac.render.valuediff import field_lines
from bimpe_iac.render.values import brief

WIDTH = 120
"""Values longer than this are cut, with their length."""

Mask = Callable[[str], str]


def shown(value: Any, mask: Mask) -> str:
    if value is MISSING or value is None:
        return "(not set)"
    text = visible(mask(brief(value)))
    return text if len(text) <= WIDTH else f"{text[: WIDTH - 1]}… ({len(text)} characters)"


def _masked(value: Any, mask: Mask) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {k: _masked(v, mask) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, mask) for v in value]
    return value


def edit_line(edit: Edit, mask: Mask) -> str:
    """One edit as a line (or, for a changed text, a line diff below its path), indented by
    four spaces."""
    where = path_text(edit.path)
    if edit.op == "set" and present(edit.before):
        lines = field_lines(where, _masked(edit.before, mask), _masked(edit.value, mask), 4)
        return plain(lines)
    if edit.op == "set":
        return f"    ~ {where}: {shown(edit.value, mask)}"
    return "    " + _short_line(edit, where, mask)


def _short_line(edit: Edit, where: str, mask: Mask) -> str:
    if edit.op == "delete":
        return f"- {where}"
    if edit.op == "insert":
        key = identity_key([edit.value])
        label = f"[{edit.value[key]}]" if key else ""
        return f"+ {where}{label}: added"
    if edit.op == "remove":
        return f"- {where}: removed"
    if edit.op == "order":
        return f"~ {where}: reordered to " + ", ".join(str(v) for v in edit.value)
    sign = "+" if edit.op == "add" else "-"
    return f"{sign} {where}: {shown(edit.value, mask)}"


def conflict_lines(address: str, conflict: Conflict, mask: Mask) -> list[str]:
    what = " (order)" if conflict.what == "order" else ""
    return [
        f"  {address}.{path_text(conflict.path)}{what}",
        f"      last apply: {shown(conflict.base, mask)}",
        f"      code:       {shown(conflict.ours, mask)}",
        f"      Console:    {shown(conflict.theirs, mask)}",
    ]


def section(title: str, lines: Iterable[str]) -> list[str]:
    body = list(lines)
    return [title, *body, ""] if body else []
