"""Per-request loaders: one batch request per entity kind per level of the query.

Created inside the request's context, never shared between requests (`gateway.batching`).
Behind each loader is the read-through cache: a batch asks the backend only for the ids
neither tier has.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from gateway.batching import Batches
from gateway.cache.keys import entity_key
from gateway.cache.request import RequestCache
from gateway.upstream import Upstream

BATCH_LIMIT = 100
Entity = dict[str, Any]


def map_by_id(ids: Sequence[str], items: Iterable[Entity]) -> list[Entity | None]:
    """Put a batch answer (any order, unknown ids left out) back in the order asked.

    ["a", "b", "c"], [{"id": "c"}, {"id": "a"}] → [{"id": "a"}, None, {"id": "c"}]
    """
    by_id = {item["id"]: item for item in items}
    return [by_id.get(i) for i in ids]


def chunked(ids: Sequence[str], size: int = BATCH_LIMIT) -> list[Sequence[str]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


class BatchFetcher:
    """Entities of one kind by id: cache first, then the batch endpoint (`/api/flights?ids=`)."""

    def __init__(self, upstream: Upstream, cache: RequestCache, kind: str, path: str) -> None:
        self._upstream = upstream
        self._cache = cache
        self._kind = kind
        self._path = path

    async def fetch(self, ids: Sequence[str]) -> list[Entity | None]:
        return await self._cache.entities(self._kind, ids, self._from_backend)

    def peek(self, ids: Sequence[str]) -> Sequence[Entity | None] | None:
        return self._cache.peek_entities(self._kind, ids)

    async def _from_backend(self, ids: list[str]) -> list[Entity | None]:
        pages = await asyncio.gather(
            *(self._upstream.get_json(self._path, {"ids": ",".join(c)}) for c in chunked(ids))
        )
        return map_by_id(ids, (item for page in pages for item in page["items"]))


class FxFetcher:
    """Rates by base currency, one request per base; kept as the exact decimals written."""

    def __init__(self, upstream: Upstream, cache: RequestCache) -> None:
        self._upstream = upstream
        self._cache = cache

    async def fetch(self, bases: Sequence[str]) -> list[Mapping[str, Decimal]]:
        return list(await asyncio.gather(*(self._rates(base) for base in bases)))

    def peek(self, bases: Sequence[str]) -> Sequence[Mapping[str, Decimal]] | None:
        """Every base's rates a fresh L1 hit, with no I/O (and traced as `fetch` would)."""
        raws = [self._cache.peek_value(entity_key("fx", base), "fx") for base in bases]
        if any(raw is None for raw in raws):
            return None
        found = []
        for raw in raws:
            assert raw is not None
            self._cache.trace.touched_public(self._cache.config.ttl("fx"))
            self._cache.trace.record("L1")
            found.append(_rates_of(raw))
        return found

    async def _rates(self, base: str) -> Mapping[str, Decimal]:
        self._cache.trace.touched_public(self._cache.config.ttl("fx"))
        raw = await self._cache.value(
            entity_key("fx", base), "fx", lambda: self._upstream.get_raw("/api/fx", {"base": base})
        )
        return _rates_of(raw)


@functools.lru_cache(maxsize=256)  # the same few bases' bytes, read by every request
def _rates_of(raw: bytes) -> Mapping[str, Decimal]:
    """Read-only, so one decoding can be shared: decimals are immutable, the mapping a proxy."""
    rates: dict[str, Decimal] = json.loads(raw, parse_float=Decimal)["rates"]
    return MappingProxyType(rates)


ENTITY_PATHS: Mapping[str, str] = {
    "traveler": "/api/travelers",
    "trip": "/api/trips",
    "flight": "/api/flights",
    "hotel_stay": "/api/hotel-stays",
    "car_rental": "/api/car-rentals",
}


class Loaders:
    """The request's loaders, built on first use."""

    def __init__(self, upstream: Upstream, cache: RequestCache) -> None:
        self.upstream = upstream
        self.cache = cache
        self._entities: dict[str, Batches[Entity | None]] = {}
        self._fx: Batches[Mapping[str, Decimal]] | None = None

    def entity(self, kind: str) -> Batches[Entity | None]:
        batches = self._entities.get(kind)
        if batches is None:
            fetcher = BatchFetcher(self.upstream, self.cache, kind, ENTITY_PATHS[kind])
            batches = self._entities[kind] = Batches(fetcher.fetch, fetcher.peek)
        return batches

    async def load(self, kind: str, entity_id: str) -> Entity | None:
        found = await self.entity(kind).load_all([entity_id])
        return found[0]

    async def load_many(self, kind: str, ids: Sequence[str]) -> list[Entity]:
        """Entities that exist, in the order asked (unknown ids are left out)."""
        if not ids:
            return []
        return [item for item in await self.load_all(kind, ids) if item is not None]

    async def load_all(self, kind: str, ids: Sequence[str]) -> list[Entity | None]:
        """One entry per id asked (None: unknown); ids asked in the same loop turns, by
        any resolver, are one batch."""
        return await self.entity(kind).load_all(ids)

    async def rates(self, bases: Sequence[str]) -> list[Mapping[str, Decimal]]:
        if self._fx is None:
            fx = FxFetcher(self.upstream, self.cache)
            self._fx = Batches(fx.fetch, fx.peek)
        return await self._fx.load_all(bases)

    def replay(self) -> None:
        """A second executor is about to run this request (see `Batches.replay`)."""
        for batches in self._entities.values():
            batches.replay()
        if self._fx is not None:
            self._fx.replay()

    def prime(self, kind: str, entity: Entity) -> None:
        self.entity(kind).prime(entity["id"], entity)

    def replace(self, kind: str, entity: Entity) -> None:
        """The entity changed in this request (a mutation): later loads see the new one."""
        self.entity(kind).replace(entity["id"], entity)
