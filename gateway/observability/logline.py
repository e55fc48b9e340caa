"""The one JSON line written per request, the same under uvicorn and on Lambda.

    RequestLine(request_id="abc-1", kind="graphql", schema="web", operation="Trips",
                method="POST", status=200, duration_ms=12.3, ...).json()
    -> '{"level":"INFO","message":"request","request_id":"abc-1","kind":"graphql",...}'

What goes in is chosen field by field: there is no field a token, an email, a query's text
or its variables could reach. The operation name is the only part of a GraphQL body kept,
and only when it is a GraphQL name (letters, digits, underscore).
"""

from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import parse_qs

import orjson

_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,127}")
# The name of the first operation in a document: `query Trips(...)`, `mutation Book {`.
_FIRST_OPERATION = re.compile(rb"\b(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)")


@dataclass(frozen=True, slots=True)
class RequestLine:
    request_id: str
    kind: str  # graphql | rest | other
    method: str
    status: int
    duration_ms: float
    caller: str  # anonymous | traveler | agent
    schema: str | None = None  # graphql: web | mobile
    operation: str | None = None  # graphql: the operation's name, when it has one
    route: str | None = None  # rest: the routes.yaml entry that decided, e.g. "GET /api/trips/*"
    target: str | None = None  # rest: the backend that answered
    cache: str | None = None  # the X-Cache the answer carried (l1, l2, miss, ...)
    executor: str | None = None  # x-gateway-executor, where the endpoint sets it
    backend_calls: int = 0
    trace_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        # Field by field, not dataclasses.asdict: that deep-copies every value, and this
        # runs once per request (it was a sixth of a cached answer's time).
        line: dict[str, Any] = {"level": "INFO", "message": "request", "timestamp": _now()}
        for name in _FIELDS:
            value = getattr(self, name)
            if value is not None:
                line[name] = value
        return line

    def json(self) -> str:
        return orjson.dumps(self.as_dict()).decode()


_FIELDS = tuple(field.name for field in fields(RequestLine))


def _now() -> str:
    """UTC, milliseconds, as CloudWatch Logs Insights parses it."""
    seconds = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{stamp}.{int(seconds % 1 * 1000):03d}Z"


# Remembered: clients send the same few requests over and over, and this runs per request.
@functools.lru_cache(maxsize=1024)
def operation_name(*, body: bytes = b"", query_string: bytes = b"") -> str | None:
    """A GraphQL request's operation name, from a POST body or a GET query string.

    operation_name(body=b'{"query":"query Trips { ... }"}')            -> "Trips"
    operation_name(query_string=b"query=%7Bme%7Bid%7D%7D")              -> None (anonymous)
    """
    if query_string:
        params = parse_qs(query_string.decode("latin-1"))
        return _pick(params.get("operationName", [None])[0], params.get("query", [""])[0])
    if not body:
        return None
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(payload, dict):
        return None  # a batch: no single name
    name, query = payload.get("operationName"), payload.get("query")
    return _pick(name if isinstance(name, str) else None, query if isinstance(query, str) else "")


def _pick(name: str | None, query: str | None) -> str | None:
    if name and _NAME.fullmatch(name):
        return name
    found = _FIRST_OPERATION.search((query or "").encode())
    return found[1].decode() if found else None
