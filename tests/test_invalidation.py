"""Event-driven invalidation against a real redis-server and the real stub monolith:
the `cache-events` Lambda handler with AWS-shaped deliveries, and the feed follower."""

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway import events_handler
from gateway.cache.keys import entity_key, traveler_generation_key
from gateway.cache.setup import CacheConfig, build_cache
from gateway.cache.tiered import TieredCache
from gateway.invalidation import FeedFollower, InvalidationFailed, read_feed
from tests.support.processes import Service, free_port, start_uvicorn
from tests.support.redis_server import (
    RedisServer,
    redis_server_fixture,  # noqa: F401
    redis_session_server_fixture,  # noqa: F401
)

EVENTS = Path(__file__).parent / "events"
TTL = {"ttl_s": 60.0, "stale_s": 60.0}
UNRELATED_KEY = entity_key("trip", "trip-1")
UNRELATED_GENERATION = traveler_generation_key("t-999")
MALFORMED_SQS_RECORD = "c80e8021-a70a-42c7-a470-796e1186f753"


def load_event(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


def redis_get(server: RedisServer, key: str) -> bytes | None:
    with server.client() as r:
        value = r.get(key)
    return value if isinstance(value, bytes) else None


def connections_received(server: RedisServer) -> int:
    with server.client() as r:
        return int(r.info("stats")["total_connections_received"])


# -- the Lambda handler --------------------------------------------------------------------


@pytest.fixture
def handler_redis(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RedisServer]:
    """The handler's process-wide cache built afresh (a cold container) on the test Redis."""
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    events_handler.reset_for_tests()
    yield redis_server
    events_handler.reset_for_tests()


def seed(keys: list[str], generations: list[str]) -> dict[str, str]:
    """Cache `keys` and an unrelated key (L1 and Redis) through the handler's own cache,
    and create the traveler generations; returns every generation token."""
    cache = events_handler.process_cache()
    run = events_handler.event_loop().run_until_complete
    run(cache.set_many({k: b"cached" for k in [*keys, UNRELATED_KEY]}, **TTL))
    tokens = {g: run(cache.generation(g)) for g in [*generations, UNRELATED_GENERATION]}
    assert None not in tokens.values()
    return {g: t for g, t in tokens.items() if t is not None}


def assert_invalidated(
    server: RedisServer, keys: list[str], before: dict[str, str], changed: list[str]
) -> None:
    l1 = events_handler.process_cache().l1
    for key in keys:
        assert redis_get(server, key) is None, key
        assert l1.get(key) is None, key
    assert redis_get(server, UNRELATED_KEY) is not None
    assert l1.get(UNRELATED_KEY) is not None
    for generation, token in before.items():
        now = redis_get(server, generation)
        assert now is not None
        assert (now.decode() != token) is (generation in changed), generation


@pytest.mark.redis
@pytest.mark.parametrize(
    ("fixture", "trips", "travelers", "response"),
    [
        (
            "sqs_trip_events.json",
            ["trip-2001", "trip-15"],
            ["t-7", "t-12"],
            {"batchItemFailures": [{"itemIdentifier": MALFORMED_SQS_RECORD}]},
        ),
        ("sqs_sns_envelope.json", ["trip-2001"], ["t-7"], {"batchItemFailures": []}),
        ("sns_trip_booked.json", ["trip-2003"], ["t-31"], {}),
        ("eventbridge_trip_cancelled.json", ["trip-40"], ["t-3"], {}),
    ],
)
def test_a_delivery_invalidates_the_trips_and_travelers_it_names(
    handler_redis: RedisServer,
    fixture: str,
    trips: list[str],
    travelers: list[str],
    response: dict[str, Any],
) -> None:
    keys = [entity_key("trip", t) for t in trips]
    generations = [traveler_generation_key(t) for t in travelers]
    before = seed(keys, generations)

    assert events_handler.handle(load_event(fixture), None) == response

    assert_invalidated(handler_redis, keys, before, changed=generations)


@pytest.mark.redis
def test_a_warm_container_reuses_its_loop_cache_and_redis_connection(
    handler_redis: RedisServer,
) -> None:
    keys = [entity_key("trip", "trip-40"), entity_key("trip", "trip-2003")]
    generations = [traveler_generation_key("t-3"), traveler_generation_key("t-31")]
    before = seed(keys, generations)
    loop, cache = events_handler.event_loop(), events_handler.process_cache()

    assert events_handler.handle(load_event("eventbridge_trip_cancelled.json"), None) == {}
    connections = connections_received(handler_redis)
    assert events_handler.handle(load_event("sns_trip_booked.json"), None) == {}

    assert events_handler.event_loop() is loop
    assert events_handler.process_cache() is cache
    # Only the counting client itself connected between the two invocations.
    assert connections_received(handler_redis) == connections + 1
    assert_invalidated(handler_redis, keys, before, changed=generations)


@pytest.mark.redis
def test_with_redis_down_an_sqs_batch_fails_every_record(handler_redis: RedisServer) -> None:
    delivery = load_event("sqs_trip_events.json")
    handler_redis.stop()

    response = events_handler.handle(delivery, None)

    assert response == {
        "batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in delivery["Records"]]
    }
    assert len(response["batchItemFailures"]) == 3


@pytest.mark.redis
@pytest.mark.parametrize("fixture", ["eventbridge_trip_cancelled.json", "sns_trip_booked.json"])
def test_with_redis_down_sns_and_eventbridge_deliveries_raise(
    handler_redis: RedisServer, fixture: str
) -> None:
    handler_redis.stop()

    with pytest.raises(InvalidationFailed) as caught:
        events_handler.handle(load_event(fixture), None)

    assert (caught.value.keys, caught.value.generations) == (1, 1)


@pytest.mark.redis
def test_the_handler_logs_what_it_invalidated(
    handler_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="gateway.invalidation"):
        events_handler.handle(load_event("sqs_trip_events.json"), None)

    assert [r.getMessage() for r in caplog.records if r.name == "gateway.invalidation"] == [
        f"malformed sqs record(s) skipped: {MALFORMED_SQS_RECORD}",
        "invalidated 2 trip event(s) from sqs: 2 key(s), 2 generation(s): "
        "TripBooked trip-2001 (traveler t-7), TripCancelled trip-15 (traveler t-12)",
    ]


def test_importing_the_handler_imports_no_web_framework() -> None:
    import subprocess
    import sys

    code = (
        "import sys, gateway.events_handler; "
        "print(sorted(m for m in ('fastapi', 'strawberry', 'starlette', 'mangum', 'httpx', "
        "'redis') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- the feed follower -------------------------------------------------------------------


@pytest.fixture(scope="module")
def stub() -> Iterator[Service]:
    service = start_uvicorn("legacy_stub.app:app")
    yield service
    service.stop()


@pytest.fixture
async def cache(redis_server: RedisServer) -> AsyncIterator[TieredCache]:
    cache = build_cache(CacheConfig(redis_url=redis_server.url), write_behind=False)
    yield cache
    if cache.l2 is not None:
        await cache.l2.aclose()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


async def book(http: httpx.AsyncClient, stub: Service, traveler_id: str) -> str:
    trip = {
        "traveler_id": traveler_id,
        "title": "Invalidation test",
        "start_date": "2026-03-01",
        "end_date": "2026-03-04",
        "flight_ids": [],
        "hotel_stay_ids": [],
        "car_rental_ids": [],
    }
    response = await http.post(f"{stub.url}/api/trips", json=trip)
    assert response.status_code == 201, response.text
    trip_id: str = response.json()["id"]
    return trip_id


async def cancel(http: httpx.AsyncClient, stub: Service, trip_id: str) -> None:
    response = await http.post(f"{stub.url}/api/trips/{trip_id}/cancel")
    assert response.status_code == 200, response.text


async def last_seq(http: httpx.AsyncClient, stub: Service) -> int:
    seq: int = (await http.get(f"{stub.url}/_stub/events")).json()["last_seq"]
    return seq


@pytest.fixture
async def follower(stub: Service, cache: TieredCache) -> AsyncIterator[FeedFollower]:
    """A follower caught up with everything earlier tests did to the shared stub."""
    follower = FeedFollower(f"{stub.url}/_stub/events", cache, interval_s=0.05)
    await follower.poll_once()
    yield follower
    await follower.stop()


@pytest.mark.redis
@pytest.mark.e2e
async def test_booking_and_cancelling_on_the_monolith_invalidate_through_the_feed(
    stub: Service,
    follower: FeedFollower,
    cache: TieredCache,
    http: httpx.AsyncClient,
    redis_server: RedisServer,
) -> None:
    generation = traveler_generation_key("t-5")
    token = await cache.generation(generation)

    trip_id = await book(http, stub, "t-5")
    trip_key = entity_key("trip", trip_id)
    await cache.set_many({trip_key: b"{}", UNRELATED_KEY: b"{}"}, **TTL)

    assert await follower.poll_once() == 1
    assert follower.cursor == await last_seq(http, stub)
    booked = await cache.generation(generation)
    assert booked not in (None, token)
    assert redis_get(redis_server, trip_key) is None
    assert await cache.get(trip_key) is None
    assert redis_get(redis_server, UNRELATED_KEY) is not None

    await cache.set_many({trip_key: b"{}"}, **TTL)
    await cancel(http, stub, trip_id)

    assert await follower.poll_once() == 1
    assert await cache.generation(generation) not in (None, token, booked)
    assert redis_get(redis_server, trip_key) is None
    assert await follower.poll_once() == 0  # nothing new


@pytest.mark.redis
@pytest.mark.e2e
async def test_a_new_follower_replays_the_feed_from_the_start(
    stub: Service, cache: TieredCache, http: httpx.AsyncClient
) -> None:
    await book(http, stub, "t-6")
    follower = FeedFollower(f"{stub.url}/_stub/events", cache)
    try:
        assert follower.cursor == 0
        assert await follower.poll_once() == await last_seq(http, stub)
    finally:
        await follower.stop()


@pytest.mark.redis
@pytest.mark.e2e
async def test_a_feed_that_is_down_or_restarted_never_loses_events(
    cache: TieredCache, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    first = start_uvicorn("legacy_stub.app:app", port=port)
    follower = FeedFollower(f"{first.url}/_stub/events", cache)
    try:
        await book(http, first, "t-8")
        await book(http, first, "t-8")
        assert await follower.poll_once() == 2
        first.stop()

        with caplog.at_level(logging.WARNING, logger="gateway.invalidation"):
            assert await follower.poll_once() == 0
        assert follower.cursor == 2
        assert "event feed" in caplog.text and "unavailable" in caplog.text

        second = start_uvicorn("legacy_stub.app:app", port=port)  # numbers from 1 again
        try:
            generation = traveler_generation_key("t-9")
            token = await cache.generation(generation)
            await book(http, second, "t-9")
            assert await follower.poll_once() == 1
            assert follower.cursor == 1
            assert await cache.generation(generation) not in (None, token)
        finally:
            second.stop()
    finally:
        first.stop()
        await follower.stop()


@pytest.mark.redis
@pytest.mark.e2e
async def test_with_redis_down_the_cursor_waits_for_redis(
    stub: Service, follower: FeedFollower, http: httpx.AsyncClient, redis_server: RedisServer
) -> None:
    cursor = follower.cursor
    redis_server.stop()
    trip_id = await book(http, stub, "t-10")

    assert await follower.poll_once() == 0
    assert follower.cursor == cursor

    redis_server.start()
    with redis_server.client() as r:
        r.set(entity_key("trip", trip_id), b"stale")
    # A fresh cache: the old one's circuit breaker would skip Redis for a few seconds.
    fresh = build_cache(CacheConfig(redis_url=redis_server.url), write_behind=False)
    follower.cache = fresh
    try:
        assert await follower.poll_once() == 1
        assert follower.cursor == cursor + 1
        assert redis_get(redis_server, entity_key("trip", trip_id)) is None
    finally:
        assert fresh.l2 is not None
        await fresh.l2.aclose()


@pytest.mark.redis
async def test_a_bad_feed_page_is_logged_and_retried(
    cache: TieredCache, caplog: pytest.LogCaptureFixture
) -> None:
    pages = iter([httpx.Response(200, text="<html>"), httpx.Response(503)])
    transport = httpx.MockTransport(lambda request: next(pages))
    follower = FeedFollower("http://feed.invalid/_stub/events", cache, transport=transport)
    try:
        with caplog.at_level(logging.WARNING, logger="gateway.invalidation"):
            assert await follower.poll_once() == 0
            assert await follower.poll_once() == 0
        assert follower.cursor == 0
        assert len(caplog.records) == 2
    finally:
        await follower.stop()


@pytest.mark.redis
@pytest.mark.e2e
async def test_the_background_task_follows_the_feed_until_stopped(
    stub: Service, follower: FeedFollower, cache: TieredCache, http: httpx.AsyncClient
) -> None:
    generation = traveler_generation_key("t-11")
    token = await cache.generation(generation)
    follower.start()
    follower.start()  # idempotent
    assert follower.running

    await book(http, stub, "t-11")
    for _ in range(250):  # up to 5 s
        if await cache.generation(generation) != token:
            break
        await asyncio.sleep(0.02)
    else:
        pytest.fail("the follower did not invalidate the booking within 5 s")

    await follower.stop()
    assert not follower.running
    assert follower.cursor == await last_seq(http, stub)


@pytest.mark.redis
async def test_the_background_task_survives_a_dead_feed(cache: TieredCache) -> None:
    follower = FeedFollower(f"http://127.0.0.1:{free_port()}/_stub/events", cache, interval_s=0.01)
    follower.start()
    await asyncio.sleep(0.2)
    assert follower.running
    await follower.stop()
    assert not follower.running


def test_read_feed_keeps_trip_events_and_skips_malformed_ones() -> None:
    events, seq = read_feed(
        {
            "events": [
                {"seq": 1, "type": "TripBooked", "id": "trip-1", "traveler_id": "t-1",
                 "at": "2026-01-01T00:00:00+00:00"},
                {"seq": 2, "type": "TripBooked", "id": "trip-2"},
                {"seq": 3, "type": "TravelerRenamed", "id": "t-1"},
            ],
            "last_seq": 3,
        }
    )  # fmt: skip
    assert ([(e.seq, e.type, e.id, e.traveler_id) for e in events], seq) == (
        [(1, "TripBooked", "trip-1", "t-1")],
        3,
    )
    with pytest.raises(ValueError, match="last_seq"):
        read_feed({"events": []})
