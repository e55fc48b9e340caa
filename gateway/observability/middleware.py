"""`ObservabilityMiddleware`: the outermost layer. It gives each request its correlation id
(gateway.observability.request_id) in the request's notes (gateway.observability.hooks),
where the inner layers read it (the passthrough forwards it, the backend client adds it to
GraphQL's calls; the scope's headers are left as they came), returns it on every answer,
runs the request in its trace span, and once the last byte is sent writes the request's one
log line and counts it.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable

from gateway.asgi import ASGIApp, Message, Receive, Scope, Send
from gateway.auth import TokenVerifier, identify
from gateway.observability import tracing
from gateway.observability.hooks import METRICS, RequestNotes, begin_request, end_request
from gateway.observability.logline import RequestLine, line_json, operation_name
from gateway.observability.metrics import Key, Metrics, labels_of
from gateway.observability.request_id import correlation_id, parse_traceparent
from gateway.observability.sinks import write_stdout

QUIET_PATHS = frozenset({"/healthz", "/metrics"})  # polled by probes and scrapers
MAX_CAPTURED_BODY = 64 * 1024  # enough for any operation's name; bodies are capped anyway
MAX_OPERATION_LABELS = 200  # operation names are the client's: bound the metric series


class _Seen:
    """What the answer told, as it went by."""

    __slots__ = ("body", "headers", "status")

    def __init__(self) -> None:
        self.status = 500  # if the app fails before answering, the server answers 500
        self.headers: dict[bytes, bytes] = {}
        self.body = bytearray()


class ObservabilityMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        verifier: TokenVerifier,
        metrics: Metrics = METRICS,
        write: Callable[[str], None] = write_stdout,
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.metrics = metrics
        self.write = write
        self._operations: set[str] = set()
        tracing.configure()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _wanted_headers(scope["headers"])
        request_id = correlation_id(headers, scope.get("aws.event"))
        seen, notes = _Seen(), RequestNotes(request_id)
        capture = scope["method"] == "POST" and scope["path"].startswith("/graphql/")

        async def receive_seen() -> Message:
            message = await receive()
            if capture and len(seen.body) < MAX_CAPTURED_BODY:
                seen.body += message.get("body", b"")
            return message

        async def send_seen(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen.status = message["status"]
                # ours replaces any other (a replayed answer's, a backend's)
                kept = _told_and_kept(message.get("headers", ()), seen.headers)
                kept.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": kept}
            await send(message)

        started = time.perf_counter()
        token = begin_request(notes)
        parent = parse_traceparent(headers.get("traceparent"))
        trace_id = 0
        receiving = receive_seen if capture else receive
        try:
            if tracing.recording():
                with tracing.request_span(f"{scope['method']} {scope['path']}", parent) as span:
                    trace_id = span.get_span_context().trace_id
                    await self.app(scope, receiving, send_seen)
                    span.set_attribute("http.response.status_code", seen.status)
            else:
                notes.trace = tracing.untraced(parent)
                trace_id = notes.trace.trace_id
                await self.app(scope, receiving, send_seen)
        finally:
            end_request(token)
            elapsed = time.perf_counter() - started
            if scope["path"] not in QUIET_PATHS:
                caller = (await identify(headers.get("authorization"), self.verifier)).role
                trace = f"{trace_id:032x}" if trace_id else None
                line = self._line(scope, seen, notes, elapsed, caller or "anonymous", trace)
                self.write(line_json(line))
                self._count(line, seen, elapsed)

    def _line(
        self,
        scope: Scope,
        seen: _Seen,
        notes: RequestNotes,
        elapsed: float,
        caller: str,
        trace_id: str | None,
    ) -> RequestLine:
        path: str = scope["path"]
        line = RequestLine(
            request_id=notes.request_id,
            kind="other",
            method=scope["method"],
            status=seen.status,
            duration_ms=round(elapsed * 1000, 3),
            caller=caller,
            cache=_header(seen, b"x-cache"),
            executor=_header(seen, b"x-gateway-executor"),
            backend_calls=notes.backend_calls,
            trace_id=trace_id,
        )
        if path.startswith("/graphql/"):
            query = scope["query_string"] if scope["method"] == "GET" else b""
            line["kind"], line["schema"] = "graphql", path.removeprefix("/graphql/")
            line["operation"] = operation_name(body=bytes(seen.body), query_string=query)
        elif path.startswith("/api/"):
            line["kind"], line["route"], line["target"] = "rest", notes.route, notes.target
        return line

    def _count(self, line: RequestLine, seen: _Seen, elapsed: float) -> None:
        operation = self._operation_label(line.get("operation"))
        requests, seconds = _request_keys(
            line["kind"], line.get("schema") or "", line.get("route") or "", operation,
            line["status"],
        )  # fmt: skip
        self.metrics.count_key(requests)
        self.metrics.observe_key(seconds, elapsed)
        cache, executor = line.get("cache"), line.get("executor")
        if cache:
            self.metrics.count(
                "gateway_cache_answers_total", tier=cache, schema=line.get("schema") or ""
            )
        if executor:
            self.metrics.count("gateway_executions_total", executor=executor)
        if line["status"] == 429 and not line["backend_calls"] and b"retry-after" in seen.headers:
            self.metrics.count("gateway_rate_limited_total", kind=line["kind"])

    def _operation_label(self, name: str | None) -> str:
        if name is None:
            return ""
        if name not in self._operations and len(self._operations) >= MAX_OPERATION_LABELS:
            return "other"
        self._operations.add(name)
        return name


# The request headers this layer reads, and the answer headers its line and counts read:
# only these are decoded, per request.
_WANTED = frozenset({b"x-request-id", b"traceparent", b"authorization"})
_TOLD = frozenset({b"x-cache", b"x-gateway-executor", b"retry-after"})


def _wanted_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    return {k.lower().decode(): v.decode("latin-1") for k, v in raw if k.lower() in _WANTED}


@functools.lru_cache(maxsize=4096)  # bounded: operation labels are, and the rest are ours
def _request_keys(
    kind: str, schema: str, route: str, operation: str, status: int
) -> tuple[Key, Key]:
    """The metric keys of a request's count and duration, sorted once per kind of request."""
    what = {"kind": kind, "schema": schema, "route": route}
    return (
        (
            "gateway_requests_total",
            labels_of({**what, "operation": operation, "status": str(status)}),
        ),
        ("gateway_request_seconds", labels_of(what)),
    )


def _told_and_kept(
    headers: Iterable[tuple[bytes, bytes]], told: dict[bytes, bytes]
) -> list[tuple[bytes, bytes]]:
    """One pass over an answer's headers: the ones the line reads go into `told`; all but
    any `x-request-id` are kept."""
    kept = []
    for name, value in headers:
        lower = name.lower()
        if lower in _TOLD:
            told[lower] = value
        elif lower == b"x-request-id":
            continue
        kept.append((name, value))
    return kept


def _header(seen: _Seen, name: bytes) -> str | None:
    value = seen.headers.get(name)
    return value.decode("latin-1")[:32] if value else None
