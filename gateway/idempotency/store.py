"""The idempotency store the middleware talks to: Redis when configured, the process's own
records otherwise, and the process's own records whenever Redis can't answer.

A request never waits on a dead Redis: the cache's breaker skips it for a few seconds after
failures, and every call is bounded by short timeouts. Records made during an outage stay
in the process and are consulted first, so a retry that reaches the same process after
Redis is back is still recognised.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.config import Settings
from gateway.idempotency.memory import MemoryStore
from gateway.idempotency.records import Claimed, Finished, Record, Running, encode

if TYPE_CHECKING:  # redis-py is imported only when REDIS_URL is set (Lambda cold start)
    from gateway.idempotency.redis_store import IdempotencyRedis

ANSWER_TTL_S = 24 * 3600  # the IETF draft's suggestion; a client retries within a day
LEASE_MS = 60_000  # longer than any request may run (API Gateway cuts off at 30 s)
REDIS_TIMEOUT_S = 0.2  # per socket operation; the whole call is bounded at twice that


class IdempotencyStore:
    def __init__(self, memory: MemoryStore, redis: IdempotencyRedis | None = None) -> None:
        self.memory = memory
        self.redis = redis
        self.fallbacks = 0  # how often Redis couldn't answer and the process's store did

    async def claim(self, key: str, running: Running) -> Record | None:
        """None: `running` now holds the key. Else the record that was there first."""
        if self.redis is None or self.memory.peek(key) is not None:
            return self.memory.claim(key, running, lease_ms=LEASE_MS)
        shared = await self.redis.claim(key, running, lease_ms=LEASE_MS)
        if shared is None:
            self.fallbacks += 1
            return self.memory.claim(key, running, lease_ms=LEASE_MS)
        return None if isinstance(shared, Claimed) else shared

    async def finish(self, key: str, record: Finished) -> None:
        raw = encode(record)
        shared = self.redis is not None and await self.redis.finish(key, raw, ttl_s=ANSWER_TTL_S)
        if not shared or self.memory.peek(key) is not None:
            self.memory.finish(key, raw, ttl_s=ANSWER_TTL_S)

    async def release(self, key: str, running: Running) -> None:
        self.memory.release(key, running)
        if self.redis is not None:
            await self.redis.release(key, running)


def build_store(settings: Settings) -> IdempotencyStore:
    """Connects to nothing: the Redis client is made on the first request's loop."""
    redis = None
    if settings.redis_url:
        from gateway.idempotency.redis_store import IdempotencyRedis

        redis = IdempotencyRedis(
            settings.redis_url, cluster=settings.redis_cluster, timeout_s=REDIS_TIMEOUT_S
        )
    return IdempotencyStore(MemoryStore(), redis)
