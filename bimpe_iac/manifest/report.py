"""How `validate` shows its result: text for people, JSON for programs."""

from __future__ import annotations

import json

from bimpe_iac.manifest.issues import InvalidStackError
from bimpe_iac.manifest.stack import Stack
from bimpe_iac.model.issues import display_path


def _count(number: int, noun: str, plural: str | None = None) -> str:
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def valid_text(stack: Stack) -> str:
    counts = ", ".join(
        _count(stack.count(section.name), section.noun, section.nouns) for section in stack.sections
    )
    return f"Stack {stack.name} (env {stack.environment}) is valid: {counts}."


def valid_json(stack: Stack) -> str:
    return json.dumps(
        {
            "valid": True,
            "stack": stack.name,
            "environment": stack.environment,
            "counts": {section.counted_as: stack.count(section.name) for section in stack.sections},
        },
        indent=2,
    )


def invalid_text(error: InvalidStackError) -> str:
    return str(error)


def invalid_json(error: InvalidStackError) -> str:
    errors = [
        {
            "file": issue.place if issue.origin else display_path(issue.file),
            "line": issue.line,
            "column": issue.column,
            "address": issue.address,
            "message": issue.message,
        }
        for issue in error.issues
    ]
    return json.dumps({"valid": False, "errors": errors}, indent=2)
