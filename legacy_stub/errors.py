"""The stub's errors, each carrying its HTTP status and the contract's error code.

StubError                      → {"error": code, "message": str(exc)}
├── NotFoundError(kind, id)    → 404 not_found
├── InvalidError(message)      → 422 invalid
├── ConflictError(message)     → 409 conflict
└── UnavailableError(status)   → status (503 by default) unavailable
"""

from __future__ import annotations

from typing import ClassVar


class StubError(Exception):
    code: ClassVar[str] = "unavailable"
    status: int = 503

    def payload(self) -> dict[str, str]:
        return {"error": self.code, "message": str(self)}


class NotFoundError(StubError):
    code = "not_found"
    status = 404

    def __init__(self, kind: str, id: str) -> None:
        super().__init__(f"{kind} {id!r} not found")
        self.kind = kind
        self.id = id


class InvalidError(StubError):
    code = "invalid"
    status = 422


class ConflictError(StubError):
    code = "conflict"
    status = 409


class UnavailableError(StubError):
    code = "unavailable"

    def __init__(self, *, path: str, status: int = 503) -> None:
        super().__init__(f"injected fault on {path}")
        self.path = path
        self.status = status
