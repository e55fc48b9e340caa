"""What the rest of the gateway calls, in one line each, to be seen.

- the backend client: `with BackendCall(name, method) as call: ...; call.status = 200`
  around each fetch (a span, a latency, headers to send on: `outbound_headers()`);
- the route stats: `route_call(route_key, backend, ok=...)` after it, which files the fetch
  under its route; `shadow_outcome(route_key, outcome)` for shadows.

The request's notes travel in a context variable, set by `ObservabilityMiddleware`; outside
a request (a shadow cut off after the answer) the hooks still count, with no request to tell.
"""

from __future__ import annotations

import contextlib
import functools
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gateway.observability import tracing
from gateway.observability.metrics import Key, Metrics, labels_of
from gateway.observability.request_id import TraceParent

if TYPE_CHECKING:
    from opentelemetry.trace import Span

# Process-wide, like prometheus-client's default registry: backend calls, route stats and
# the middleware all count into it without being handed it through every constructor.
METRICS = Metrics()


@dataclass
class RequestNotes:
    """Filled in while one request runs; read once, for its log line."""

    request_id: str
    # With no OpenTelemetry SDK: the request's own trace and span ids (tracing.untraced).
    trace: TraceParent | None = None
    route: str | None = None
    target: str | None = None
    backend_calls: int = 0


@dataclass
class CallOutcome:
    backend: str
    status: str = "error"  # the HTTP status, or "timeout" / "unavailable"
    seconds: float = 0.0


_notes: ContextVar[RequestNotes | None] = ContextVar("gateway_request_notes", default=None)
# The last backend call made in this task, waiting for `route_call` to name its route.
_last_call: ContextVar[CallOutcome | None] = ContextVar("gateway_last_call", default=None)


def current_notes() -> RequestNotes | None:
    return _notes.get()


def begin_request(notes: RequestNotes) -> object:
    return _notes.set(notes)


def end_request(token: object) -> None:
    _notes.reset(token)  # type: ignore[arg-type]


def outbound_headers() -> list[tuple[str, str]]:
    """`x-request-id` and `traceparent` for a backend call made now."""
    notes = _notes.get()
    if notes is None:
        headers = []
    else:
        headers = [("x-request-id", notes.request_id)]
        if notes.trace is not None:
            return [*headers, ("traceparent", notes.trace.header())]
    parent = tracing.current_traceparent()
    if parent is not None:
        headers.append(("traceparent", parent))
    return headers


def with_outbound(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A forwarded request's headers with this gateway's ids in place of the caller's."""
    ours = outbound_headers()
    names = {name for name, _ in ours}
    return [(k, v) for k, v in headers if k.lower() not in names] + ours


class BackendCall:
    """Around one backend fetch (until its headers are in); set `.status` once answered.
    A class, not a generator: it wraps every backend call, and enters a span only when an
    SDK records one."""

    __slots__ = ("_method", "_outcome", "_scope", "_span", "_started")

    def __init__(self, backend: str, method: str) -> None:
        self._outcome = CallOutcome(backend)
        self._method = method
        self._started = 0.0
        self._scope: contextlib.AbstractContextManager[Span] | None = None
        self._span: Span | None = None

    def __enter__(self) -> CallOutcome:
        if tracing.recording():
            self._scope = tracing.fetch_span(self._outcome.backend, self._method)
            self._span = self._scope.__enter__()
        self._started = time.perf_counter()
        return self._outcome

    def __exit__(self, *exc_info: Any) -> None:
        outcome = self._outcome
        outcome.seconds = time.perf_counter() - self._started
        _last_call.set(outcome)
        notes = _notes.get()
        if notes is not None:
            notes.backend_calls += 1
        if self._scope is not None and self._span is not None:
            self._span.set_attribute("http.response.status_code", outcome.status)
            self._scope.__exit__(*exc_info)


def route_call(route_key: str, backend: str, *, ok: bool) -> None:
    """After a call through a route: the canary share, and the fetch filed under the route."""
    calls, ok_key, error_key, seconds = _route_keys(route_key, backend)
    METRICS.count_key(calls)
    notes = _notes.get()
    if notes is not None:
        notes.route, notes.target = route_key, backend
    outcome, _ = _last_call.get(), _last_call.set(None)
    if outcome is None or outcome.backend != backend:
        METRICS.count_key(ok_key if ok else error_key)
        return
    METRICS.count_key(_status_key(route_key, backend, outcome.status))
    if outcome.seconds:
        METRICS.observe_key(seconds, outcome.seconds)


@functools.lru_cache(maxsize=1024)  # routes x backends: the table's own names
def _route_keys(route_key: str, backend: str) -> tuple[Key, Key, Key, Key]:
    """The metric keys of one route's calls to one backend, sorted once, not per request."""
    labels = {"backend": backend, "route": route_key}
    return (
        ("gateway_route_calls_total", labels_of(labels)),
        ("gateway_backend_calls_total", labels_of({**labels, "status": "ok"})),
        ("gateway_backend_calls_total", labels_of({**labels, "status": "error"})),
        ("gateway_backend_seconds", labels_of(labels)),
    )


@functools.lru_cache(maxsize=4096)  # routes x backends x the statuses they answer
def _status_key(route_key: str, backend: str, status: str) -> Key:
    labels = {"backend": backend, "route": route_key, "status": status}
    return ("gateway_backend_calls_total", labels_of(labels))


def shadow_outcome(route_key: str, outcome: str) -> None:
    METRICS.count("gateway_shadow_total", route=route_key, outcome=outcome)
    call, _ = _last_call.get(), _last_call.set(None)  # the shadow's own fetch, if it made one
    if call is not None:
        labels = {"backend": call.backend, "route": route_key}
        METRICS.count("gateway_backend_calls_total", **labels, status=call.status)
        METRICS.observe("gateway_backend_seconds", call.seconds, **labels)
