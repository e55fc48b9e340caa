"""L2: Redis through redis-py's asyncio client (standalone or Redis Cluster).

Redis trouble never hurts a request. Every command runs through `_call`, the one place
that translates Redis errors: a failure becomes the caller's default (a miss, False, ...),
counts towards the circuit breaker, and while the breaker is open Redis is not contacted
at all. Timeouts are tight (socket connect/read `timeout_s`, one retry on a broken pooled
connection, and an overall deadline of twice `timeout_s`). The first call on a new client
gets `init_timeout_s` instead: cluster discovery costs tens of milliseconds of CPU
(measured ~35 ms here), and cancelling it on every try would keep the cache cold forever.
Network waits stay bounded by the socket timeouts, so a dead Redis still fails fast.

The client is created lazily on the running event loop and rebuilt if the loop changed
(redis-py pools bind to the loop that first used them).

Multi-key reads are one round trip: MGET on a standalone server; on a cluster,
`mget_nonatomic`, which pipelines one MGET per slot, one round trip per node, the nodes
in parallel. Keys that must share a slot (a traveler's keys) carry a `{hash tag}`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisClusterException, RedisError

from gateway.cache.breaker import BreakerState, CircuitBreaker
from gateway.cache.entry import Entry, decode, encode

logger = logging.getLogger(__name__)

T = TypeVar("T")
Client = Redis | RedisCluster

# What a failing Redis (or redis-py) can raise; all of it means "treat as a miss".
REDIS_ERRORS: tuple[type[BaseException], ...] = (
    RedisError,
    RedisClusterException,
    OSError,
    TimeoutError,
)

VALID_SCHEMES = ("redis", "rediss")

# Compare-and-delete, so a caller never releases a lease someone else now holds.
_RELEASE_LEASE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)


class RedisStore:
    def __init__(
        self,
        url: str,
        *,
        cluster: bool = False,
        timeout_s: float = 0.05,
        init_timeout_s: float = 0.5,
        breaker_failures: int = 3,
        breaker_open_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        scheme = urlsplit(url).scheme
        if scheme not in VALID_SCHEMES:
            raise ValueError(
                f"REDIS_URL must start with one of {', '.join(s + '://' for s in VALID_SCHEMES)}"
                f", got {scheme + '://' if scheme else 'no scheme'}"
            )
        if not 0 < timeout_s <= 1:
            raise ValueError(f"Redis timeout_s must be in (0, 1] seconds, got {timeout_s}")
        self._url = url
        self._cluster = cluster
        self._timeout_s = timeout_s
        self._init_timeout_s = max(init_timeout_s, 2 * timeout_s)
        self._ready = False  # has the current client completed a call?
        self._breaker = CircuitBreaker(
            failures=breaker_failures, open_s=breaker_open_s, clock=clock
        )
        self._wall_clock = wall_clock
        self._token = uuid.uuid4().hex  # this process's identity for leases
        self._client: Client | None = None
        self.client_builds = 0  # a warm Lambda container must not add any
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def state(self) -> BreakerState:
        return self._breaker.state

    @property
    def cluster(self) -> bool:
        return self._cluster

    # -- reads and writes ---------------------------------------------------------------

    async def get_many(self, keys: Sequence[str]) -> dict[str, Entry]:
        """Entries still in Redis (fresh or stale), in one round trip."""
        if not keys:
            return {}
        keys = list(dict.fromkeys(keys))
        raws = await self._call(lambda c: self._mget(c, keys), None)
        if raws is None:
            return {}
        found = {}
        for key, raw in zip(keys, raws, strict=True):
            entry = decode(raw) if isinstance(raw, bytes) else None
            if entry is not None:
                found[key] = entry
        return found

    async def set_many(self, items: Mapping[str, bytes], *, ttl_s: float, stale_s: float) -> bool:
        now = self._wall_clock()
        entries = {
            k: Entry.create(v, now=now, ttl_s=ttl_s, stale_s=stale_s) for k, v in items.items()
        }
        return await self.put_many(entries)

    async def put_many(self, entries: Mapping[str, Entry]) -> bool:
        """Write entries with their own times; Redis expires each at the end of its stale
        window. One pipelined round trip (per node on a cluster). True if Redis took them."""
        now = self._wall_clock()
        live = {k: e for k, e in entries.items() if e.stale_until > now}
        if not live:
            return True

        async def write(client: Client) -> bool:
            pipe = client.pipeline(transaction=False)
            for key, entry in live.items():
                pipe.set(key, encode(entry), px=max(1, math.ceil((entry.stale_until - now) * 1000)))
            await pipe.execute()
            return True

        return await self._call(write, False)

    async def delete_many(self, keys: Sequence[str]) -> bool:
        """True if Redis acknowledged (also when nothing was there)."""
        if not keys:
            return True

        async def delete(client: Client) -> bool:
            await client.delete(*keys)  # redis-py splits this per slot on a cluster
            return True

        return await self._call(delete, False)

    # -- traveler generations -------------------------------------------------------------

    async def generation(self, key: str, *, ttl_s: float) -> str | None:
        """The current generation token at `key`, creating a fresh one if it is missing.

        A lost counter (evicted, expired) thus yields a brand-new token, never an old one,
        so entries written under an older generation can't come back. None on failure.
        """

        async def read(client: Client) -> str | None:
            pipe = client.pipeline(transaction=False)
            pipe.set(key, _new_token(), nx=True, ex=math.ceil(ttl_s))
            pipe.get(key)
            _, raw = await pipe.execute()
            return raw.decode() if isinstance(raw, bytes) else None

        return await self._call(read, None)

    async def bump_generations(self, keys: Sequence[str], *, ttl_s: float) -> bool:
        if not keys:
            return True

        async def bump(client: Client) -> bool:
            pipe = client.pipeline(transaction=False)
            for key in keys:
                pipe.set(key, _new_token(), ex=math.ceil(ttl_s))
            await pipe.execute()
            return True

        return await self._call(bump, False)

    # -- leases ---------------------------------------------------------------------------

    async def acquire_lease(self, key: str, *, ttl_ms: int) -> bool:
        """True if this caller should load: it now holds the lease, or Redis can't say
        (then everybody goes ahead rather than wait on a dead Redis). False: someone else
        holds it."""

        async def acquire(client: Client) -> bool:
            return bool(await client.set(key, self._token, nx=True, px=ttl_ms))

        return await self._call(acquire, True)

    async def acquire_leases(self, keys: Sequence[str], *, ttl_ms: int) -> set[str]:
        """The leases of `keys` this caller now holds (one pipelined round trip); all of them
        when Redis can't say, so that nobody waits on a dead Redis."""

        async def acquire(client: Client) -> set[str]:
            pipe = client.pipeline(transaction=False)
            for key in keys:
                pipe.set(key, self._token, nx=True, px=ttl_ms)
            taken = await pipe.execute()
            return {key for key, ok in zip(keys, taken, strict=True) if ok}

        return await self._call(acquire, set(keys))

    async def held_leases(self, keys: Sequence[str]) -> set[str]:
        """Which of these leases someone still holds; none when Redis can't say."""

        async def held(client: Client) -> set[str]:
            pipe = client.pipeline(transaction=False)
            for key in keys:
                pipe.exists(key)
            counts = await pipe.execute()
            return {key for key, n in zip(keys, counts, strict=True) if n}

        return await self._call(held, set())

    async def release_leases(self, keys: Sequence[str]) -> None:
        async def release(client: Client) -> None:
            pipe = client.pipeline(transaction=False)
            for key in keys:
                pipe.eval(_RELEASE_LEASE, 1, key, self._token)
            await pipe.execute()

        if keys:
            await self._call(release, None)

    async def release_lease(self, key: str) -> None:
        async def release(client: Client) -> None:
            await client.eval(_RELEASE_LEASE, 1, key, self._token)

        await self._call(release, None)

    # -- lifecycle ------------------------------------------------------------------------

    async def ping(self) -> bool:
        async def ping(client: Client) -> bool:
            return bool(await client.ping())

        return await self._call(ping, False)

    async def aclose(self) -> None:
        client, loop = self._client, self._loop
        self._client, self._loop, self._ready = None, None, False
        # A client bound to another (finished) loop can't be closed from this one.
        if client is not None and loop is asyncio.get_running_loop():
            try:
                await client.aclose()
            except REDIS_ERRORS as exc:
                logger.debug("closing Redis client failed: %r", exc)

    # -- the one place Redis errors are translated ---------------------------------------------

    async def _call(self, op: Callable[[Client], Awaitable[T]], default: T) -> T:
        if not self._breaker.allow():
            return default
        client = self._client_for_loop()
        deadline = self._timeout_s * 2 if self._ready else self._init_timeout_s
        try:
            async with asyncio.timeout(deadline):
                result = await op(client)
        except REDIS_ERRORS as exc:
            self._breaker.record_failure()
            self._ready = False  # the next try may have to rediscover (a restarted cluster)
            logger.warning("Redis unavailable (%r); carrying on without it", exc)
            return default
        self._breaker.record_success()
        self._ready = True
        return result

    async def _mget(self, client: Client, keys: list[str]) -> list[Any]:
        if isinstance(client, RedisCluster):
            return await client.mget_nonatomic(keys)
        return await client.mget(keys)

    def _client_for_loop(self) -> Client:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            # A client from another (finished) loop can't be closed from here; drop it.
            self._client, self._loop, self._ready = self._build_client(), loop, False
            self.client_builds += 1
        return self._client

    def _build_client(self) -> Client:
        return redis_client(self._url, cluster=self._cluster, timeout_s=self._timeout_s)


def redis_client(url: str, *, cluster: bool, timeout_s: float) -> Client:
    """A client for a cache-like use: sub-second timeouts, at most one retry, no backoff."""
    options: dict[str, Any] = {
        "socket_timeout": timeout_s,
        "socket_connect_timeout": timeout_s,
        "retry": Retry(NoBackoff(), 1),
        # A burst of concurrent requests must queue for a connection, not fail as a miss.
        "max_connections": 512,
    }
    if cluster:
        return RedisCluster.from_url(url, **options)
    return Redis.from_url(url, health_check_interval=0, **options)


def _new_token() -> str:
    return uuid.uuid4().hex[:16]
