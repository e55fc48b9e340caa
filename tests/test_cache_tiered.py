import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from gateway.cache.l1 import L1Cache
from gateway.cache.redis_store import RedisStore
from gateway.cache.tiered import Hit, TieredCache
from tests.support.redis_server import (
    RedisServer,
    redis_server_fixture,  # noqa: F401
    redis_session_server_fixture,  # noqa: F401
)

pytestmark = pytest.mark.redis


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class BackendDown(Exception):
    pass


class CountingLoader:
    """A stand-in backend: counts calls, optionally slow or failing."""

    def __init__(self, value: bytes = b'{"v":1}', *, delay_s: float = 0.0) -> None:
        self.value = value
        self.delay_s = delay_s
        self.calls = 0
        self.fail = False

    async def __call__(self) -> bytes:
        self.calls += 1
        await asyncio.sleep(self.delay_s)
        if self.fail:
            raise BackendDown()
        return self.value


@pytest.fixture
async def stores(redis_server: RedisServer) -> AsyncIterator[Callable[..., RedisStore]]:
    made: list[RedisStore] = []

    def make(**options: object) -> RedisStore:
        store = RedisStore(redis_server.url, timeout_s=0.5, **options)  # type: ignore[arg-type]
        made.append(store)
        return store

    yield make
    for store in made:
        await store.aclose()


def tiered(store: RedisStore | None, **options: object) -> TieredCache:
    return TieredCache(L1Cache(jitter=0.0), store, **options)  # type: ignore[arg-type]


async def test_l2_hits_are_promoted_and_two_instances_share_redis(
    stores: Callable[..., RedisStore],
) -> None:
    warm, cold = tiered(stores()), tiered(stores())
    await warm.set_many({"a": b"1", "b": b"2"}, ttl_s=60, stale_s=0)
    await warm.drain()

    assert await warm.get_many(["a", "b"]) == {
        "a": Hit(b"1", "L1", True),
        "b": Hit(b"2", "L1", True),
    }
    assert await cold.get_many(["a", "b", "c"]) == {
        "a": Hit(b"1", "L2", True),
        "b": Hit(b"2", "L2", True),
    }
    assert await cold.get_many(["a"]) == {"a": Hit(b"1", "L1", True)}


async def test_misses_go_to_redis_in_one_round_trip(
    stores: Callable[..., RedisStore], redis_server: RedisServer
) -> None:
    cache = tiered(stores(), write_behind=False)
    await cache.set_many({"a": b"1"}, ttl_s=60, stale_s=0)
    await tiered(stores(), write_behind=False).set_many({"b": b"2", "c": b"3"}, ttl_s=60, stale_s=0)
    redis_server.reset_stats()
    hits = await cache.get_many(["a", "b", "c", "d", "e"])
    assert sorted(hits) == ["a", "b", "c"]
    assert redis_server.command_calls("mget") == 1  # for b..e; a came from L1


async def test_stale_entries_are_served_as_stale(stores: Callable[..., RedisStore]) -> None:
    clock = FakeClock()
    store = stores(wall_clock=clock)
    cache = TieredCache(L1Cache(jitter=0.0, clock=clock), store, clock=clock, write_behind=False)
    await cache.set_many({"a": b"old"}, ttl_s=10, stale_s=3_600)
    clock.now += 11
    assert await cache.get_many(["a"]) == {"a": Hit(b"old", "L1", False)}

    other = TieredCache(L1Cache(jitter=0.0, clock=clock), store, clock=clock)
    assert await other.get_many(["a"]) == {"a": Hit(b"old", "L2", False)}


async def test_single_flight_calls_the_loader_once_for_50_concurrent_misses(
    stores: Callable[..., RedisStore],
) -> None:
    cache = tiered(stores())
    load = CountingLoader(delay_s=0.05)
    results = await asyncio.gather(*(cache.get_or_load("cold", load, ttl_s=60) for _ in range(50)))
    assert load.calls == 1
    assert set(results) == {(b'{"v":1}', "load")}
    assert await cache.get_or_load("cold", load, ttl_s=60) == (b'{"v":1}', "L1")
    await cache.drain()
    assert await tiered(stores()).get_or_load("cold", load, ttl_s=60) == (b'{"v":1}', "L2")
    assert load.calls == 1


async def test_a_redis_lease_makes_two_processes_load_a_cold_key_once(
    stores: Callable[..., RedisStore],
) -> None:
    first, second = tiered(stores()), tiered(stores())
    load = CountingLoader(delay_s=0.2)
    results = await asyncio.gather(
        first.get_or_load("cold", load, ttl_s=60),
        second.get_or_load("cold", load, ttl_s=60),
    )
    assert load.calls == 1
    assert sorted(source for _, source in results) == ["L2", "load"]
    assert {value for value, _ in results} == {b'{"v":1}'}


async def test_a_waiter_loads_anyway_when_the_lease_holder_is_too_slow(
    stores: Callable[..., RedisStore],
) -> None:
    holder = stores()
    assert await holder.acquire_lease("bff:slow#lease", ttl_ms=10_000)  # and never finishes
    cache = tiered(stores(), lease_wait_s=0.1)
    load = CountingLoader()
    assert await cache.get_or_load("bff:slow", load, ttl_s=60) == (b'{"v":1}', "load")
    assert load.calls == 1


async def test_a_failed_holder_frees_the_lease_for_the_next_process(
    stores: Callable[..., RedisStore],
) -> None:
    failing, waiting = tiered(stores()), tiered(stores(), lease_wait_s=5)
    broken = CountingLoader(delay_s=0.1)
    broken.fail = True
    healthy = CountingLoader(b"ok")
    first = asyncio.ensure_future(failing.get_or_load("k", broken, ttl_s=60))
    await asyncio.sleep(0.03)  # the failing one holds the lease
    second = await waiting.get_or_load("k", healthy, ttl_s=60)
    with pytest.raises(BackendDown):
        await first
    assert second == (b"ok", "load") and healthy.calls == 1


async def test_stale_if_error(stores: Callable[..., RedisStore]) -> None:
    clock = FakeClock()
    store = stores(wall_clock=clock)
    cache = TieredCache(L1Cache(jitter=0.0, clock=clock), store, clock=clock)
    load = CountingLoader(b"v1")
    assert await cache.get_or_load("k", load, ttl_s=10, stale_s=100) == (b"v1", "load")
    clock.now += 20
    load.fail = True
    assert await cache.get_or_load("k", load, ttl_s=10, stale_s=100) == (b"v1", "stale")
    with pytest.raises(BackendDown):  # only the chosen errors are hidden by stale data
        await cache.get_or_load("k", load, ttl_s=10, stale_s=100, serve_stale_on=(KeyError,))

    clock.now += 200  # past the stale window: the error surfaces
    with pytest.raises(BackendDown):
        await cache.get_or_load("k", load, ttl_s=10, stale_s=100)
    await cache.drain()


async def test_every_waiter_sees_the_loaders_error(stores: Callable[..., RedisStore]) -> None:
    cache = tiered(stores())
    load = CountingLoader(delay_s=0.02)
    load.fail = True
    results = await asyncio.gather(
        *(cache.get_or_load("k", load, ttl_s=60) for _ in range(5)), return_exceptions=True
    )
    assert load.calls == 1
    assert all(isinstance(r, BackendDown) for r in results)


async def test_write_behind_off_writes_redis_before_returning(
    stores: Callable[..., RedisStore], redis_server: RedisServer
) -> None:
    cache = tiered(stores(), write_behind=False)
    await cache.get_or_load("k", CountingLoader(), ttl_s=60)
    with redis_server.client() as r:
        assert r.exists("k") == 1
        assert r.exists("k#lease") == 0


async def test_invalidate_drops_keys_and_replaces_generations_everywhere(
    stores: Callable[..., RedisStore], redis_server: RedisServer
) -> None:
    writer, reader = tiered(stores(), write_behind=False), tiered(stores())
    await writer.set_many({"e": b"1"}, ttl_s=60, stale_s=0)
    before = await reader.generation("gen")
    assert (await reader.get_many(["e"]))["e"].tier == "L2"

    assert await writer.invalidate(["e"], generations=["gen"])
    assert await writer.get_many(["e"]) == {}
    after = await reader.generation("gen")
    assert after not in (None, before)
    # The reader's L1 copy of "e" survives (another container can't reach it): only
    # keys built from a generation token are retired everywhere.
    assert (await reader.get_many(["e"]))["e"].tier == "L1"


async def test_a_dead_redis_never_fails_a_request() -> None:
    with RedisServer() as server:
        store = RedisStore(server.url, timeout_s=0.2, breaker_failures=1)
        cache = tiered(store)
        server.stop()
        try:
            load = CountingLoader()
            assert await cache.get_or_load("k", load, ttl_s=60) == (b'{"v":1}', "load")
            await cache.set_many({"x": b"1"}, ttl_s=60, stale_s=0)
            await cache.drain()
            assert await cache.get_many(["x", "y"]) == {"x": Hit(b"1", "L1", True)}
            assert await cache.generation("gen") is None  # don't cache private data now
            assert not await cache.invalidate(["x"])  # ask the event source to redeliver
            assert store.state == "open"
        finally:
            await store.aclose()


async def test_without_redis_l1_does_everything() -> None:
    cache = tiered(None)
    load = CountingLoader(delay_s=0.01)
    results = await asyncio.gather(*(cache.get_or_load("k", load, ttl_s=60) for _ in range(10)))
    assert load.calls == 1 and results[0] == (b'{"v":1}', "load")
    generation = await cache.generation("gen")
    assert generation is not None and await cache.generation("gen") == generation
    assert await cache.invalidate(["k"], generations=["gen"])
    assert await cache.generation("gen") not in (None, generation)
    assert await cache.get_many(["k"]) == {}
