"""The idempotency records in Redis, shared by every gateway process.

    claim    one atomic script: SET key <running> NX PX <lease>, else GET key
    finish   SET key <finished> EX 86400
    release  delete key only if it still holds this request's own running marker

Built on the cache's `RedisStore`, so the client, its short timeouts, the circuit breaker
and the translation of Redis errors are the same single implementation. Each method
answers `None` when Redis couldn't (the caller then falls back to the process's store).
"""

from __future__ import annotations

import math

from gateway.cache.redis_store import Client, RedisStore
from gateway.idempotency.records import CLAIMED, Claimed, Record, Running, decode, encode

# Returns nil when this caller's marker was set, else whatever holds the key.
_CLAIM = """
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
return redis.call('get', KEYS[1])
"""
_RELEASE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)


class IdempotencyRedis(RedisStore):
    async def claim(self, key: str, running: Running, *, lease_ms: int) -> Claimed | Record | None:
        """CLAIMED, the record already there, or None when Redis can't say."""

        async def claim(client: Client) -> tuple[bytes | None]:
            raw = await client.eval(_CLAIM, 1, key, encode(running), str(lease_ms))
            return (raw if isinstance(raw, bytes) else None,)

        result = await self._call(claim, None)
        if result is None:
            return None
        raw = result[0]
        if raw is None:
            return CLAIMED
        record = decode(raw)
        # Undecodable (another version's format): the first request can't be judged by it.
        return record if record is not None else CLAIMED

    async def finish(self, key: str, raw: bytes, *, ttl_s: float) -> bool:
        async def finish(client: Client) -> bool:
            await client.set(key, raw, ex=max(1, math.ceil(ttl_s)))
            return True

        return await self._call(finish, False)

    async def release(self, key: str, running: Running) -> bool:
        async def release(client: Client) -> bool:
            await client.eval(_RELEASE, 1, key, encode(running))
            return True

        return await self._call(release, False)
