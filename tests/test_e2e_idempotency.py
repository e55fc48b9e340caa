"""Idempotent retries end to end: the monolith stub, gateway processes (one on its own, two
sharing a real redis-server), and the stub's event feed as the witness of how many trips
were really booked."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import dev_token, gateway_env
from tests.support.processes import GATEWAY_FACTORY, Service, start_uvicorn, write_routes
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.e2e

BOOK = """mutation Book($input: BookTripInput!) { bookTrip(input: $input) { id title status } }"""


@dataclass
class Stack:
    legacy: Service
    solo: Service  # no Redis: the process's own store
    a: Service  # a and b share `redis`
    b: Service
    redis: RedisServer

    def events_seq(self) -> int:
        seq: int = httpx.get(f"{self.legacy.url}/_stub/events").json()["last_seq"]
        return seq

    def booked_since(self, seq: int) -> list[dict[str, Any]]:
        feed = httpx.get(f"{self.legacy.url}/_stub/events", params={"after": seq}).json()
        return [e for e in feed["events"] if e["type"] == "TripBooked"]

    def slow_trips(self) -> None:
        fault = {"path_prefix": "/api/trips", "latency_ms": 800}
        httpx.post(f"{self.legacy.url}/_stub/faults", json=fault).raise_for_status()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    routes = write_routes(tmp_path_factory.mktemp("idempotency") / "routes.yaml")
    with RedisServer() as redis:
        legacy = start_uvicorn("legacy_stub.app:app")
        started: list[Service] = [legacy]
        try:
            for extra in ({}, {"REDIS_URL": redis.url}, {"REDIS_URL": redis.url}):
                env = gateway_env(legacy.url, routes, **extra)
                started.append(
                    start_uvicorn(GATEWAY_FACTORY, factory=True, env=env, ready_path="/healthz")
                )
            yield Stack(legacy, started[1], started[2], started[3], redis)
        finally:
            for service in reversed(started):
                service.stop()


@pytest.fixture
def s(stack: Stack) -> Stack:
    stack.redis.start()  # in case a test stopped it
    stack.redis.reset()
    httpx.post(f"{stack.legacy.url}/_stub/reset").raise_for_status()  # faults off
    return stack


def agent(key: str | None) -> dict[str, str]:
    headers = {"authorization": f"Bearer {dev_token('qa-1', 'agent')}"}
    return {**headers, "idempotency-key": key} if key else headers


def new_key() -> str:
    return f"test-{uuid.uuid4()}"


def trip(title: str) -> dict[str, Any]:
    return {
        "traveler_id": "t-31",
        "title": title,
        "start_date": "2027-04-01",
        "end_date": "2027-04-03",
    }


def rest_booking(gateway: Service, key: str | None, title: str = "Retried") -> httpx.Response:
    return httpx.post(f"{gateway.url}/api/trips", json=trip(title), headers=agent(key), timeout=15)


def graphql_booking(gateway: Service, key: str | None, title: str = "Retried") -> httpx.Response:
    variables = {
        "input": {
            "travelerId": "t-31",
            "title": title,
            "startDate": "2027-04-01",
            "endDate": "2027-04-03",
        }
    }
    return httpx.post(
        f"{gateway.url}/graphql/web",
        json={"query": BOOK, "variables": variables, "operationName": "Book"},
        headers={**agent(key), "accept": "application/json"},
        timeout=15,
    )


def test_a_retried_book_trip_mutation_books_one_trip(s: Stack) -> None:
    seq, key = s.events_seq(), new_key()
    first = graphql_booking(s.solo, key)
    second = graphql_booking(s.solo, key)
    booked = first.json()["data"]["bookTrip"]
    assert booked["title"] == "Retried" and "errors" not in first.json()
    assert [e["id"] for e in s.booked_since(seq)] == [booked["id"]]
    assert second.status_code == first.status_code == 200
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert second.headers["content-type"] == first.headers["content-type"]


def test_a_retried_rest_booking_books_one_trip(s: Stack) -> None:
    seq, key = s.events_seq(), new_key()
    first = rest_booking(s.solo, key)
    second = rest_booking(s.solo, key)
    assert first.status_code == second.status_code == 201
    assert [e["id"] for e in s.booked_since(seq)] == [first.json()["id"]]
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    # The same write without a key is a new booking, as ever.
    rest_booking(s.solo, None)
    assert len(s.booked_since(seq)) == 2


def test_the_same_key_with_another_body_is_422_and_books_nothing(s: Stack) -> None:
    rest_key, graphql_key = new_key(), new_key()
    assert rest_booking(s.solo, rest_key, "First").status_code == 201
    assert graphql_booking(s.solo, graphql_key, "First").status_code == 200
    seq = s.events_seq()
    rest = rest_booking(s.solo, rest_key, "Second")
    graphql = graphql_booking(s.solo, graphql_key, "Second")
    assert rest.status_code == 422
    assert rest.json() == {
        "error": "idempotency_key_reused",
        "message": "This Idempotency-Key was already used for a different request.",
    }
    assert graphql.status_code == 422
    assert graphql.json()["errors"][0]["extensions"] == {"code": "IDEMPOTENCY_KEY_REUSED"}
    assert s.booked_since(seq) == []


def concurrently(*calls: Callable[[], httpx.Response]) -> list[httpx.Response]:
    with ThreadPoolExecutor(len(calls)) as pool:
        return [f.result() for f in [pool.submit(call) for call in calls]]


@pytest.mark.parametrize(("send", "ok"), [(rest_booking, 201), (graphql_booking, 200)])
def test_a_duplicate_while_the_first_runs_is_409_and_books_once(
    s: Stack, send: Callable[[Service, str], httpx.Response], ok: int
) -> None:
    s.slow_trips()  # the first booking takes 800 ms: the duplicate arrives meanwhile
    seq, key = s.events_seq(), new_key()
    answers = concurrently(lambda: send(s.solo, key), lambda: send(s.solo, key))
    assert sorted(a.status_code for a in answers) == sorted([ok, 409])
    refused = next(a for a in answers if a.status_code == 409)
    if send is rest_booking:
        assert refused.json()["error"] == "idempotency_key_in_use"
    else:
        assert refused.json()["errors"][0]["extensions"] == {"code": "IDEMPOTENCY_KEY_IN_USE"}
    assert len(s.booked_since(seq)) == 1


def test_two_gateways_share_the_store_through_redis(s: Stack) -> None:
    seq, key = s.events_seq(), new_key()
    first = rest_booking(s.a, key)
    replayed = rest_booking(s.b, key)
    assert first.status_code == replayed.status_code == 201
    assert replayed.content == first.content
    assert replayed.headers["idempotent-replayed"] == "true"
    mutation_key = new_key()
    booked = graphql_booking(s.b, mutation_key)
    again = graphql_booking(s.a, mutation_key)
    assert again.content == booked.content and again.headers["idempotent-replayed"] == "true"
    assert len(s.booked_since(seq)) == 2
    with s.redis.client() as r:
        assert len(r.keys("idem:v1:*")) == 2


def test_a_duplicate_on_another_gateway_while_the_first_runs_is_409(s: Stack) -> None:
    s.slow_trips()
    seq, key = s.events_seq(), new_key()
    answers = concurrently(lambda: rest_booking(s.a, key), lambda: rest_booking(s.b, key))
    assert sorted(a.status_code for a in answers) == [201, 409]
    assert len(s.booked_since(seq)) == 1


def test_with_redis_stopped_a_gateway_still_answers_from_its_own_store(s: Stack) -> None:
    s.redis.stop()
    seq, key = s.events_seq(), new_key()
    first = rest_booking(s.a, key)
    second = rest_booking(s.a, key)
    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    assert len(s.booked_since(seq)) == 1
