"""A real gateway process: its stdout log lines, the ids its backends receive, /metrics.

The witness for what reached a backend is a loopback HTTP server in this process that keeps
each request's headers (the stub can't report them); routes.yaml sends /api/destinations/**
to it, so both GraphQL's `topDestinations` and the REST passthrough's GET reach it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from gateway.observability.request_id import parse_traceparent
from tests.conftest import NO_CACHE, dev_token, gateway_env
from tests.support.processes import (
    GATEWAY_FACTORY,
    GATEWAY_SERVER_ARGS,
    ROOT,
    Service,
    free_port,
    wait_ready,
)

pytestmark = pytest.mark.e2e

TRACE = "0af7651916cd43dd8448eb211c80319c"


@dataclass
class HeaderRecorder:
    url: str
    seen: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def with_id(self, request_id: str) -> list[dict[str, str]]:
        with self.lock:
            return [h for h in self.seen if h.get("x-request-id") == request_id]


@pytest.fixture(scope="module")
def recorder() -> Iterator[HeaderRecorder]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    recorder = HeaderRecorder(url=f"http://127.0.0.1:{server.server_address[1]}")

    class Record(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            with recorder.lock:
                recorder.seen.append({k.lower(): v for k, v in self.headers.items()})
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"[]")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server.RequestHandlerClass = Record
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class Gateway:
    url: str
    log: Path

    def lines(self) -> list[dict[str, Any]]:
        text = self.log.read_text(encoding="utf-8")
        return [orjson.loads(line) for line in text.splitlines() if line.startswith("{")]

    def line_for(self, request_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + 5  # written after the last byte: may trail the answer
        while time.monotonic() < deadline:
            found = [line for line in self.lines() if line.get("request_id") == request_id]
            if found:
                (line,) = found
                return line
            time.sleep(0.05)
        raise AssertionError(f"no log line for {request_id}")


@pytest.fixture(scope="module")
def gateway(
    recorder: HeaderRecorder, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    folder = tmp_path_factory.mktemp("observability")
    routes = folder / "routes.yaml"
    routes.write_text(
        f"""version: 1
backends:
  legacy: {{url: "${{LEGACY_URL}}", timeout_ms: 3000}}
  recorder: {{url: "{recorder.url}", timeout_ms: 3000}}
default: legacy
routes:
  - path: /api/destinations/**
    target: recorder
""",
        encoding="utf-8",
    )
    port = free_port()
    log = folder / "gateway.log"
    env = {**os.environ, **gateway_env(recorder.url, routes, **NO_CACHE)}
    command = [sys.executable, "-m", "uvicorn", GATEWAY_FACTORY, *GATEWAY_SERVER_ARGS]
    command += ["--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    service = Service("gateway", f"http://127.0.0.1:{port}", process)
    try:
        wait_ready(service, "/healthz", 30)
        yield Gateway(service.url, log)
    finally:
        service.stop()


def metric(url: str, name: str, **labels: str) -> float:
    """The sum of a counter's samples whose labels include `labels`."""
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(f"{url}/metrics").text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


def test_a_graphql_request_carries_the_callers_id_to_the_backend_and_the_log(
    gateway: Gateway, recorder: HeaderRecorder
) -> None:
    before = metric(gateway.url, "gateway_requests_total", schema="web", operation="Top")
    token = dev_token("t-1", "agent")
    answer = httpx.post(
        f"{gateway.url}/graphql/web",
        json={"query": "query Top($n: Int!) { topDestinations(limit: $n) { code } }",
              "variables": {"n": 3}},
        headers={"x-request-id": "e2e-graphql-1", "authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert answer.headers["x-request-id"] == "e2e-graphql-1"
    (sent,) = recorder.with_id("e2e-graphql-1")
    assert parse_traceparent(sent["traceparent"]) is not None
    line = gateway.line_for("e2e-graphql-1")
    assert {k: line[k] for k in ("kind", "schema", "operation", "status", "caller")} == {
        "kind": "graphql",
        "schema": "web",
        "operation": "Top",
        "status": 200,
        "caller": "agent",
    }
    assert line["backend_calls"] == 1 and token not in gateway.log.read_text()
    after = metric(gateway.url, "gateway_requests_total", schema="web", operation="Top")
    assert after == before + 1


def test_a_rest_request_carries_the_callers_id_and_trace_to_the_backend_and_the_log(
    gateway: Gateway, recorder: HeaderRecorder
) -> None:
    route = {"backend": "recorder", "route": "* /api/destinations/**"}
    before = metric(gateway.url, "gateway_backend_calls_total", **route, status="200")
    answer = httpx.get(
        f"{gateway.url}/api/destinations/top",
        headers={"x-request-id": "e2e-rest-1", "traceparent": f"00-{TRACE}-b7ad6b7169203331-01"},
    )
    assert (answer.status_code, answer.headers["x-request-id"]) == (200, "e2e-rest-1")
    (sent,) = recorder.with_id("e2e-rest-1")
    parent = parse_traceparent(sent["traceparent"])
    assert parent is not None and f"{parent.trace_id:032x}" == TRACE
    line = gateway.line_for("e2e-rest-1")
    assert {k: line[k] for k in ("kind", "route", "target", "status", "caller", "trace_id")} == {
        "kind": "rest",
        "route": "* /api/destinations/**",
        "target": "recorder",
        "status": 200,
        "caller": "anonymous",
        "trace_id": TRACE,
    }
    after = metric(gateway.url, "gateway_backend_calls_total", **route, status="200")
    assert after == before + 1
    assert metric(gateway.url, "gateway_route_calls_total", **route) >= 1


def test_a_refused_rest_request_answers_with_the_callers_id_once(gateway: Gateway) -> None:
    answer = httpx.get(
        f"{gateway.url}/api/trips/trip-1", headers={"x-request-id": "e2e-rest-refused"}
    )
    assert answer.status_code == 401
    assert answer.headers.get_list("x-request-id") == ["e2e-rest-refused"]
    assert gateway.line_for("e2e-rest-refused")["status"] == 401


def test_without_an_id_the_gateway_makes_one_and_sends_it_everywhere(
    gateway: Gateway, recorder: HeaderRecorder
) -> None:
    answer = httpx.get(f"{gateway.url}/api/destinations/top")
    made = answer.headers["x-request-id"]
    assert len(made) == 32
    assert len(recorder.with_id(made)) == 1
    assert gateway.line_for(made)["status"] == 200


LAMBDA_SCRIPT = """
import json, sys
from tests.lambda_invoke import Context, event_for
from gateway.lambda_handler import handler
event = event_for(json.load(open(sys.argv[1])), sys.argv[2], None)
print("ANSWER", handler(event, Context())["statusCode"])
"""


def test_on_lambda_the_line_has_api_gateways_id_and_emf_follows(
    recorder: HeaderRecorder, tmp_path: Path
) -> None:
    """Mangum in a fresh process, as a cold container: no X-Request-Id, so API Gateway's
    requestId is the correlation id; the invocation's metrics follow as EMF lines."""
    routes = tmp_path / "routes.yaml"
    routes.write_text("version: 1\nbackends:\n  legacy: {url: '${LEGACY_URL}'}\ndefault: legacy\n")
    env = {**os.environ, **gateway_env(recorder.url, routes), "AWS_LAMBDA_FUNCTION_NAME": "gw"}
    event = ROOT / "tests" / "events" / "apigw_http_v2.json"
    query = "query Top { topDestinations(limit: 2) { code } }"
    done = subprocess.run(
        [sys.executable, "-c", LAMBDA_SCRIPT, str(event), query],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    documents = [orjson.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    (line,) = [d for d in documents if d.get("message") == "request"]
    assert (line["request_id"], line["schema"], line["operation"]) == (
        "Bx1yWgH3DoEEMHw=",
        "web",
        "Top",
    )
    assert len(recorder.with_id("Bx1yWgH3DoEEMHw=")) == 1
    emf = {name for d in documents if "_aws" in d for name in d if name.startswith("gateway_")}
    assert {"gateway_requests_total", "gateway_request_ms", "gateway_backend_calls_total"} <= emf
    requests = next(d for d in documents if "gateway_requests_total" in d)
    assert requests["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "BffGateway"
    assert (requests["schema"], requests["operation"], requests["gateway_requests_total"]) == (
        "web", "Top", 1,
    )  # fmt: skip
