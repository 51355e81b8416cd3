"""The tool's error hierarchy. The CLI's single boundary turns these into exit codes.

BimpeIacError                 exit 1, one clear message, never a traceback
├── ConfigError               bad command-line input or target settings
├── ManifestError             a stack that does not load or validate (carries located issues)
├── StateError                a state file or backend that cannot be read or written
│   └── LockError             the state is locked by another run
├── PlanError                 a saved plan that cannot be applied as it stands
└── ApiFailure                BimpeAI answered with an error (carries the request id)
"""

from __future__ import annotations


class BimpeIacError(Exception):
    """Root of every error the tool reports to its user as one message and exit code 1."""

    exit_code = 1


class ConfigError(BimpeIacError):
    pass


class ManifestError(BimpeIacError):
    pass


class StateError(BimpeIacError):
    pass


class LockError(StateError):
    pass


class PlanError(BimpeIacError):
    pass


class ApiFailure(BimpeIacError):
    def __init__(self, message: str, *, request_id: str | None = None) -> None:
        suffix = f" (request id {request_id})" if request_id else ""
        super().__init__(f"{message}{suffix}")
        self.request_id = request_id
