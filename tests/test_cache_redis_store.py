import asyncio
import gc
import time
from collections.abc import AsyncIterator

import pytest

from gateway.cache.entry import Entry
from gateway.cache.redis_store import RedisStore
from tests.support.redis_server import (
    RedisServer,
    redis_server_fixture,  # noqa: F401
    redis_session_server_fixture,  # noqa: F401
)

pytestmark = pytest.mark.redis


class FakeClock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def state(store: RedisStore) -> str:
    return store.state  # read afresh: the breaker changes under mypy's narrowing


@pytest.fixture
async def store(redis_server: RedisServer) -> AsyncIterator[RedisStore]:
    store = RedisStore(redis_server.url, timeout_s=0.5)
    yield store
    await store.aclose()


async def test_round_trip(store: RedisStore) -> None:
    assert await store.set_many({"a": b'{"a":1}', "b": b"[]"}, ttl_s=30, stale_s=60)
    found = await store.get_many(["a", "b", "missing"])
    assert {k: e.value for k, e in found.items()} == {"a": b'{"a":1}', "b": b"[]"}
    entry = found["a"]
    assert entry.stale_until - entry.fresh_until == pytest.approx(60)
    assert await store.get_many([]) == {}


async def test_many_keys_are_read_in_one_mget(store: RedisStore, redis_server: RedisServer) -> None:
    keys = [f"k{i}" for i in range(50)]
    await store.set_many({k: k.encode() for k in keys[::2]}, ttl_s=30, stale_s=0)
    redis_server.reset_stats()
    found = await store.get_many(keys)
    assert sorted(found) == sorted(keys[::2])
    assert redis_server.command_calls("mget") == 1
    assert redis_server.command_calls("get") == 0


async def test_redis_expires_entries_at_the_end_of_the_stale_window(
    store: RedisStore, redis_server: RedisServer
) -> None:
    await store.set_many({"a": b"v"}, ttl_s=10, stale_s=20)
    with redis_server.client() as r:
        assert 29_000 < r.pttl("a") <= 30_000


async def test_reads_tell_fresh_from_stale(redis_server: RedisServer) -> None:
    wall = FakeClock()
    store = RedisStore(redis_server.url, timeout_s=0.5, wall_clock=wall)
    try:
        await store.set_many({"a": b"v"}, ttl_s=10, stale_s=3_600)
        entry = (await store.get_many(["a"]))["a"]
        assert entry == Entry(b"v", fresh_until=1_010.0, stale_until=4_610.0)
        assert entry.fresh(1_009.0) and not entry.fresh(1_011.0) and entry.usable(1_011.0)
    finally:
        await store.aclose()


async def test_put_many_skips_dead_entries(store: RedisStore, redis_server: RedisServer) -> None:
    now = time.time()
    assert await store.put_many(
        {"live": Entry(b"v", now + 5, now + 10), "dead": Entry(b"v", now - 10, now - 5)}
    )
    with redis_server.client() as r:
        assert r.exists("live", "dead") == 1


async def test_foreign_values_are_misses(store: RedisStore, redis_server: RedisServer) -> None:
    with redis_server.client() as r:
        r.set("foreign", b'{"not":"ours"}')
        r.rpush("list", b"x")
    assert await store.get_many(["foreign"]) == {}


async def test_delete_many(store: RedisStore) -> None:
    await store.set_many({"a": b"1", "b": b"2", "c": b"3"}, ttl_s=30, stale_s=0)
    assert await store.delete_many(["a", "b", "nope"])
    assert list(await store.get_many(["a", "b", "c"])) == ["c"]
    assert await store.delete_many([])


async def test_generations_are_stable_until_bumped_and_never_come_back(
    store: RedisStore, redis_server: RedisServer
) -> None:
    first = await store.generation("gen", ttl_s=60)
    assert first is not None
    assert await store.generation("gen", ttl_s=60) == first
    assert await store.bump_generations(["gen"], ttl_s=60)
    second = await store.generation("gen", ttl_s=60)
    assert second not in (None, first)
    with redis_server.client() as r:
        assert 0 < r.ttl("gen") <= 60
        r.delete("gen")  # evicted
    assert await store.generation("gen", ttl_s=60) not in (None, first, second)


async def test_leases_are_exclusive_and_released_only_by_their_holder(
    store: RedisStore, redis_server: RedisServer
) -> None:
    other = RedisStore(redis_server.url, timeout_s=0.5)
    try:
        assert await store.acquire_lease("lease", ttl_ms=5_000)
        assert not await other.acquire_lease("lease", ttl_ms=5_000)
        await other.release_lease("lease")  # not the holder: no effect
        assert not await other.acquire_lease("lease", ttl_ms=5_000)
        with redis_server.client() as r:
            assert 0 < r.pttl("lease") <= 5_000
        await store.release_lease("lease")
        assert await other.acquire_lease("lease", ttl_ms=5_000)
    finally:
        await other.aclose()


async def test_ping(store: RedisStore) -> None:
    assert await store.ping()
    assert state(store) == "closed"


async def test_a_killed_redis_is_a_miss_then_the_breaker_opens_and_later_recovers() -> None:
    breaker_clock = FakeClock()
    with RedisServer() as server:
        store = RedisStore(
            server.url, timeout_s=0.2, breaker_failures=2, breaker_open_s=5, clock=breaker_clock
        )
        try:
            assert await store.set_many({"a": b"v"}, ttl_s=60, stale_s=0)
            server.stop()

            assert await store.get_many(["a"]) == {}
            assert state(store) == "closed"
            assert not await store.set_many({"a": b"v"}, ttl_s=60, stale_s=0)
            assert state(store) == "open"
            # While open, nothing reaches Redis and every call answers its default.
            assert await store.get_many(["a"]) == {}
            assert await store.generation("g", ttl_s=60) is None
            assert await store.acquire_lease("lease", ttl_ms=100)  # go ahead, don't wait
            assert not await store.ping()

            server.start()  # same port, empty
            assert await store.get_many(["a"]) == {}  # still open: Redis not asked yet
            assert state(store) == "open"

            breaker_clock.now += 5  # open period over: the next call is the probe
            assert await store.set_many({"a": b"back"}, ttl_s=60, stale_s=0)
            assert state(store) == "closed"
            assert (await store.get_many(["a"]))["a"].value == b"back"
        finally:
            await store.aclose()


@pytest.mark.parametrize(
    ("url", "message"),
    [("http://localhost:6379", "redis://, rediss://"), ("localhost:6379", "redis://")],
)
def test_bad_urls_fail_at_construction(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RedisStore(url)


def test_timeouts_must_be_tight() -> None:
    with pytest.raises(ValueError, match="timeout_s"):
        RedisStore("redis://localhost", timeout_s=5)


@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_the_client_is_rebuilt_when_the_event_loop_changes(redis_server: RedisServer) -> None:
    store = RedisStore(redis_server.url, timeout_s=0.5)

    async def write() -> bool:
        return await store.set_many({"a": b"v"}, ttl_s=60, stale_s=0)

    async def read_and_close() -> dict[str, Entry]:
        try:
            return await store.get_many(["a"])
        finally:
            await store.aclose()

    assert asyncio.run(write())  # leaves a client bound to a loop that is now closed
    found = asyncio.run(read_and_close())
    gc.collect()  # the dropped client's sockets are reclaimed here, under this test's filters
    assert found["a"].value == b"v"
    assert state(store) == "closed"
