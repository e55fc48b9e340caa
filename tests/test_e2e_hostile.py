"""Hostile and unlucky requests against real gateway processes: refused before work, as
4xx with a code, never a 500 (timed only in bench/, never here). Also persisted queries in a
real Redis, and a gateway that runs only its trusted documents."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.cache.keys import apq_key
from tests.conftest import NO_CACHE, Stack, gateway_env
from tests.support.processes import (
    GATEWAY_FACTORY,
    ROOT,
    Service,
    free_port,
    start_uvicorn,
    write_routes,
)
from tests.support.redis_server import RedisServer
from tests.test_e2e_graphql import WEB_TRIPS

pytestmark = pytest.mark.e2e

TOP = "{ topDestinations(limit: 1) { code } }"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(sha256_hash: str, query: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256_hash}}
    }
    return body | ({"query": query} if query is not None else {})


def post(url: str, body: Any, **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {"content-type": "application/json", "accept": "application/json", **headers}
    return httpx.post(url, content=content, headers=sent, timeout=30)


def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["errors"][0]
    assert error["extensions"]["code"] == code
    return error


def test_hostile_documents_are_refused_before_parsing(e2e: Stack) -> None:
    url = f"{e2e.gateway.url}/graphql/web"
    fragments = "{ me { " + " ".join("... on Traveler { id }" for _ in range(3000)) + " } }"
    assert 60_000 < len(fragments) < 1_048_576
    tokens = "{ " + " ".join(f"a{i}: __typename" for i in range(3400)) + " }"  # ~10k tokens
    for query in (fragments, tokens, "x" * 900_000):
        error = refused(post(url, {"query": query}), 400, "QUERY_TOO_COMPLEX")
        assert error["extensions"]["maxTokens"] == 2000
    assert e2e.stats() == {}  # nothing reached the monolith


def test_variables_nested_10k_deep_are_a_400_not_a_500(e2e: Stack) -> None:
    url = f"{e2e.gateway.url}/graphql/web"
    deep = '{"query": "{ me { id } }", "variables": {"v": ' + "[" * 10_000 + "]" * 10_000 + "}}"
    refused(post(url, deep.encode()), 400, "BAD_REQUEST")  # too deep to even parse as JSON
    nested: Any = 1
    for _ in range(200):
        nested = {"a": nested}
    error = refused(
        post(url, {"query": "{ me { id } }", "variables": {"v": nested}}), 400, "BAD_USER_INPUT"
    )
    assert error["extensions"]["maxDepth"] == 16


def test_a_costly_operation_is_refused_with_its_cost_and_the_limit(e2e: Stack) -> None:
    nested = (
        "{ me { trips(first: 100) { items { traveler { trips(first: 100) { items { traveler {"
        " trips(first: 100) { items { id } } } } } } } } } }"
    )
    error = refused(
        post(f"{e2e.gateway.url}/graphql/web", {"query": nested}), 400, "QUERY_TOO_COMPLEX"
    )
    assert error["extensions"]["cost"] > error["extensions"]["maxCost"] == 100_000
    mobile = "{ myTrips(first: 1000) { items { id title dates status } } }"
    error = refused(
        post(f"{e2e.gateway.url}/graphql/mobile", {"query": mobile}), 400, "QUERY_TOO_COMPLEX"
    )
    assert error["extensions"]["maxCost"] == 2_000
    assert e2e.stats() == {}


def test_the_normal_web_trips_page_still_runs_planned(e2e: Stack) -> None:
    token = e2e.token("t-1")
    for first in (20, 100):
        response = e2e.gql("web", WEB_TRIPS, {"id": "t-1", "first": first}, token=token)
        assert response.status_code == 200 and "errors" not in response.json()
        assert response.headers["x-gateway-executor"] == "planned"
        assert len(response.json()["data"]["trips"]["items"]) == min(first, 40)


def test_a_malformed_hash_is_a_400_not_a_500(e2e: Stack) -> None:
    url = f"{e2e.gateway.url}/graphql/web"
    refused(post(url, persisted("zz")), 400, "BAD_REQUEST")
    refused(post(url, persisted("zz", TOP)), 400, "BAD_REQUEST")
    refused(
        httpx.get(url, params={"extensions": json.dumps(persisted("zz")["extensions"])}),
        400,
        "BAD_REQUEST",
    )


@pytest.fixture(scope="module")
def redis() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture
def apq_gateway(stack: Stack, redis: RedisServer, tmp_path: Path) -> Iterator[Service]:
    env = gateway_env(
        stack.legacy.url,
        write_routes(tmp_path / "routes.yaml"),
        REDIS_URL=redis.url,
        GATEWAY_MAX_BODY_BYTES=str(8 * 2**20),
        **NO_CACHE,
    )
    gateway = start_uvicorn(GATEWAY_FACTORY, factory=True, env=env, ready_path="/healthz")
    try:
        yield gateway
    finally:
        gateway.stop()


def test_only_valid_documents_are_registered_in_redis(
    apq_gateway: Service, redis: RedisServer
) -> None:
    url = f"{apq_gateway.url}/graphql/web"
    client = redis.client()
    junk = "x" * (5 * 2**20)  # 5 MB that is not GraphQL
    refused(post(url, persisted(sha(junk), junk)), 400, "QUERY_TOO_COMPLEX")
    invalid = "{ nope }"
    answer = post(url, persisted(sha(invalid), invalid))
    assert answer.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    for text in (junk, invalid):
        assert client.exists(apq_key(sha(text))) == 0
        assert (
            post(url, persisted(sha(text))).json()["errors"][0]["message"]
            == "PersistedQueryNotFound"
        )
    assert post(url, persisted(sha(TOP), TOP)).json()["data"]["topDestinations"]
    assert 0 < int(client.ttl(apq_key(sha(TOP)))) <= 24 * 3600  # the registry's TTL
    assert post(url, persisted(sha(TOP))).json()["data"]["topDestinations"]


def test_a_trusted_documents_gateway_runs_only_its_manifest(stack: Stack, tmp_path: Path) -> None:
    manifest = tmp_path / "persisted-query-manifest.json"
    operation = {"id": sha(TOP), "name": "Top", "type": "query", "body": TOP}
    manifest.write_text(
        json.dumps(
            {"format": "apollo-persisted-query-manifest", "version": 1, "operations": [operation]}
        )
    )
    env = gateway_env(
        stack.legacy.url,
        write_routes(tmp_path / "routes.yaml"),
        GATEWAY_TRUSTED_DOCUMENTS=str(manifest),
        **NO_CACHE,
    )
    gateway = start_uvicorn(GATEWAY_FACTORY, factory=True, env=env, ready_path="/healthz")
    try:
        url = f"{gateway.url}/graphql/web"
        assert post(url, persisted(sha(TOP))).json()["data"]["topDestinations"]
        assert post(url, {"query": TOP}).json()["data"]["topDestinations"]
        other = "{ topDestinations(limit: 2) { code } }"
        refused(post(url, {"query": other}), 400, "PERSISTED_QUERY_NOT_IN_LIST")
        refused(post(url, persisted(sha(other), other)), 400, "PERSISTED_QUERY_NOT_IN_LIST")
        refused(post(url, persisted(sha(other))), 400, "PERSISTED_QUERY_NOT_IN_LIST")
    finally:
        gateway.stop()


def test_a_bad_manifest_stops_the_gateway_at_start_up_naming_the_file(
    stack: Stack, tmp_path: Path
) -> None:
    manifest = tmp_path / "broken-manifest.json"
    manifest.write_text(
        '{"format": "apollo-persisted-query-manifest", "version": 1,'
        ' "operations": [{"id": "0", "body": "{ nope }"}]}'
    )
    env = gateway_env(
        stack.legacy.url,
        write_routes(tmp_path / "routes.yaml"),
        GATEWAY_TRUSTED_DOCUMENTS=str(manifest),
    )
    command = [sys.executable, "-m", "uvicorn", GATEWAY_FACTORY, "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(free_port())]
    started = subprocess.run(
        command, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=60
    )
    assert started.returncode != 0
    assert f"GATEWAY_TRUSTED_DOCUMENTS: {manifest}: operations[0]" in started.stderr
