"""The `cache-events` Lambda function: trip events from SQS, SNS or EventBridge in, cache
invalidations out.

Deployed as its own function (serverless.yml: `handler: gateway.events_handler.handle`;
also exposed as `gateway.lambda_handler.events`). It is not HTTP, so Mangum has no part in
it: `handle(event, context)` runs `gateway.invalidation.apply_delivery` to completion and
returns what the event source expects (the SQS partial batch response, or `{}`; for SNS
and EventBridge a Redis failure raises, so Lambda retries).

Per process (per warm container): one event loop, created at the first invocation and
reused by every later one, and one `TieredCache` built from the environment
(`REDIS_URL`, ...; see `gateway.cache.setup`), whose Redis client binds to that loop.
Writes are not deferred (`write_behind=False`): the container freezes as soon as the
handler returns. Importing this module imports neither FastAPI nor strawberry nor redis-py
(cold start); nothing connects at import.
"""

from __future__ import annotations

import asyncio
from typing import Any

from gateway.cache.setup import CacheConfig, build_cache
from gateway.cache.tiered import TieredCache
from gateway.invalidation import apply_delivery

_loop: asyncio.AbstractEventLoop | None = None
_cache: TieredCache | None = None


def handle(event: Any, context: Any) -> dict[str, Any]:
    """Lambda entry point for SQS, SNS and EventBridge deliveries of trip events."""
    return event_loop().run_until_complete(apply_delivery(event, process_cache()))


def event_loop() -> asyncio.AbstractEventLoop:
    """This process's loop. Not installed as the current loop: the handler only ever runs
    it with `run_until_complete`, and a test runner's own loop is left alone."""
    global _loop
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
    return _loop


def process_cache() -> TieredCache:
    """This process's cache, built from the environment at the first invocation."""
    global _cache
    if _cache is None:
        _cache = build_cache(CacheConfig.from_env(), write_behind=False)
    return _cache


def reset_for_tests() -> None:
    """Close the Redis client and the loop and forget both, so the next invocation starts
    like a cold one and reads the environment again."""
    global _loop, _cache
    loop, cache = _loop, _cache
    _loop, _cache = None, None
    if loop is None or loop.is_closed():
        return
    if cache is not None and cache.l2 is not None:
        loop.run_until_complete(cache.l2.aclose())
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
