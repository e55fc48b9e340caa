"""The Redis Cluster path, against a real 3-node cluster (no replicas)."""

from collections.abc import AsyncIterator

import pytest

from gateway.cache.keys import entity_key, lease_key, traveler_generation_key, traveler_key
from gateway.cache.l1 import L1Cache
from gateway.cache.redis_store import RedisStore
from gateway.cache.tiered import Hit, TieredCache
from tests.support.redis_server import (
    RedisClusterNodes,
    redis_cluster_fixture,  # noqa: F401
    redis_session_cluster_fixture,  # noqa: F401
)

pytestmark = pytest.mark.redis

KEYS = [entity_key("trip", f"T-{i}") for i in range(40)]


@pytest.fixture
async def store(redis_cluster: RedisClusterNodes) -> AsyncIterator[RedisStore]:
    store = RedisStore(redis_cluster.url, cluster=True, timeout_s=0.5)
    yield store
    await store.aclose()


async def test_set_many_and_get_many_across_slots_and_nodes(
    store: RedisStore, redis_cluster: RedisClusterNodes
) -> None:
    assert await store.set_many({k: k.encode() for k in KEYS}, ttl_s=60, stale_s=0)
    assert all(count > 0 for count in redis_cluster.keys_per_node())
    redis_cluster.reset_stats()
    found = await store.get_many([*KEYS, entity_key("trip", "missing")])
    assert {k: e.value for k, e in found.items()} == {k: k.encode() for k in KEYS}
    # mget_nonatomic: one MGET per slot, pipelined per node; never a GET per key.
    assert 3 <= redis_cluster.command_calls("mget") <= len(KEYS) + 1
    assert redis_cluster.command_calls("get") == 0
    assert store.state == "closed"


async def test_delete_many_across_slots(store: RedisStore) -> None:
    await store.set_many({k: b"v" for k in KEYS}, ttl_s=60, stale_s=0)
    assert await store.delete_many(KEYS[:30])
    assert sorted(await store.get_many(KEYS)) == sorted(KEYS[30:])


async def test_a_travelers_keys_share_one_slot_so_one_mget_reads_them(
    store: RedisStore, redis_cluster: RedisClusterNodes
) -> None:
    generation = await store.generation(traveler_generation_key("U-7"), ttl_s=60)
    assert generation is not None
    pages = [
        traveler_key("U-7", generation=generation, kind="trips", params={"page": n})
        for n in range(5)
    ]
    await store.set_many({k: b"page" for k in pages}, ttl_s=60, stale_s=0)
    redis_cluster.reset_stats()
    assert len(await store.get_many(pages)) == 5
    assert redis_cluster.command_calls("mget") == 1


async def test_generations_and_leases_on_a_cluster(
    store: RedisStore, redis_cluster: RedisClusterNodes
) -> None:
    gens = [traveler_generation_key(f"U-{i}") for i in range(10)]
    before = [await store.generation(g, ttl_s=60) for g in gens]
    assert None not in before
    assert await store.bump_generations(gens, ttl_s=60)
    after = [await store.generation(g, ttl_s=60) for g in gens]
    assert all(a != b for a, b in zip(after, before, strict=True))

    lease = lease_key(KEYS[0])
    assert await store.acquire_lease(lease, ttl_ms=1_000)
    other = RedisStore(redis_cluster.url, cluster=True, timeout_s=0.5)
    try:
        assert not await other.acquire_lease(lease, ttl_ms=1_000)
        await store.release_lease(lease)
        assert await other.acquire_lease(lease, ttl_ms=1_000)
    finally:
        await other.aclose()


async def test_tiered_cache_over_a_cluster(redis_cluster: RedisClusterNodes) -> None:
    stores = [RedisStore(redis_cluster.url, cluster=True, timeout_s=0.5) for _ in range(2)]
    try:
        warm = TieredCache(L1Cache(), stores[0], write_behind=False)
        cold = TieredCache(L1Cache(), stores[1])
        await warm.set_many({k: b"v" for k in KEYS[:10]}, ttl_s=60, stale_s=0)
        hits = await cold.get_many(KEYS[:12])
        assert hits == {k: Hit(b"v", "L2", True) for k in KEYS[:10]}
    finally:
        for store in stores:
            await store.aclose()
