"""The Mangum handler answers real API Gateway (HTTP API v2, REST v1) and ALB events, and a warm
container reuses its backend client across invocations."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Stack, gateway_env
from tests.support.processes import ROOT, running, write_routes

pytestmark = pytest.mark.e2e
EVENTS = Path(__file__).parent / "events"


def invoke(
    stack: Stack, routes: Path, event: str, query: str, token: str | None = None, **env: str
) -> Any:
    command = [
        sys.executable,
        str(Path(__file__).parent / "lambda_invoke.py"),
        str(EVENTS / event),
        query,
    ]
    if token:
        command.append(token)
    env = {"PATH": "/usr/bin:/bin", **gateway_env(stack.legacy.url, routes), **env}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("event", "schema"),
    [("apigw_http_v2.json", "web"), ("apigw_rest_v1.json", "mobile"), ("alb.json", "web")],
)
def test_handler_answers_each_event_source_twice_on_one_client(
    e2e: Stack, tmp_path: Path, event: str, schema: str
) -> None:
    routes = write_routes(tmp_path / "routes.yaml")
    top = e2e.rest("/api/destinations/top", limit="2")["items"]
    query = "{ me { id name } topDestinations(limit: 2) { code } }"
    if schema == "mobile":
        query = "{ myTrips(first: 1) { items { id } } topDestinations(limit: 2) { code } }"
    traveler = e2e.rest("/api/travelers/t-1")
    trips = e2e.rest("/api/travelers/t-1/trips", limit="1")["items"]

    result = invoke(e2e, routes, event, query, token=e2e.token("t-1"))

    codes = [{"code": d["code"]} for d in top]
    expected = (
        {"data": {"me": {"id": "t-1", "name": traveler["name"]}, "topDestinations": codes}}
        if schema == "web"
        else {"data": {"myTrips": {"items": [{"id": trips[0]["id"]}]}, "topDestinations": codes}}
    )
    assert result["answers"] == [{"status": 200, "body": expected}] * 2
    assert result["client_builds"] == 1  # the second (warm) invocation reused the client


def test_handler_refuses_a_bad_token_like_the_app(e2e: Stack, tmp_path: Path) -> None:
    routes = write_routes(tmp_path / "routes.yaml")
    result = invoke(e2e, routes, "apigw_http_v2.json", '{ traveler(id: "t-1") { id } }', "bad")
    body = result["answers"][0]["body"]
    assert body["data"] == {"traveler": None}
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert result["client_builds"] == 0  # refused before any backend call


def test_a_warm_container_reuses_its_redis_connection(e2e: Stack, tmp_path: Path) -> None:
    from tests.support.redis_server import RedisServer

    routes = write_routes(tmp_path / "routes.yaml")
    with RedisServer() as redis:
        result = invoke(
            e2e,
            routes,
            "apigw_http_v2.json",
            "{ me { id } }",
            e2e.token("t-2"),
            REDIS_URL=redis.url,
            AWS_LAMBDA_FUNCTION_NAME="gateway",
        )
        assert [a["body"] for a in result["answers"]] == [{"data": {"me": {"id": "t-2"}}}] * 2
        assert result["redis_builds"] == 1 and result["client_builds"] == 1
        assert redis.client().keys("bff:v1:e:traveler:*")  # written before answering


def test_a_shadow_still_running_when_the_invocation_ends_is_cut_off_not_a_mismatch(
    e2e: Stack, tmp_path: Path
) -> None:
    """On Lambda the container freezes once the answer is returned: the handler gives the
    shadow its small budget, then cancels it and counts it as cut off."""
    with running("services.flights.app:app") as flights:
        httpx.post(f"{flights.url}/_stub/faults", json={"path_prefix": "/api", "hang": True})
        routes = write_routes(
            tmp_path / "routes.yaml",
            flights_target="legacy",
            extra="    shadow: {target: flights, percent: 100}\n",
        )
        env = {
            "PATH": "/usr/bin:/bin",
            **gateway_env(e2e.legacy.url, routes),
            "FLIGHTS_URL": flights.url,
        }
        command = [sys.executable, str(Path(__file__).parent / "lambda_shadow_invoke.py")]
        command += ["/api/flights/fl-1", e2e.token("qa-1", "agent")]
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 0, done.stderr
    first, second = json.loads(done.stdout.strip().splitlines()[-1])
    assert first == {"status": 200, "shadow": {"cut_off": 1}, "pending": 0}
    assert second == {"status": 200, "shadow": {"cut_off": 2}, "pending": 0}
