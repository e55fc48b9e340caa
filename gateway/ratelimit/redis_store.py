"""Buckets in Redis, shared by every gateway process: one Lua script per request.

The script is `bucket.take` in Lua: read the bucket, refill it for the time since, take a
token, write it back with an expiry of one full refill, and answer `{allowed, remaining,
wait_ms}`, atomically (Redis runs a script alone). Time is Redis's own `TIME`, so processes
with drifting clocks still share one bucket fairly; tests pass `now_ms` to compare the script
with the Python. One key per caller, so it works on a cluster too.

Redis trouble never blocks a request: tight timeouts, the cache's circuit breaker, and `None`
("Redis can't say") for the limiter to fall back on. The client is created lazily on the
running loop and rebuilt when the loop changes, as in `gateway.cache.redis_store`.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from redis.exceptions import NoScriptError

from gateway.cache.redis_store import Client, RedisStore
from gateway.ratelimit.bucket import Decision, Rate, retry_after_s

PREFIX = "bff:v1:rl:"

TAKE = """
local capacity = tonumber(ARGV[1])
local per_token = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
if tokens == nil then
  tokens = capacity
else
  local elapsed = math.max(0, now - tonumber(state[2]))
  tokens = math.min(capacity, tokens + elapsed / per_token)
end
local allowed, wait = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = (1 - tokens) * per_token
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens),
           'at', string.format('%.17g', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity * per_token))
return {allowed, math.floor(tokens), math.ceil(wait)}
"""
TAKE_SHA = hashlib.sha1(TAKE.encode()).hexdigest()


def bucket_key(caller: str) -> str:
    """`"sub:u 7"` → `"bff:v1:rl:{sub:u%207}"`: no caller can forge a separator or hash tag."""
    return f"{PREFIX}{{{quote(caller, safe=':')}}}"


class RedisBuckets(RedisStore):
    """The cache's Redis seam (lazy client per loop, short timeouts, breaker, errors
    translated once), with one more command: take a token from a caller's bucket."""

    async def take(
        self, caller: str, rate: Rate, *, now_ms: float | None = None
    ) -> Decision | None:
        """The decision, or None when Redis can't say (down, slow, breaker open)."""
        args: list[Any] = [rate.requests, rate.per_token_s * 1000, "" if now_ms is None else now_ms]
        key = bucket_key(caller)

        async def take(client: Client) -> Any:
            try:
                return await client.evalsha(TAKE_SHA, 1, key, *args)
            except NoScriptError:  # a fresh or flushed server: EVAL loads it once
                return await client.eval(TAKE, 1, key, *args)

        reply = await self._call(take, None)
        if reply is None:
            return None
        allowed, remaining, wait_ms = (int(n) for n in reply)
        return Decision(bool(allowed), remaining, 0 if allowed else retry_after_s(wait_ms / 1000))
