from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

import pytest

from gateway.cache.coalesce import Coalescer
from gateway.cache.l1 import L1Cache
from gateway.cache.redis_store import RedisStore
from gateway.cache.tiered import TieredCache
from tests.support.redis_server import (
    RedisServer,
    redis_server_fixture,  # noqa: F401
    redis_session_server_fixture,  # noqa: F401
)


async def test_lookups_in_one_loop_turn_share_one_fetch() -> None:
    calls: list[list[str]] = []

    async def fetch(keys: Sequence[str]) -> dict[str, int]:
        calls.append(list(keys))
        return {k: int(k[1:]) for k in keys if k != "x9"}

    coalescer: Coalescer[int] = Coalescer(fetch)
    answers = await asyncio.gather(
        coalescer.get_many(["x1", "x2"]),
        coalescer.get_many(["x2", "x3"]),
        coalescer.get_many(["x9"]),
    )
    assert list(answers) == [{"x1": 1, "x2": 2}, {"x2": 2, "x3": 3}, {}]
    assert calls == [["x1", "x2", "x3", "x9"]]
    assert await coalescer.get_many(["x4"]) == {"x4": 4}  # a lone lookup flushes by itself
    assert len(calls) == 2


async def test_a_failed_fetch_fails_every_waiter() -> None:
    async def fetch(keys: Sequence[str]) -> dict[str, int]:
        raise RuntimeError("down")

    coalescer: Coalescer[int] = Coalescer(fetch)
    results = await asyncio.gather(
        coalescer.get_many(["a"]), coalescer.get_many(["b"]), return_exceptions=True
    )
    assert [type(r) for r in results] == [RuntimeError, RuntimeError]


@pytest.mark.redis
async def test_concurrent_misses_in_l1_make_one_mget(redis_server: RedisServer) -> None:
    store = RedisStore(redis_server.url)
    writer = TieredCache(L1Cache(), store, write_behind=False)
    await writer.set_many({f"k{n}": f"v{n}".encode() for n in range(20)}, ttl_s=60, stale_s=0)
    reader = TieredCache(L1Cache(), store)
    redis_server.reset_stats()
    hits = await asyncio.gather(*(reader.get(f"k{n}") for n in range(20)))
    assert [h.value if h else None for h in hits] == [f"v{n}".encode() for n in range(20)]
    assert {h.tier for h in hits if h} == {"L2"}
    assert redis_server.command_calls("mget") == 1
    await store.aclose()


@pytest.mark.redis
async def test_two_processes_load_a_cold_batch_once(redis_server: RedisServer) -> None:
    """Two TieredCaches (separate L1s, as in two processes) race for overlapping keys."""
    loaded: list[str] = []

    async def load(keys: list[str]) -> dict[str, bytes | None]:
        loaded.extend(keys)
        await asyncio.sleep(0.05)  # a backend round trip, so the race really overlaps
        return {k: None if k == "missing" else k.upper().encode() for k in keys}

    stores = [RedisStore(redis_server.url), RedisStore(redis_server.url)]
    caches = [TieredCache(L1Cache(), store) for store in stores]
    first, second = await asyncio.gather(
        caches[0].load_many(["a", "b", "missing"], load, ttl_s=60, stale_s=0),
        caches[1].load_many(["b", "c", "missing"], load, ttl_s=60, stale_s=0),
    )
    assert first == {"a": b"A", "b": b"B", "missing": None}
    assert second["b"] == b"B" and second["c"] == b"C" and second["missing"] is None
    assert sorted(loaded).count("b") == 1 and sorted(loaded).count("a") == 1
    for cache in caches:
        await cache.drain()
    assert (await caches[1].get("a")) is not None  # stored in Redis for everyone
    for store in stores:
        await store.aclose()


class FinishingJustBeforeTheCheck(RedisStore):
    """The real store, where another process's load lands (value stored, lease released)
    between this process's read of the values and its check of the leases: the interleaving
    that made two gateways load the same flights under load."""

    def __init__(self, url: str, finish: Callable[[], Awaitable[None]]) -> None:
        super().__init__(url)
        self.finish = finish
        self.landed = False

    async def held_leases(self, keys: Sequence[str]) -> set[str]:
        if not self.landed:
            self.landed = True
            await self.finish()
        return await super().held_leases(keys)


@pytest.mark.redis
async def test_a_value_landing_as_its_lease_is_released_is_not_loaded_again(
    redis_server: RedisServer,
) -> None:
    loaded: list[str] = []
    started, release = asyncio.Event(), asyncio.Event()

    async def load(keys: list[str]) -> dict[str, bytes | None]:
        loaded.extend(keys)
        started.set()  # called with the lease held
        await release.wait()
        return {k: k.upper().encode() for k in keys}

    holding_store = RedisStore(redis_server.url)
    holder = TieredCache(L1Cache(), holding_store)  # write-behind: put, then release

    async def finish() -> None:
        """The holder's load ends, and its value and lease release reach Redis."""
        release.set()
        await holding
        await holder.drain()

    holding = asyncio.create_task(holder.load_many(["f1"], load, ttl_s=60, stale_s=0))
    await started.wait()
    waiting_store = FinishingJustBeforeTheCheck(redis_server.url, finish)
    waiter = TieredCache(L1Cache(), waiting_store, lease_poll_s=0.01, lease_wait_s=5)
    found = await waiter.load_many(["f1"], load, ttl_s=60, stale_s=0)
    assert found == {"f1": b"F1"} and await holding == {"f1": b"F1"}
    assert waiting_store.landed and loaded == ["f1"]  # loaded once, by the holder
    for store in (holding_store, waiting_store):
        await store.aclose()


@pytest.mark.redis
async def test_a_value_stored_between_a_miss_and_the_lease_is_not_loaded_again(
    redis_server: RedisServer,
) -> None:
    """load_many is called after a miss in both tiers; if another process loads, stores and
    releases before this one takes the lease, the lease is free but the value is there."""
    loaded: list[str] = []

    async def load(keys: list[str]) -> dict[str, bytes | None]:
        loaded.extend(keys)
        return {k: k.upper().encode() for k in keys}

    stores = [RedisStore(redis_server.url), RedisStore(redis_server.url)]
    holder = TieredCache(L1Cache(), stores[0], write_behind=False)
    waiter = TieredCache(L1Cache(), stores[1], write_behind=False)
    assert await holder.load_many(["k1", "k2"], load, ttl_s=60, stale_s=0) == {
        "k1": b"K1",
        "k2": b"K2",
    }
    # The waiter's miss came just before the holder's store: it goes on to take the leases.
    found = await waiter.load_many(["k1", "k2", "k3"], load, ttl_s=60, stale_s=0)
    assert found == {"k1": b"K1", "k2": b"K2", "k3": b"K3"}
    assert loaded == ["k1", "k2", "k3"]  # k1 and k2 once, by the holder
    assert not await stores[1].held_leases(["k1#lease", "k2#lease", "k3#lease"])
    for store in stores:
        await store.aclose()
