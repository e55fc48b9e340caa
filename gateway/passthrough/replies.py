"""The passthrough's own answers, as plain ASGI: a status and `{"error", "message"}`.

Never a backend URL or a stack: messages are the gateway's own words.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from gateway.asgi import Send
from gateway.errors import (
    BackendError,
    BackendTimeout,
    BadUserInput,
    Conflict,
    Forbidden,
    GatewayError,
    NotFound,
    Unauthenticated,
)
from gateway.passthrough.headers import PRIVATE

Headers = Sequence[tuple[bytes, bytes]]


async def reply(
    send: Send, status: int, error: str, message: str, *, headers: Headers = ()
) -> None:
    body = orjson.dumps({"error": error, "message": message})
    start = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        PRIVATE,
        *headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": body})


async def reply_error(send: Send, error: GatewayError) -> None:
    """A GatewayError as the REST client sees it: 401, 403, 422, 502 or 504."""
    status, code, extra = _shape(error)
    await reply(send, status, code, error.message, headers=extra)


def _shape(error: GatewayError) -> tuple[int, str, list[tuple[bytes, bytes]]]:
    if isinstance(error, Unauthenticated):
        challenge = b"Bearer" if error.reason is None else b'Bearer error="invalid_token"'
        return 401, "unauthenticated", [(b"www-authenticate", challenge)]
    if isinstance(error, Forbidden):
        return 403, "forbidden", []
    if isinstance(error, BadUserInput):
        return 422, "invalid", []
    if isinstance(error, NotFound):
        return 404, "not_found", []
    if isinstance(error, Conflict):
        return 409, "conflict", []
    if isinstance(error, BackendTimeout):
        return 504, "gateway_timeout", []
    if isinstance(error, BackendError):
        return 502, "bad_gateway", []
    return 502, "bad_gateway", []
