"""Buckets in this process: the store without Redis, and the fallback when Redis is down."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from gateway.ratelimit.bucket import BucketState, Decision, Rate, idle_s, take


class LocalBuckets:
    """At most `maxsize` callers, the least recently seen forgotten first.

    A forgotten bucket comes back full, so eviction can only ever be lenient, never refuse
    anyone wrongly; buckets idle long enough to be full again are dropped as they are met.
    """

    def __init__(
        self, *, maxsize: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._maxsize = maxsize
        self._clock = clock
        self._buckets: OrderedDict[str, BucketState] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str, rate: Rate) -> Decision:
        now = self._clock()
        decision, state = take(self._buckets.get(key), rate, now=now)
        self._buckets[key] = state
        self._buckets.move_to_end(key)
        self._trim(now, rate)
        return decision

    def _trim(self, now: float, rate: Rate) -> None:
        while len(self._buckets) > self._maxsize:
            self._buckets.popitem(last=False)
        oldest = next(iter(self._buckets.items()), None)
        if oldest is not None and now - oldest[1].updated_s > idle_s(rate):
            self._buckets.popitem(last=False)  # one per request: amortised, never a sweep
