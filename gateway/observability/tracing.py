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


def use_provider(provider: trace.TracerProvider | None) -> None:
    """Record spans with `provider` instead of the global one (None: back to the global)."""
    global _provider
    _provider = provider


def _tracer() -> trace.Tracer:
    return (_provider or trace.get_tracer_provider()).get_tracer("gateway")


def configure(env: Mapping[str, str] | None = None) -> bool:
    """Install an OTLP-exporting provider when asked to and able to; True if one is active."""
    env = os.environ if env is None else env
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
    return True


def recording() -> bool:
    """Whether an SDK provider is installed (else the API's proxy answers, recording nothing)."""
    if _provider is not None:
        return True
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


@contextlib.contextmanager
def request_span(name: str, parent: TraceParent | None) -> Iterator[Span]:
    """The request's span, child of the caller's `traceparent` when there is one."""
    remote = None
    if parent is not None:
        remote = SpanContext(
            parent.trace_id, parent.span_id, is_remote=True, trace_flags=TraceFlags(parent.flags)
        )
    if recording():
        context = trace.set_span_in_context(NonRecordingSpan(remote)) if remote else None
        with _tracer().start_as_current_span(name, context=context, kind=SpanKind.SERVER) as span:
            yield span
        return
    span = NonRecordingSpan(
        SpanContext(
            remote.trace_id if remote else random.getrandbits(128) or 1,
            random.getrandbits(64) or 1,
            is_remote=False,
            trace_flags=remote.trace_flags if remote else TraceFlags(0),
        )
    )
    with trace.use_span(span, end_on_exit=False):
        yield span


@contextlib.contextmanager
def execution_span(executor: str) -> Iterator[Span]:
    """A GraphQL operation's execution under the request: "plan" (the planner's cached
    plan) or "reference" (strawberry); the backend fetches it makes nest under it."""
    with _tracer().start_as_current_span(
        executor, attributes={"gateway.executor": executor}
    ) as span:
        yield span


@contextlib.contextmanager
def fetch_span(backend: str, method: str) -> Iterator[Span]:
    with _tracer().start_as_current_span(
        f"{method} {backend}", kind=SpanKind.CLIENT, attributes={"gateway.backend": backend}
    ) as span:
        yield span


def current_traceparent() -> str | None:
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return TraceParent(context.trace_id, context.span_id, int(context.trace_flags)).header()
