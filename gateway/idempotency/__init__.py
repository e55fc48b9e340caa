"""Idempotent retries: `Idempotency-Key` (the IETF httpapi draft's header) on GraphQL
mutations and on REST writes through the passthrough.

    decisions.py   pure: which requests take part, the key, the fingerprint, the verdict
    records.py     the running marker and the finished answer, and their bytes
    memory.py      the process's store (LRU, bounded by entries and bytes, expiring)
    redis_store.py the shared store (SET NX PX marker, SET EX answer), on the cache's client
    store.py       Redis first, the process's store whenever Redis can't answer
    middleware.py  the plain-ASGI edge

See docs/idempotency.md.
"""

from gateway.idempotency.middleware import IdempotencyMiddleware
from gateway.idempotency.store import IdempotencyStore, build_store

__all__ = ["IdempotencyMiddleware", "IdempotencyStore", "build_store"]
