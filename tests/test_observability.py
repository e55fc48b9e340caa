"""The correlation id, the log line, the metrics and the spans, decided without a server: the
middleware is driven around tiny inline ASGI apps, backend calls go through the real
`BackendClient` on an `httpx.MockTransport` that keeps what it was sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from gateway.asgi import Receive, Scope, Send
from gateway.auth import verifier_from_settings
from gateway.backend import BackendClient
from gateway.observability import tracing
from gateway.observability.hooks import route_call
from gateway.observability.logline import RequestLine, line_json, operation_name
from gateway.observability.metrics import Metrics
from gateway.observability.middleware import ObservabilityMiddleware
from gateway.observability.request_id import TraceParent, correlation_id, parse_traceparent
from gateway.observability.sinks import emf_lines, prometheus_text
from tests.conftest import SECRET, dev_token
from tests.support import inprocess

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE}-00f067aa0ba902b7-01"
VERIFIER = verifier_from_settings(jwt_secret=SECRET, jwks_url=None)


# --- the correlation id ------------------------------------------------------------------


def test_the_callers_request_id_comes_first() -> None:
    headers = {"x-request-id": "abc-1", "traceparent": PARENT}
    assert correlation_id(headers, {"requestContext": {"requestId": "apigw"}}) == "abc-1"


def test_then_the_trace_id_then_api_gateways_request_id() -> None:
    event = {"requestContext": {"requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"}}
    assert correlation_id({"traceparent": PARENT}, event) == TRACE
    assert correlation_id({}, event) == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


def test_an_unsafe_request_id_counts_as_absent() -> None:
    for given in ('a"b', "a\nb", "x" * 129, ""):
        made = correlation_id({"x-request-id": given}, None)
        assert made != given and len(made) == 32 and int(made, 16) >= 0


@pytest.mark.parametrize(
    "value",
    [
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # version ff is invalid
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # all-zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # all-zero span id
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  # upper case
        "garbage",
        None,
    ],
)
def test_a_traceparent_the_spec_says_to_ignore(value: str | None) -> None:
    assert parse_traceparent(value) is None


def test_a_traceparent_round_trips() -> None:
    parsed = parse_traceparent(PARENT)
    assert parsed == TraceParent(int(TRACE, 16), 0x00F067AA0BA902B7, 1)
    assert parsed.header() == PARENT


# --- the operation name ------------------------------------------------------------------


def test_the_operation_name_from_a_body_or_a_query_string() -> None:
    assert operation_name(body=b'{"query": "query Trips($a: ID) { me { id } }"}') == "Trips"
    assert operation_name(body=b'{"query": "{ me { id } }", "operationName": "Named"}') == "Named"
    assert operation_name(body=b'{"query": "{ me { id } }"}') is None
    assert operation_name(body=b'[{"query": "query A { me { id } }"}]') is None
    assert operation_name(body=b"not json") is None
    assert operation_name(body=b'{"operationName": "bad name!", "query": "{ x }"}') is None
    assert operation_name(query_string=b"query=query%20Top%20%7Bx%7D&variables=%7B%7D") == "Top"


# --- the log line ------------------------------------------------------------------------


def test_a_line_holds_exactly_its_fields() -> None:
    line = RequestLine(
        request_id="abc-1", kind="rest", method="GET", status=200, duration_ms=1.5,
        caller="agent", route="GET /api/fx", target="legacy", backend_calls=1,
    )  # fmt: skip
    payload = json.loads(line_json(line))
    assert payload.pop("timestamp").endswith("Z")
    assert payload == {
        "level": "INFO",
        "message": "request",
        "request_id": "abc-1",
        "kind": "rest",
        "method": "GET",
        "status": 200,
        "duration_ms": 1.5,
        "caller": "agent",
        "route": "GET /api/fx",
        "target": "legacy",
        "backend_calls": 1,
    }


@dataclass
class Answering:
    """An inline app: reads the whole body, answers with the given headers."""

    status: int = 200
    headers: tuple[tuple[bytes, bytes], ...] = ()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive()).get("more_body"):
            pass
        headers = [(b"content-type", b"application/json"), *self.headers]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})


def observed(app: Any, metrics: Metrics | None = None) -> tuple[httpx.AsyncClient, list[str]]:
    lines: list[str] = []
    middleware = ObservabilityMiddleware(
        app, verifier=VERIFIER, metrics=metrics or Metrics(), write=lines.append
    )
    transport = httpx.ASGITransport(app=middleware)
    return httpx.AsyncClient(transport=transport, base_url="http://gw"), lines


async def test_no_token_email_query_or_variables_reach_the_line() -> None:
    app = Answering(headers=((b"x-cache", b"l1"), (b"x-gateway-executor", b"planned")))
    client, lines = observed(app)
    token = dev_token("t-1")
    query = "query Me($email: String) { me { email } }"
    variables = {"email": "ada.lovelace@example.com", "card": "4111111111111111"}
    async with client as c:
        answer = await c.post(
            "/graphql/web?email=ada.lovelace@example.com",
            json={"query": query, "variables": variables},
            headers={"authorization": f"Bearer {token}", "x-request-id": "req-7"},
        )
    assert answer.headers["x-request-id"] == "req-7"
    (line,) = lines
    for secret in (token, "ada.lovelace", "4111", "email", "query Me", "Bearer"):
        assert secret not in line
    payload = json.loads(line)
    del payload["timestamp"], payload["duration_ms"], payload["trace_id"]
    assert payload == {
        "level": "INFO",
        "message": "request",
        "request_id": "req-7",
        "kind": "graphql",
        "method": "POST",
        "status": 200,
        "caller": "traveler",
        "schema": "web",
        "operation": "Me",
        "cache": "l1",
        "executor": "planned",
        "backend_calls": 0,
    }


async def test_every_answer_gets_the_id_and_a_made_up_one_is_logged() -> None:
    client, lines = observed(Answering(status=404))
    async with client as c:
        answer = await c.get("/api/nowhere", headers={"authorization": "Bearer not-a-token"})
    made = answer.headers["x-request-id"]
    assert len(made) == 32
    payload = json.loads(lines[0])
    assert (payload["request_id"], payload["caller"], payload["status"]) == (made, "anonymous", 404)


async def test_a_replayed_answers_stale_id_is_replaced_by_this_requests() -> None:
    client, _ = observed(Answering(headers=((b"x-request-id", b"first-request"),)))
    async with client as c:
        answer = await c.get("/graphql/web", headers={"x-request-id": "second-request"})
    assert answer.headers.get_list("x-request-id") == ["second-request"]


async def test_health_and_metrics_are_not_logged() -> None:
    client, lines = observed(Answering())
    async with client as c:
        await c.get("/healthz")
        await c.get("/metrics")
    assert lines == []


# --- metrics -----------------------------------------------------------------------------


async def test_requests_caches_executors_and_refusals_are_counted() -> None:
    metrics = Metrics()
    cached = Answering(headers=((b"x-cache", b"l2"), (b"x-gateway-executor", b"reference")))
    refused = Answering(status=429, headers=((b"retry-after", b"1"),))
    for app in (cached, refused):
        client, _ = observed(app, metrics)
        async with client as c:
            await c.post("/graphql/mobile", json={"query": "query Top { x }"})
    counters = {
        (n, dict(labels).get("status", "")): v
        for (n, labels), v in metrics.snapshot().counters.items()
    }
    assert counters == {
        ("gateway_requests_total", "200"): 1,
        ("gateway_requests_total", "429"): 1,
        ("gateway_cache_answers_total", ""): 1,
        ("gateway_executions_total", ""): 1,
        ("gateway_rate_limited_total", ""): 1,
    }


def samples(text: bytes) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Prometheus text as {(sample name, labels): value}, parsed by prometheus-client."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text.decode())
        for sample in family.samples
    }


def test_prometheus_text_has_counters_and_cumulative_buckets() -> None:
    metrics = Metrics()
    metrics.count("gateway_requests_total", kind="graphql", schema="web", status="200")
    metrics.count("gateway_requests_total", kind="graphql", schema="web", status="200")
    for seconds in (0.003, 0.02, 0.02, 60.0):
        metrics.observe("gateway_backend_seconds", seconds, backend="legacy", route="GET /api/fx")
    found = samples(prometheus_text(metrics))
    request = {("kind", "graphql"), ("schema", "web"), ("status", "200")}
    assert found[("gateway_requests_total", frozenset(request))] == 2
    call = {("backend", "legacy"), ("route", "GET /api/fx")}
    buckets = {
        dict(labels)["le"]: value
        for (name, labels), value in found.items()
        if name == "gateway_backend_seconds_bucket"
    }
    assert (buckets["0.005"], buckets["0.01"], buckets["0.025"]) == (1, 1, 3)
    assert (buckets["30.0"], buckets["+Inf"]) == (3, 4)
    assert found[("gateway_backend_seconds_count", frozenset(call))] == 4


def test_emf_documents_are_deltas_since_the_last_flush() -> None:
    metrics = Metrics()
    metrics.count("gateway_shadow_total", route="GET /api/fx", outcome="match")
    metrics.observe("gateway_backend_seconds", 0.0125, backend="legacy", route="GET /api/fx")
    counter, latency = (orjson.loads(line) for line in emf_lines(metrics.drain()))
    assert counter["_aws"]["CloudWatchMetrics"] == [
        {
            "Namespace": "BffGateway",
            "Dimensions": [["outcome", "route"]],
            "Metrics": [{"Name": "gateway_shadow_total", "Unit": "Count"}],
        }
    ]
    assert (counter["route"], counter["outcome"], counter["gateway_shadow_total"]) == (
        "GET /api/fx", "match", 1,
    )  # fmt: skip
    assert latency["gateway_backend_ms"] == [12.5]
    assert latency["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] == "Milliseconds"
    assert emf_lines(metrics.drain()) == []


# --- traces and what backends are sent ---------------------------------------------------


@dataclass(frozen=True)
class Target:
    name: str = "legacy"
    url: str = "http://legacy.test"
    timeout_s: float = 2.0


def fetching_app(sent: list[httpx.Request]) -> Any:
    """An inline app that makes one backend call through the real client, as GraphQL does."""

    def keep(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    client = BackendClient(transport=lambda limits: httpx.MockTransport(keep))

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await client.call_raw(Target(), "GET", "/api/fx")
        route_call("GET /api/fx", "legacy", ok=True)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    return app


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use_provider(provider)
    try:
        yield exporter
    finally:
        tracing.use_provider(None)


async def test_backends_get_the_id_and_a_traceparent_under_the_callers_trace() -> None:
    sent: list[httpx.Request] = []
    metrics = Metrics()
    client, lines = observed(fetching_app(sent), metrics)
    async with client as c:
        await c.get("/api/fx", headers={"x-request-id": "r-1", "traceparent": PARENT})
    (request,) = sent
    assert request.headers["x-request-id"] == "r-1"
    parent = parse_traceparent(request.headers["traceparent"])
    assert parent is not None and parent.trace_id == int(TRACE, 16)
    assert parent.span_id != 0x00F067AA0BA902B7  # the gateway's own span, not the caller's
    payload = json.loads(lines[0])
    assert (payload["route"], payload["target"], payload["backend_calls"]) == (
        "GET /api/fx", "legacy", 1,
    )  # fmt: skip
    assert payload["trace_id"] == TRACE


async def test_spans_nest_request_then_fetch_with_an_sdk(spans: InMemorySpanExporter) -> None:
    sent: list[httpx.Request] = []
    client, _ = observed(fetching_app(sent))
    async with client as c:
        await c.get("/api/fx", headers={"traceparent": PARENT})
    fetch, request = spans.get_finished_spans()
    assert (request.name, fetch.name) == ("GET /api/fx", "GET legacy")
    assert request.context is not None and fetch.context is not None
    assert request.parent is not None and request.parent.span_id == 0x00F067AA0BA902B7
    assert fetch.parent is not None and fetch.parent.span_id == request.context.span_id
    sent_parent = parse_traceparent(sent[0].headers["traceparent"])
    assert sent_parent == TraceParent(int(TRACE, 16), fetch.context.span_id, 1)
    assert fetch.attributes is not None and fetch.attributes["http.response.status_code"] == "200"


async def test_a_graphql_request_spans_request_then_plan_then_each_fetch(
    spans: InMemorySpanExporter,
) -> None:
    """request → plan (or reference, when strawberry answers) → each backend fetch."""
    gw = inprocess.gateway()
    planned = await gw.gql("web", "{ me { id name } }", token=inprocess.token("t-1"))
    assert planned.headers["x-gateway-executor"] == "planned"
    mutation = 'mutation { cancelTrip(id: "trip-nope") { id } }'
    answered = await gw.gql("web", mutation, token=inprocess.token("qa-1", "agent"))
    assert answered.headers["x-gateway-executor"] == "reference"
    by_id = {span.context.span_id: span for span in spans.get_finished_spans() if span.context}

    def children(parent: Any) -> list[Any]:
        return [
            s for s in by_id.values() if s.parent and s.parent.span_id == parent.context.span_id
        ]

    for executor in ("plan", "reference"):
        # A mutation is offered to the planner too, which declines at once: no fetches.
        (execution,) = [s for s in by_id.values() if s.name == executor and children(s)]
        assert all(s.name.endswith("legacy") for s in children(execution))
        assert execution.parent is not None
        assert by_id[execution.parent.span_id].name == "POST /graphql/web"
