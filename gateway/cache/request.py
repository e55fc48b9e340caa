"""The cache as one request uses it: the process's tiers, plus that request's trace."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from gateway.cache.inflight import InFlight
from gateway.cache.keys import traveler_generation_key, traveler_key
from gateway.cache.readthrough import Entity, EntityReader, Fetch
from gateway.cache.setup import CacheConfig
from gateway.cache.tiered import TieredCache
from gateway.cache.trace import CacheTrace
from gateway.errors import GatewayError


@dataclass(slots=True)
class RequestCache:
    cache: TieredCache
    config: CacheConfig
    inflight: InFlight[Entity | None]
    loads: InFlight[bytes]
    trace: CacheTrace = field(default_factory=CacheTrace)
    readers: dict[str, EntityReader] = field(default_factory=dict)  # one per kind, on first use

    async def entities(self, kind: str, ids: Sequence[str], fetch: Fetch) -> list[Entity | None]:
        return await self._reader(kind).read(kind, ids, fetch, self.trace)

    def peek_entities(self, kind: str, ids: Sequence[str]) -> list[Entity] | None:
        """Every id a fresh L1 hit, with no I/O; else None."""
        return self._reader(kind).peek(kind, ids, self.trace)

    def peek_value(self, key: str, kind: str) -> bytes | None:
        """What `value(key, kind, ...)` would answer from a fresh L1 hit, with no I/O and
        nothing traced (the caller traces it when it uses it); else None."""
        if self.config.ttl(kind) <= 0:
            return None
        entry = self.cache.l1.get(key)
        if entry is None or not entry.fresh(self.cache.l1.now()):
            return None
        return entry.value

    def _reader(self, kind: str) -> EntityReader:
        reader = self.readers.get(kind)
        if reader is None:
            ttl_s, stale_s = self.config.ttl(kind), self.config.stale_s
            reader = self.readers[kind] = EntityReader(
                self.cache, self.inflight, ttl_s=ttl_s, stale_s=stale_s
            )
        return reader

    async def value(self, key: str, kind: str, load: Callable[[], Awaitable[bytes]]) -> bytes:
        """One cached value (fx rates, top destinations, a trip-list page), single-flighted."""
        ttl = self.config.ttl(kind)
        if ttl <= 0:  # not cached, but concurrent requests still share one backend call
            self.trace.record("load")
            return await self._shared(key, load)
        value, source = await self.cache.get_or_load(
            key, load, ttl_s=ttl, stale_s=self.config.stale_s, serve_stale_on=(GatewayError,)
        )
        if source == "stale":
            self.trace.served_stale("BACKEND_UNAVAILABLE")
        else:
            self.trace.record(source)
        return value

    async def _shared(self, key: str, load: Callable[[], Awaitable[bytes]]) -> bytes:
        async def fetch(keys: list[str]) -> dict[str, bytes]:
            return {key: await load()}

        found: dict[str, bytes] = await self.loads.run_many([key], fetch)
        return found[key]

    async def traveler_value(
        self,
        traveler_id: str,
        kind: str,
        params: dict[str, str],
        load: Callable[[], Awaitable[bytes]],
    ) -> bytes:
        """A traveler's private value, under a key only that traveler's generation reaches."""
        generation = await self.cache.generation(traveler_generation_key(traveler_id))
        if generation is None:  # Redis is configured but down: don't cache private data blind
            self.trace.record("load")
            return await load()
        key = traveler_key(traveler_id, generation=generation, kind=kind, params=params)
        return await self.value(key, kind, load)
