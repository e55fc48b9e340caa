"""Which correlation id a request travels under: the caller's, else one made up here.

    correlation_id({"x-request-id": "abc-1"}, None)                       -> "abc-1"
    correlation_id({"traceparent": "00-4bf9…4736-00f0…02b7-01"}, None)    -> "4bf9…4736"
    correlation_id({}, {"requestContext": {"requestId": "c6af9ac6-…"}})   -> "c6af9ac6-…"
    correlation_id({}, None)                                              -> 32 random hex digits

A caller's id is written into logs and sent to backends, so only a short id of safe
characters is taken as it is: anything else (a newline, a quote, 200 characters) could forge
or break log lines, and counts as absent.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_SAFE_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")


@dataclass(frozen=True, slots=True)
class TraceParent:
    """A W3C `traceparent` header's parts (https://www.w3.org/TR/trace-context/)."""

    trace_id: int
    span_id: int
    flags: int

    def header(self) -> str:
        return f"00-{self.trace_id:032x}-{self.span_id:016x}-{self.flags:02x}"


def parse_traceparent(value: str | None) -> TraceParent | None:
    """None for anything the spec says to ignore (version ff, all-zero ids, bad shape)."""
    match = _TRACEPARENT.fullmatch(value.strip()) if value else None
    if match is None or match[1] == "ff":
        return None
    trace_id, span_id = int(match[2], 16), int(match[3], 16)
    if not trace_id or not span_id:
        return None
    return TraceParent(trace_id=trace_id, span_id=span_id, flags=int(match[4], 16))


def safe_id(value: str | None) -> str | None:
    return value if value is not None and _SAFE_ID.fullmatch(value) else None


def correlation_id(headers: Mapping[str, str], aws_event: Any = None) -> str:
    """`headers` with lower-case names; `aws_event` is Mangum's `scope["aws.event"]`."""
    given = safe_id(headers.get("x-request-id"))
    if given is not None:
        return given
    parent = parse_traceparent(headers.get("traceparent"))
    if parent is not None:
        return f"{parent.trace_id:032x}"
    api_gateway = _api_gateway_request_id(aws_event)
    return api_gateway or new_request_id()


def new_request_id() -> str:
    """32 random hex digits: uuid4's randomness, without building its object per request."""
    return os.urandom(16).hex()


def _api_gateway_request_id(event: Any) -> str | None:
    if not isinstance(event, dict):
        return None
    context = event.get("requestContext")
    value = context.get("requestId") if isinstance(context, dict) else None
    return safe_id(value) if isinstance(value, str) else None
