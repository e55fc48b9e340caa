"""L1: a bounded in-process cache that survives between warm Lambda invocations.

Bounded by entry count and by approximate bytes (value length plus a fixed per-entry
overhead). Values are `bytes`, so sizes are exact and no caller can mutate a shared
object. Entries live until the end of their stale window; `Entry.fresh(now)` tells
fresh from stale. TTLs get a little downward jitter so entries written together by one
container do not all expire in the same instant.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable

from cachetools import TLRUCache

from gateway.cache.entry import Entry

# Rough cost of the key, the Entry object and the cache's bookkeeping per item.
ENTRY_OVERHEAD_BYTES = 256


def _expires(_key: str, entry: Entry, _now: float) -> float:
    return entry.stale_until


def _size(entry: Entry) -> int:
    return len(entry.value) + ENTRY_OVERHEAD_BYTES


class L1Cache:
    def __init__(
        self,
        *,
        max_entries: int = 10_000,
        max_bytes: int = 64 * 2**20,
        jitter: float = 0.1,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if max_entries < 1 or max_bytes < ENTRY_OVERHEAD_BYTES:
            raise ValueError(
                f"L1Cache needs max_entries >= 1 and max_bytes >= {ENTRY_OVERHEAD_BYTES}, "
                f"got max_entries={max_entries}, max_bytes={max_bytes}"
            )
        if not 0.0 <= jitter < 1.0:
            raise ValueError(f"L1Cache jitter is a fraction in [0, 1), got {jitter}")
        self._max_entries = max_entries
        self._jitter = jitter
        self._clock = clock
        self._rng = rng
        self._cache: TLRUCache[str, Entry] = TLRUCache(
            maxsize=max_bytes, ttu=_expires, timer=clock, getsizeof=_size
        )

    def __len__(self) -> int:
        return len(self._cache)

    @property
    def size_bytes(self) -> int:
        return int(self._cache.currsize)

    def now(self) -> float:
        return self._clock()

    def get(self, key: str) -> Entry | None:
        """The entry while it is fresh or stale-but-usable; None once it is gone."""
        return self._cache.get(key)

    def get_many(self, keys: Iterable[str]) -> dict[str, Entry]:
        found = {}
        cache = self._cache
        for key in keys:
            try:  # one lookup: TLRUCache.get() checks `in` (expiry) and then looks up again
                found[key] = cache[key]
            except KeyError:  # absent or expired
                continue
        return found

    def fresh_values(self, keys: Iterable[str]) -> list[bytes] | None:
        """The value of every key while each is fresh (the warm path); None at the first
        key that is absent or only stale."""
        cache, now, values = self._cache, self._clock(), []
        for key in keys:
            try:
                entry = cache[key]
            except KeyError:
                return None
            if not now < entry.fresh_until:
                return None
            values.append(entry.value)
        return values

    def set(self, key: str, value: bytes, *, ttl_s: float, stale_s: float = 0.0) -> Entry:
        """Store `value`, fresh for `ttl_s` minus up to `jitter` of it, then stale for `stale_s`."""
        ttl = ttl_s * (1.0 - self._jitter * self._rng())
        entry = Entry.create(value, now=self._clock(), ttl_s=ttl, stale_s=stale_s)
        self.put(key, entry)
        return entry

    def put(self, key: str, entry: Entry) -> None:
        """Store an entry with the times it already has (e.g. one promoted from L2)."""
        if not entry.usable(self._clock()):
            self._cache.pop(key, None)
            return
        try:
            self._cache[key] = entry
        except ValueError:  # larger than the whole cache: don't keep it, nor an older copy
            self._cache.pop(key, None)
            return
        while len(self._cache) > self._max_entries:
            self._cache.popitem()

    def delete_many(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._cache.pop(key, None)

    def clear(self) -> None:
        self._cache.clear()
