"""Read-through for entities fetched by id: L1, then one Redis round trip, then the backend
for what is still missing (shared with concurrent requests), then both tiers are filled.

When the backend fails and every missing id still has an expired copy within the stale
window, those copies are served (stale-if-error) and the request's trace says so.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from gateway.cache.decoded import decoded
from gateway.cache.inflight import InFlight
from gateway.cache.keys import entity_key
from gateway.cache.tiered import Hit, TieredCache
from gateway.cache.trace import CacheTrace
from gateway.errors import GatewayError

Entity = dict[str, Any]
Fetch = Callable[[list[str]], Awaitable[list[Entity | None]]]


class EntityReader:
    def __init__(
        self, cache: TieredCache, inflight: InFlight[Entity | None], *, ttl_s: int, stale_s: int
    ) -> None:
        self._cache = cache
        self._inflight = inflight
        self._ttl_s = ttl_s
        self._stale_s = stale_s

    def peek(self, kind: str, ids: Sequence[str], trace: CacheTrace) -> list[Entity] | None:
        """The warm path, with no I/O: every id a fresh L1 hit; else None (nothing read)."""
        if self._ttl_s <= 0:
            return None
        values = self._cache.l1.fresh_values([entity_key(kind, i) for i in ids])
        if values is None:
            return None
        trace.record("L1")
        return [decoded(value) for value in values]

    async def read(
        self, kind: str, ids: Sequence[str], fetch: Fetch, trace: CacheTrace
    ) -> list[Entity | None]:
        known = self.peek(kind, ids, trace)
        if known is not None:
            return list(known)
        keys = {i: entity_key(kind, i) for i in ids}
        hits = await self._cache.get_many(keys.values()) if self._ttl_s > 0 else {}
        found: dict[str, Entity | None] = {}
        tiers: set[str] = set()
        for i, key in keys.items():
            hit = hits.get(key)
            if hit is not None and hit.fresh:
                found[i] = decoded(hit.value)
                tiers.add(hit.tier)
        for tier in tiers:  # the trace keeps which tiers answered, not how often
            trace.record(tier)
        missing = [i for i in ids if i not in found]
        # Again, with no await before the flight registers: a flight that landed while we
        # were asking Redis has filled L1 by now, and must not be flown twice.
        for i in list(missing):
            entry = self._cache.l1.get(keys[i]) if self._ttl_s > 0 else None
            if entry is not None and entry.fresh(time.time()):
                found[i] = decoded(entry.value)
                trace.record("L1")
                missing.remove(i)
        if missing:
            found.update(await self._load(kind, missing, keys, hits, fetch, trace))
        return [found.get(i) for i in ids]

    async def _load(
        self,
        kind: str,
        missing: list[str],
        keys: dict[str, str],
        hits: dict[str, Hit],
        fetch: Fetch,
        trace: CacheTrace,
    ) -> dict[str, Entity | None]:
        id_of = {keys[i]: i for i in missing}

        async def from_backend(wanted: list[str]) -> dict[str, bytes | None]:
            entities = await fetch([id_of[key] for key in wanted])
            return {
                key: None if entity is None else _dump(entity)
                for key, entity in zip(wanted, entities, strict=True)
            }

        async def load(wanted: list[str]) -> dict[str, Entity | None]:
            if self._ttl_s <= 0:
                values = await from_backend(wanted)
            else:  # stored in L1 before anyone can miss it, then Redis; leases across processes
                values = await self._cache.load_many(
                    wanted, from_backend, ttl_s=self._ttl_s, stale_s=self._stale_s
                )
            return {key: None if raw is None else decoded(raw) for key, raw in values.items()}

        try:
            by_key = await self._inflight.run_many([keys[i] for i in missing], load)
        except GatewayError as error:
            stale = [hits.get(keys[i]) for i in missing]
            if not stale or any(hit is None for hit in stale):
                raise
            trace.served_stale(error.code)
            return {i: decoded(hit.value) for i, hit in zip(missing, stale, strict=True) if hit}
        trace.record("load")
        return {i: by_key[keys[i]] for i in missing}


def _dump(entity: Entity) -> bytes:
    return json.dumps(entity, separators=(",", ":"), ensure_ascii=False).encode()
