"""The in-process idempotency store: one process's records, bounded and expiring.

Used alone when no Redis is configured, and as the fallback while Redis can't answer.
Bounded by entries and by bytes, least recently used first out. A running marker is tiny
and recent, so it is the last thing the bound pushes out. Each operation is synchronous
between awaits, so a claim is atomic within the event loop.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from gateway.idempotency.records import Record, Running, decode, encode


class MemoryStore:
    def __init__(
        self,
        *,
        max_entries: int = 10_000,
        max_bytes: int = 64 * 2**20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError(f"MemoryStore needs positive bounds, got {max_entries}, {max_bytes}")
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._clock = clock
        self._items: OrderedDict[str, tuple[float, bytes]] = OrderedDict()  # key → (until, raw)
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def peek(self, key: str) -> Record | None:
        """The live record at `key`, if any."""
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] <= self._clock():
            self._drop(key)
            return None
        self._items.move_to_end(key)
        return decode(item[1])

    def claim(self, key: str, running: Running, *, lease_ms: int) -> Record | None:
        """None: `running` now holds the key. Else the record already there."""
        current = self.peek(key)
        if current is not None:
            return current
        self._put(key, encode(running), ttl_s=lease_ms / 1000)
        return None

    def finish(self, key: str, raw: bytes, *, ttl_s: float) -> None:
        self._put(key, raw, ttl_s=ttl_s)

    def release(self, key: str, running: Running) -> None:
        """Forget the marker, unless someone else's record has taken its place."""
        item = self._items.get(key)
        if item is not None and item[1] == encode(running):
            self._drop(key)

    def _put(self, key: str, raw: bytes, *, ttl_s: float) -> None:
        self._drop(key)
        if len(raw) > self._max_bytes:
            return
        self._items[key] = (self._clock() + ttl_s, raw)
        self._bytes += len(raw)
        while len(self._items) > self._max_entries or self._bytes > self._max_bytes:
            oldest = next(iter(self._items))
            self._drop(oldest)

    def _drop(self, key: str) -> None:
        item = self._items.pop(key, None)
        if item is not None:
            self._bytes -= len(item[1])
