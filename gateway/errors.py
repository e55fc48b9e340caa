"""The gateway's own errors: what a client may see, and nothing else.

    GatewayError                  extensions.code
     ├── Unauthenticated          UNAUTHENTICATED   no token, or a token that was refused
     ├── Forbidden                FORBIDDEN         someone else's data
     ├── BadUserInput             BAD_USER_INPUT    bad arguments, or a backend's 422
     ├── NotFound                 NOT_FOUND         a backend's 404 where null won't do
     ├── Conflict                 CONFLICT          a 409 from a backend
     └── BackendError
          ├── BackendUnavailable  BACKEND_UNAVAILABLE  connection error or 5xx
          └── BackendTimeout      BACKEND_TIMEOUT      no answer within the backend's timeout

`BackendRejected` is not client-facing: it carries a backend's 4xx answer to the one place
that decides what it means (`rejection_to_error`). Messages never contain a backend URL.
"""

from __future__ import annotations

from typing import Any


class GatewayError(Exception):
    code = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def extensions(self) -> dict[str, Any]:
        return {"code": self.code}


class Unauthenticated(GatewayError):
    code = "UNAUTHENTICATED"

    def __init__(self, reason: str | None = None) -> None:
        detail = f" ({reason})" if reason else ""
        super().__init__(f"A valid bearer token is required{detail}.")
        self.reason = reason


class Forbidden(GatewayError):
    code = "FORBIDDEN"

    def __init__(self, what: str) -> None:
        super().__init__(f"Not allowed to access {what}.")


class BadUserInput(GatewayError):
    code = "BAD_USER_INPUT"


class NotFound(GatewayError):
    code = "NOT_FOUND"


class Conflict(GatewayError):
    code = "CONFLICT"


class BackendError(GatewayError):
    def __init__(self, *, backend: str, detail: str) -> None:
        super().__init__(f"The {backend} backend {detail}.")
        self.backend = backend


class BackendUnavailable(BackendError):
    code = "BACKEND_UNAVAILABLE"

    def __init__(self, *, backend: str, status: int | None = None) -> None:
        detail = f"answered {status}" if status else "could not be reached"
        super().__init__(backend=backend, detail=detail)
        self.status = status


class BackendTimeout(BackendError):
    code = "BACKEND_TIMEOUT"

    def __init__(self, *, backend: str, timeout_s: float) -> None:
        super().__init__(backend=backend, detail=f"did not answer within {timeout_s:g} s")
        self.timeout_s = timeout_s


class BackendRejected(Exception):
    """A backend's 4xx answer: `status`, its error code and its message."""

    def __init__(self, *, backend: str, status: int, error: str, message: str) -> None:
        super().__init__(f"{backend} answered {status} {error}: {message}")
        self.backend = backend
        self.status = status
        self.error = error
        self.message = message


def rejection_to_error(rejection: BackendRejected) -> GatewayError:
    """422 → BAD_USER_INPUT with the backend's message, 409 → CONFLICT, 404 → NOT_FOUND."""
    if rejection.status == 409:
        return Conflict(rejection.message or "The request conflicts with the current state.")
    if rejection.status == 404:
        return NotFound(rejection.message or "Not found.")
    if rejection.status == 422 or 400 <= rejection.status < 500:
        return BadUserInput(rejection.message or "The request was refused.")
    return BackendUnavailable(backend=rejection.backend, status=rejection.status)
