"""Caching building blocks: L1 (in-process), L2 (Redis), the tiered read path, and the
pure parts (policy, keys, events). See docs/caching.md.

`RedisStore` is imported from `gateway.cache.redis_store` only when Redis is configured:
importing redis-py costs about 60 ms of cold start.
"""

from gateway.cache.entry import Entry
from gateway.cache.l1 import L1Cache
from gateway.cache.policy import PRIVATE, CachePolicy, etag_for, if_none_match
from gateway.cache.tiered import Hit, TieredCache

__all__ = [
    "PRIVATE",
    "CachePolicy",
    "Entry",
    "Hit",
    "L1Cache",
    "TieredCache",
    "etag_for",
    "if_none_match",
]
