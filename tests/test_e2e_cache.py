"""Caching end to end: a real redis-server, the monolith stub and gateway processes sharing
that Redis. The stub's `/_stub/stats` proves which reads reached the backend."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import dev_token, gateway_env
from tests.support.processes import GATEWAY_FACTORY, Service, start_uvicorn, write_routes
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.e2e

TRIP = """query($id: ID!) { trip(id: $id) { id title status traveler { id name }
  flights { id flightNumber price { amount currency } } hotelStays { id hotel { name } }
  carRentals { id company } totalCost { amount currency formatted } } }"""
MY_TRIPS = "query($first: Int!) { myTrips(first: $first) { items { id title status } nextCursor } }"
TOP = "query($n: Int!) { topDestinations(limit: $n) { code name } }"


@dataclass
class Cached:
    redis: RedisServer
    legacy: Service
    a: Service
    b: Service

    def token(self, traveler: str, role: str = "traveler") -> str:
        return dev_token(traveler, role)

    def post(
        self,
        gateway: Service,
        schema: str,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        traveler: str | None = None,
        role: str = "traveler",
        **headers: str,
    ) -> httpx.Response:
        if traveler:
            headers["authorization"] = f"Bearer {self.token(traveler, role)}"
        return httpx.post(
            f"{gateway.url}/graphql/{schema}",
            json={"query": query, "variables": variables or {}},
            headers=headers,
            timeout=15,
        )

    def stats(self) -> dict[str, int]:
        counts = httpx.get(f"{self.legacy.url}/_stub/stats").json()["requests"]
        return {k: n for k, n in counts.items() if n}

    def reset(self) -> None:
        httpx.post(f"{self.legacy.url}/_stub/reset").raise_for_status()

    def trip_of(self, traveler: str, *, booked: bool = True) -> dict[str, Any]:
        trips = httpx.get(
            f"{self.legacy.url}/api/travelers/{traveler}/trips", params={"limit": 100}
        ).json()
        return next(
            t
            for t in trips["items"]
            if t["flight_ids"] and t["hotel_stay_ids"] and (t["status"] == "booked" or not booked)
        )


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def start_gateway(legacy: Service, routes: Path, **env: str) -> Service:
    return start_uvicorn(
        GATEWAY_FACTORY,
        factory=True,
        env=gateway_env(legacy.url, routes, **env),
        ready_path="/healthz",
    )


@pytest.fixture(scope="module")
def cached(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cached]:
    routes = write_routes(tmp_path_factory.mktemp("cache") / "routes.yaml")
    with RedisServer() as redis:
        legacy = start_uvicorn("legacy_stub.app:app")
        # Trip lists cached far longer than the test runs: only an invalidation can refresh them.
        extra = {
            "REDIS_URL": redis.url,
            "EVENTS_FEED_URL": f"{legacy.url}/_stub/events",
            "CACHE_TTL_TRIP_LIST": "600",
            "CACHE_TTL_TRIP": "600",
            # A burst's loads may take longer than the default half second on a busy CI
            # machine; the lease tests are about who loads, not about how fast.
            "CACHE_LEASE_WAIT_MS": "10000",
        }
        a = start_gateway(legacy, routes, **extra)
        b = start_gateway(legacy, routes, **extra)
        try:
            yield Cached(redis, legacy, a, b)
        finally:
            for service in (a, b, legacy):
                service.stop()


@pytest.fixture
def c(cached: Cached) -> Cached:
    cached.reset()
    return cached


def test_a_second_read_hits_l1_and_another_gateway_hits_l2(c: Cached) -> None:
    trip = c.trip_of("t-11")
    first = c.post(c.a, "web", TRIP, {"id": trip["id"]}, traveler="t-11")
    assert first.headers["x-cache"] == "MISS" and "errors" not in first.json()
    cold = c.stats()
    assert cold["GET /api/trips"] == 1 and cold["GET /api/flights"] == 1
    c.reset()
    again = c.post(c.a, "web", TRIP, {"id": trip["id"]}, traveler="t-11")
    assert again.json() == first.json() and again.headers["x-cache"] == "HIT-L1"
    assert c.stats() == {}  # nothing reached the monolith
    other = c.post(c.b, "web", TRIP, {"id": trip["id"]}, traveler="t-11")
    assert other.json() == first.json() and other.headers["x-cache"] == "HIT-L2"
    assert c.stats() == {}
    assert other.headers["cache-control"] == "private, no-store"
    assert "Authorization" in other.headers["vary"]


def test_public_answers_are_cached_whole_with_edge_headers(c: Cached) -> None:
    variables = {"n": 4}
    first = c.post(c.a, "mobile", TOP, variables)
    assert first.headers["x-cache"] == "MISS"
    assert first.headers["cache-control"].startswith("public, max-age=")
    assert (
        "s-maxage=" in first.headers["cache-control"]
        and "stale-if-error=" in first.headers["cache-control"]
    )
    assert first.headers["vary"] == "Accept"
    c.reset()
    hit = c.post(c.a, "mobile", TOP, variables)
    assert (hit.content, hit.headers["x-cache"]) == (first.content, "HIT-L1")
    remote = c.post(c.b, "mobile", TOP, variables)
    assert (remote.content, remote.headers["x-cache"]) == (first.content, "HIT-L2")
    assert c.stats() == {}
    etag = hit.headers["etag"]
    assert remote.headers["etag"] == etag
    not_modified = c.post(c.a, "mobile", TOP, variables, **{"if-none-match": etag})
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["etag"] == etag
    changed = c.post(c.a, "mobile", TOP, variables, **{"if-none-match": '"something-else"'})
    assert changed.status_code == 200


def test_private_errors_and_mutations_are_never_stored_or_public(c: Cached) -> None:
    anonymous_private = c.post(c.a, "web", "{ me { id } topDestinations(limit: 2) { code } }")
    assert anonymous_private.headers["cache-control"] == "private, no-store"
    error = c.post(c.a, "web", "{ topDestinations(limit: 99) { code } }")
    assert error.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert error.headers["cache-control"] == "private, no-store" and "etag" not in error.headers
    cancel = c.post(c.a, "web", 'mutation { cancelTrip(id: "trip-999999") { id } }', traveler="t-1")
    assert cancel.headers["cache-control"] == "private, no-store"
    keys = [_text(k) for k in c.redis.client().keys("bff:v1:q:*")]
    stored = [c.redis.client().get(k) for k in keys]
    assert all(b'"me"' not in (v or b"") and b"errors" not in (v or b"") for v in stored)


def apq_body(query: str | None, sha: str, variables: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "variables": variables,
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha}},
    }
    if query:
        body["query"] = query
    return body


def test_automatic_persisted_queries_over_post_and_get(c: Cached) -> None:
    query = "query Apq($n: Int!) { topDestinations(limit: $n) { code imageUrl } }"
    sha = hashlib.sha256(query.encode()).hexdigest()
    url = f"{c.a.url}/graphql/mobile"
    miss = httpx.post(url, json=apq_body(None, sha, {"n": 3}))
    assert miss.status_code == 200
    assert miss.json() == {
        "errors": [
            {
                "message": "PersistedQueryNotFound",
                "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
            }
        ]
    }
    assert miss.headers["cache-control"] == "private, no-store"
    strict = httpx.post(
        url,
        json=apq_body(None, sha, {"n": 3}),
        headers={"accept": "application/graphql-response+json"},
    )
    assert strict.status_code == 404
    wrong = httpx.post(url, json=apq_body(query, "0" * 64, {"n": 3}))
    assert wrong.status_code == 400
    registered = httpx.post(url, json=apq_body(query, sha, {"n": 3}))
    assert len(registered.json()["data"]["topDestinations"]) == 3
    params = {
        "extensions": json.dumps({"persistedQuery": {"version": 1, "sha256Hash": sha}}),
        "variables": json.dumps({"n": 2}),
    }
    via_get = httpx.get(f"{c.b.url}/graphql/mobile", params=params)  # registered via Redis
    assert len(via_get.json()["data"]["topDestinations"]) == 2
    assert via_get.headers["cache-control"].startswith("public")
    again = httpx.get(f"{c.b.url}/graphql/mobile", params=params)
    assert again.headers["x-cache"] == "HIT-L1" and again.content == via_get.content


def test_mutations_invalidate_what_they_change_before_answering(c: Cached) -> None:
    before = c.post(c.a, "mobile", MY_TRIPS, {"first": 5}, traveler="t-12").json()["data"][
        "myTrips"
    ]
    assert (
        c.post(c.a, "mobile", MY_TRIPS, {"first": 5}, traveler="t-12").headers["x-cache"]
        == "HIT-L1"
    )
    booked = c.post(
        c.a,
        "web",
        """mutation($in: BookTripInput!) { bookTrip(input: $in) { id } }""",
        {
            "in": {
                "travelerId": "t-12",
                "title": "Newest",
                "startDate": "2030-01-01",
                "endDate": "2030-01-02",
            }
        },
        traveler="t-12",
    ).json()["data"]["bookTrip"]
    after = c.post(c.b, "mobile", MY_TRIPS, {"first": 5}, traveler="t-12").json()["data"]["myTrips"]
    assert after["items"][0] == {"id": booked["id"], "title": "Newest", "status": "BOOKED"}
    assert after["items"][1:] == before["items"][:4]
    cancelled = c.post(
        c.a,
        "mobile",
        "mutation($id: ID!) { cancelTrip(id: $id) { status } }",
        {"id": booked["id"]},
        traveler="t-12",
    )
    assert cancelled.json()["data"] == {"cancelTrip": {"status": "CANCELLED"}}
    view = c.post(c.b, "mobile", MY_TRIPS, {"first": 1}, traveler="t-12").json()["data"]["myTrips"]
    assert view["items"][0]["status"] == "CANCELLED"


def test_a_trip_booked_on_the_monolith_shows_up_through_the_event_feed(c: Cached) -> None:
    c.post(c.a, "mobile", MY_TRIPS, {"first": 3}, traveler="t-13")  # warm both tiers
    body = {
        "traveler_id": "t-13",
        "title": "Booked on the monolith",
        "start_date": "2031-02-01",
        "end_date": "2031-02-03",
        "flight_ids": [],
        "hotel_stay_ids": [],
        "car_rental_ids": [],
    }
    created = httpx.post(f"{c.legacy.url}/api/trips", json=body).json()
    # Until the feed is read (polled every second) the cached page may still be served: a
    # hit is the old page; once the gateway has read the event, a miss has the new trip.
    soon = c.post(c.a, "mobile", MY_TRIPS, {"first": 3}, traveler="t-13")
    ids = [item["id"] for item in soon.json()["data"]["myTrips"]["items"]]
    assert soon.headers["x-cache"] in ("HIT-L1", "MISS")
    assert (created["id"] in ids) == (soon.headers["x-cache"] == "MISS"), (soon.headers, ids)
    for _ in range(50):  # the feed is polled every second; 5 s is plenty
        items = c.post(c.a, "mobile", MY_TRIPS, {"first": 3}, traveler="t-13").json()["data"][
            "myTrips"
        ]["items"]
        if items[0]["id"] == created["id"]:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the booking never showed up")


def test_fifty_concurrent_cold_requests_make_one_backend_request(c: Cached) -> None:
    trip = c.trip_of("t-14")
    c.redis.client().flushall()

    async def burst() -> list[httpx.Response]:
        auth = {"authorization": f"Bearer {c.token('t-14')}"}
        async with httpx.AsyncClient(timeout=30) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        f"{c.b.url}/graphql/web",
                        json={"query": TRIP, "variables": {"id": trip["id"]}},
                        headers=auth,
                    )
                    for _ in range(50)
                )
            )

    c.reset()
    answers = asyncio.run(burst())
    assert len({a.content for a in answers}) == 1 and "errors" not in answers[0].json()
    stats = c.stats()
    assert stats["GET /api/trips"] == 1 and stats["GET /api/flights"] == 1
    assert stats["GET /api/hotel-stays"] == 1 and stats["GET /api/travelers"] == 1


def test_cold_requests_split_over_two_gateways_reach_the_monolith_once(c: Cached) -> None:
    trip = c.trip_of("t-19")
    c.redis.client().flushall()

    async def burst() -> list[httpx.Response]:
        auth = {"authorization": f"Bearer {c.token('t-19')}"}
        body = {"query": TRIP, "variables": {"id": trip["id"]}}
        async with httpx.AsyncClient(timeout=30) as client:
            return await asyncio.gather(
                *(
                    client.post(f"{gateway.url}/graphql/web", json=body, headers=auth)
                    for _ in range(25)
                    for gateway in (c.a, c.b)
                )
            )

    c.reset()
    answers = asyncio.run(burst())
    assert len({a.content for a in answers}) == 1 and "errors" not in answers[0].json()
    stats = c.stats()  # the Redis lease kept the second process from loading the same keys
    assert stats["GET /api/trips"] == 1 and stats["GET /api/flights"] == 1
    assert stats["GET /api/hotel-stays"] == 1 and stats["GET /api/travelers"] == 1


def test_no_traveler_ever_receives_another_travelers_data(c: Cached) -> None:
    travelers = [f"t-{n}" for n in range(20, 44)]
    own = {
        t: {
            x["id"]
            for x in httpx.get(
                f"{c.legacy.url}/api/travelers/{t}/trips", params={"limit": 100}
            ).json()["items"]
        }
        for t in travelers
    }
    query = """query($id: ID!) { me { id email }
        trips(travelerId: $id, first: 100) { items { id traveler { id } } } }"""

    async def everyone() -> list[tuple[str, str, httpx.Response]]:
        async with httpx.AsyncClient(timeout=30) as client:
            jobs = []
            for round_ in range(3):
                for t in travelers:
                    gateway = c.a if round_ % 2 else c.b
                    auth = {"authorization": f"Bearer {c.token(t)}"}
                    jobs.append(
                        (
                            t,
                            "traveler",
                            client.post(
                                f"{gateway.url}/graphql/web",
                                headers=auth,
                                json={"query": query, "variables": {"id": t}},
                            ),
                        )
                    )
                    peer = travelers[(travelers.index(t) + 1) % len(travelers)]
                    agent = {"authorization": f"Bearer {c.token('agent-1', 'agent')}"}
                    jobs.append(
                        (
                            peer,
                            "agent",
                            client.post(
                                f"{gateway.url}/graphql/web",
                                headers=agent,
                                json={"query": query, "variables": {"id": peer}},
                            ),
                        )
                    )
            answers = await asyncio.gather(*(job for _, _, job in jobs))
            return [(t, role, a) for (t, role, _), a in zip(jobs, answers, strict=True)]

    for traveler, role, answer in asyncio.run(everyone()):
        data = answer.json()["data"]
        items = data["trips"]["items"]
        assert {i["id"] for i in items} == own[traveler]
        assert {i["traveler"]["id"] for i in items} == {traveler}
        if role == "traveler":
            assert data["me"]["id"] == traveler
            assert f".{traveler[2:]}@" in data["me"]["email"]
        else:
            assert data["me"] is None  # the agent's own id is no traveler
    client = c.redis.client()
    # Redis is written behind the answers: wait (generously) until every traveler's pages
    # are there, so that the scan below really covers every traveler.
    give_up = time.monotonic() + 15
    while True:
        private_keys = client.keys("bff:v1:{t:*")
        tagged = {_text(k).split("{t:", 1)[1].split("}", 1)[0] for k in private_keys}
        if set(travelers) <= tagged or time.monotonic() > give_up:
            break
        time.sleep(0.1)
    assert set(travelers) <= tagged, sorted(set(travelers) - tagged)
    for key in private_keys:
        tag = _text(key).split("{t:", 1)[1].split("}", 1)[0]
        value = _text(client.get(key) or b"")
        mentioned = {m for m in re.findall(r'"traveler_id":"(t-\d+)"', value)}
        assert mentioned <= {tag}, key
    for key in client.keys("bff:v1:q:*"):
        assert b"email" not in (client.get(key) or b"") and b"traveler" not in (
            client.get(key) or b""
        )


def test_redis_dying_mid_run_never_hurts_answers(c: Cached) -> None:
    trip = c.trip_of("t-15")
    baseline = c.post(c.a, "web", TRIP, {"id": trip["id"]}, traveler="t-15").json()
    c.redis.stop()
    try:
        for gateway in (c.a, c.b):
            for _ in range(3):
                answer = c.post(gateway, "web", TRIP, {"id": trip["id"]}, traveler="t-15")
                assert answer.status_code == 200 and answer.json() == baseline
            assert c.post(gateway, "mobile", TOP, {"n": 3}).status_code == 200
    finally:
        c.redis.restart()
    time.sleep(0.2)
    for _ in range(3):
        assert c.post(c.b, "web", TRIP, {"id": trip["id"]}, traveler="t-15").json() == baseline


def test_stale_if_error_serves_an_expired_copy_when_the_backend_fails(
    c: Cached, tmp_path: Path
) -> None:
    routes = write_routes(tmp_path / "routes.yaml")
    short = {
        f"CACHE_TTL_{k}": "1"
        for k in ("TRIP", "FLIGHT", "HOTEL_STAY", "CAR_RENTAL", "TRAVELER", "FX")
    }
    gateway = start_gateway(c.legacy, routes, REDIS_URL=c.redis.url, **short)
    try:
        trip, other = c.trip_of("t-16"), c.trip_of("t-17")
        fresh = c.post(gateway, "web", TRIP, {"id": trip["id"]}, traveler="t-16")
        assert fresh.headers["x-cache"] == "MISS"
        time.sleep(1.3)  # past every TTL, inside the stale window
        httpx.post(f"{c.legacy.url}/_stub/faults", json={"path_prefix": "/api", "error_rate": 1.0})
        stale = c.post(gateway, "web", TRIP, {"id": trip["id"]}, traveler="t-16")
        assert stale.headers["x-cache"] == "STALE"
        body = stale.json()
        assert body["data"] == fresh.json()["data"]
        assert body["extensions"]["cache"]["stale"] is True
        uncached = c.post(gateway, "web", TRIP, {"id": other["id"]}, traveler="t-17")
        assert uncached.json()["errors"][0]["extensions"]["code"] == "BACKEND_UNAVAILABLE"
    finally:
        c.reset()
        gateway.stop()


def test_two_gateways_share_a_redis_cluster(c: Cached, tmp_path: Path) -> None:
    from tests.support.redis_server import RedisClusterNodes

    routes = write_routes(tmp_path / "routes.yaml")
    trip = c.trip_of("t-18")
    with RedisClusterNodes() as cluster:
        env = {"REDIS_URL": cluster.url, "REDIS_CLUSTER": "1"}
        one, two = start_gateway(c.legacy, routes, **env), start_gateway(c.legacy, routes, **env)
        try:
            first = c.post(one, "web", TRIP, {"id": trip["id"]}, traveler="t-18")
            assert first.headers["x-cache"] == "MISS" and "errors" not in first.json()
            c.reset()
            second = c.post(two, "web", TRIP, {"id": trip["id"]}, traveler="t-18")
            assert second.json() == first.json() and second.headers["x-cache"] == "HIT-L2"
            assert c.stats() == {}
            assert sum(cluster.keys_per_node()) > 0
            public = c.post(one, "mobile", TOP, {"n": 2})
            assert c.post(two, "mobile", TOP, {"n": 2}).headers["x-cache"] == "HIT-L2"
            assert public.headers["x-cache"] == "MISS"
        finally:
            one.stop()
            two.stop()
