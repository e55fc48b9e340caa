"""The one JSON line written per request, the same under uvicorn and on Lambda.

    line_json(RequestLine(request_id="abc-1", kind="graphql", schema="web",
                          operation="Trips", method="POST", status=200, ...))
    -> '{"level":"INFO","message":"request","request_id":"abc-1","kind":"graphql",...}'

What goes in is chosen field by field: there is no field a token, an email, a query's text
or its variables could reach. The operation name is the only part of a GraphQL body kept,
and only when it is a GraphQL name (letters, digits, underscore).
"""

from __future__ import annotations

import functools
import re
import time
from typing import Any, Required, TypedDict
from urllib.parse import parse_qs

import orjson

_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,127}")
# The name of the first operation in a document: `query Trips(...)`, `mutation Book {`.
_FIRST_OPERATION = re.compile(rb"\b(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)")


class RequestLine(TypedDict, total=False):
    """A plain dict (built per request: a dataclass and its copy cost a tenth of a cached
    answer); absent or None fields are left out of the line."""

    request_id: Required[str]
    kind: Required[str]  # graphql | rest | other
    method: Required[str]
    status: Required[int]
    duration_ms: Required[float]
    caller: Required[str]  # anonymous | traveler | agent
    schema: str | None  # graphql: web | mobile
    operation: str | None  # graphql: the operation's name, when it has one
    route: str | None  # rest: the routes.yaml entry that decided, e.g. "GET /api/trips/*"
    target: str | None  # rest: the backend that answered
    cache: str | None  # the X-Cache the answer carried (l1, l2, miss, ...)
    executor: str | None  # x-gateway-executor, where the endpoint sets it
    backend_calls: int
    trace_id: str | None


def line_json(line: RequestLine) -> str:
    head: dict[str, Any] = {"level": "INFO", "message": "request", "timestamp": _now()}
    head.update((name, value) for name, value in line.items() if value is not None)
    return orjson.dumps(head).decode()


def _now() -> str:
    """UTC, milliseconds, as CloudWatch Logs Insights parses it."""
    seconds = time.time()
    whole = int(seconds)
    return f"{_second(whole)}.{int((seconds - whole) * 1000):03d}Z"


@functools.lru_cache(maxsize=4)
def _second(whole: int) -> str:
    """Formatted once per second, not once per request."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))


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
