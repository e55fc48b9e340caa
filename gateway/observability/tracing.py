"""OpenTelemetry spans: request → each backend fetch, and the W3C `traceparent` sent on.

Only `opentelemetry-api` is needed (FastAPI already depends on it, so it is in the Lambda
package at no cost). With no SDK configured, spans record nothing, yet backends still get a
`traceparent`: the request's own span id, under the caller's trace id (or a new one), so a
backend's traces join the caller's. With `OTEL_EXPORTER_OTLP_ENDPOINT` set and
`opentelemetry-sdk` plus `opentelemetry-exporter-otlp-proto-http` installed, spans are
recorded and exported over OTLP (docs/operations.md).
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
from collections.abc import Iterator, Mapping

from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, SpanKind, TraceFlags

from gateway.observability.request_id import TraceParent

_log = logging.getLogger(__name__)
# Set by `use_provider` (tests, or a caller with its own SDK set-up); else the global one.
_provider: trace.TracerProvider | None = None
# Whether the global provider records, looked at when an app is built (`configure`), not per
# call: asking OpenTelemetry reads the environment each time, and this runs several times per
# request. A provider set globally must be set before the app is built (as
# `opentelemetry-instrument` does, and `configure` itself).
_global_records = False


def use_provider(provider: trace.TracerProvider | None) -> None:
    """Record spans with `provider` instead of the global one (None: back to the global)."""
    global _provider
    _provider = provider


def _tracer() -> trace.Tracer:
    return (_provider or trace.get_tracer_provider()).get_tracer("gateway")


def configure(env: Mapping[str, str] | None = None) -> bool:
    """Install an OTLP-exporting provider when asked to and able to; True if one is active."""
    global _global_records
    env = os.environ if env is None else env
    _global_records = not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
    if recording():
        return True
    if not env.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return False
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        _log.warning(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but opentelemetry-sdk or "
            "opentelemetry-exporter-otlp-proto-http is not installed: no spans are exported"
        )
        return False
    name = env.get("OTEL_SERVICE_NAME", "bff-gateway")
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _global_records = True
    return True


def recording() -> bool:
    """Whether an SDK provider is installed (else the API's proxy answers, recording nothing)."""
    return _provider is not None or _global_records


@contextlib.contextmanager
def request_span(name: str, parent: TraceParent | None) -> Iterator[Span]:
    """The request's recorded span (`recording()` only), child of the caller's `traceparent`
    when there is one."""
    context = None
    if parent is not None:
        remote = SpanContext(
            parent.trace_id, parent.span_id, is_remote=True, trace_flags=TraceFlags(parent.flags)
        )
        context = trace.set_span_in_context(NonRecordingSpan(remote))
    with _tracer().start_as_current_span(name, context=context, kind=SpanKind.SERVER) as span:
        yield span


def untraced(parent: TraceParent | None) -> TraceParent:
    """With no SDK, nothing is recorded and no OpenTelemetry context is entered (that cost a
    few per cent of a cached answer): the request still gets its own span id under the
    caller's trace id (or a new one), which backends receive as its `traceparent`."""
    return TraceParent(
        trace_id=parent.trace_id if parent else random.getrandbits(128) or 1,
        span_id=random.getrandbits(64) or 1,
        flags=parent.flags if parent else 0,
    )


@contextlib.contextmanager
def execution_span(executor: str) -> Iterator[Span]:
    """A GraphQL operation's execution under the request: "plan" (the planner's cached
    plan) or "reference" (strawberry); the backend fetches it makes nest under it."""
    if not recording():
        yield trace.INVALID_SPAN
        return
    with _tracer().start_as_current_span(
        executor, attributes={"gateway.executor": executor}
    ) as span:
        yield span


@contextlib.contextmanager
def fetch_span(backend: str, method: str) -> Iterator[Span]:
    if not recording():
        yield trace.INVALID_SPAN
        return
    with _tracer().start_as_current_span(
        f"{method} {backend}", kind=SpanKind.CLIENT, attributes={"gateway.backend": backend}
    ) as span:
        yield span


def current_traceparent() -> str | None:
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return TraceParent(context.trace_id, context.span_id, int(context.trace_flags)).header()
