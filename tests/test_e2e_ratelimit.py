"""Rate limits across processes: two gateways on one real redis-server share each caller's
bucket, on REST and GraphQL alike; with that Redis stopped they keep answering, limiting in
process, and count the fallbacks at /_gateway/routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import dev_token, gateway_env
from tests.support.processes import GATEWAY_FACTORY, Service, start_uvicorn, write_routes
from tests.support.redis_server import RedisServer

pytestmark = [pytest.mark.e2e, pytest.mark.redis]

TOP = "{ topDestinations(limit: 2) { code } }"
ME = "{ me { id } }"
TIMEOUT = httpx.Timeout(5.0)  # a request that hangs on a dead Redis fails the test


class Gateways:
    def __init__(self, a: Service, b: Service, redis: RedisServer) -> None:
        self.a, self.b, self.redis = a, b, redis

    def rest(self, gateway: Service, path: str, *, as_: str | None = None) -> httpx.Response:
        return httpx.get(gateway.url + path, headers=_auth(as_), timeout=TIMEOUT)

    def gql(self, gateway: Service, query: str, *, as_: str | None = None) -> httpx.Response:
        headers = {"accept": "application/json", **_auth(as_)}
        return httpx.post(
            f"{gateway.url}/graphql/web", json={"query": query}, headers=headers, timeout=TIMEOUT
        )

    def rate_limit(self, gateway: Service) -> Any:
        return httpx.get(f"{gateway.url}/_gateway/routes", timeout=TIMEOUT).json()["rate_limit"]


def _auth(traveler: str | None) -> dict[str, str]:
    return {"authorization": f"Bearer {dev_token(traveler)}"} if traveler else {}


@pytest.fixture(scope="module")
def gateways(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateways]:
    routes = write_routes(tmp_path_factory.mktemp("ratelimit") / "routes.yaml")
    with RedisServer() as redis:
        legacy = start_uvicorn("legacy_stub.app:app")
        env = gateway_env(legacy.url, routes, REDIS_URL=redis.url, GATEWAY_RATE_LIMIT="5/60")
        started: list[Service] = []
        try:
            for _ in range(2):
                started.append(
                    start_uvicorn(GATEWAY_FACTORY, factory=True, env=env, ready_path="/healthz")
                )
            yield Gateways(started[0], started[1], redis)
        finally:
            for service in (*started, legacy):
                service.stop()


@pytest.fixture
def shared(gateways: Gateways) -> Gateways:
    gateways.redis.start()
    gateways.redis.reset()  # every test starts with full buckets
    return gateways


def test_two_gateways_share_an_anonymous_callers_bucket_on_rest(shared: Gateways) -> None:
    a, b = shared.a, shared.b
    answers = [shared.rest(gw, "/api/destinations/top") for gw in (a, a, a, b, b, b)]
    assert [r.status_code for r in answers] == [200] * 5 + [429]
    refused = answers[-1]
    assert refused.json() == {
        "error": "rate_limited",
        "message": f"Too many requests; retry in {refused.headers['retry-after']} s.",
    }
    assert 1 <= int(refused.headers["retry-after"]) <= 12  # one token every 60/5 s
    assert shared.rest(a, "/api/destinations/top").status_code == 429  # the same bucket on A
    # Health and the gateway's own pages are never limited.
    assert [shared.rest(gw, "/healthz").status_code for gw in (a, b, a)] == [200, 200, 200]
    assert shared.rate_limit(b)["refused"] >= 1


def test_two_gateways_share_a_signed_in_callers_bucket_on_graphql(shared: Gateways) -> None:
    a, b = shared.a, shared.b
    answers = [shared.gql(gw, ME, as_="t-1") for gw in (a, b, a, b, a, b)]
    assert [r.status_code for r in answers] == [200] * 5 + [429]
    assert answers[0].json() == {"data": {"me": {"id": "t-1"}}}
    refused = answers[-1]
    assert refused.json() == {
        "errors": [
            {
                "message": f"Too many requests; retry in {refused.headers['retry-after']} s.",
                "extensions": {"code": "RATE_LIMITED"},
            }
        ]
    }
    assert int(refused.headers["retry-after"]) >= 1
    # One bucket per caller, whichever door: t-1 is out on REST too; t-2 and anonymous are not.
    assert shared.rest(a, "/api/travelers/t-1", as_="t-1").status_code == 429
    assert shared.gql(b, ME, as_="t-2").json() == {"data": {"me": {"id": "t-2"}}}
    assert shared.gql(a, TOP).status_code == 200


def test_with_redis_stopped_requests_still_answer_limited_in_process(shared: Gateways) -> None:
    a, b = shared.a, shared.b
    assert shared.gql(a, ME, as_="t-3").status_code == 200
    assert shared.rate_limit(a)["fallbacks"] == 0
    shared.redis.stop()
    try:
        on_a = [shared.gql(a, ME, as_="t-3").status_code for _ in range(6)]
        on_b = [shared.rest(b, "/api/travelers/t-3", as_="t-3").status_code for _ in range(2)]
        # Each process now keeps its own bucket (t-3 starts over on A): lenient, never stuck.
        assert on_a == [200] * 5 + [429]
        assert on_b == [200, 200]
        stats = shared.rate_limit(a)
        assert stats["store"] == "redis"
        assert stats["fallbacks"] == 6
        assert stats["redis"] == "open"  # skipped for a while after repeated failures
        assert shared.rate_limit(b)["fallbacks"] == 2
    finally:
        shared.redis.start()
