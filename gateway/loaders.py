"""Per-request dataloaders: one batch request per entity kind per level of the query.

Created inside the request's context (aiodataloader binds the running loop), never shared
between requests. Behind each loader is the read-through cache: a batch asks the backend
only for the ids neither tier has.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from aiodataloader import DataLoader

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

    async def _rates(self, base: str) -> Mapping[str, Decimal]:
        self._cache.trace.touched_public(self._cache.config.ttl("fx"))
        raw = await self._cache.value(
            entity_key("fx", base), "fx", lambda: self._upstream.get_raw("/api/fx", {"base": base})
        )
        rates: Mapping[str, Decimal] = json.loads(raw, parse_float=Decimal)["rates"]
        return rates


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
        self._loaders: dict[str, DataLoader[Any, Any]] = {}
        # What this request's loads found, by kind and id: asked again (a trip's flights for
        # `flights` and again for `totalCost`), it is answered without a future per id.
        self._found: dict[str, dict[str, Entity | None]] = {}

    def entity(self, kind: str) -> DataLoader[str, Entity | None]:
        loader = self._loaders.get(kind)
        if loader is None:
            fetcher = BatchFetcher(self.upstream, self.cache, kind, ENTITY_PATHS[kind])
            loader = self._loaders[kind] = DataLoader(fetcher.fetch)
        return loader

    @property
    def fx(self) -> DataLoader[str, Mapping[str, Decimal]]:
        loader = self._loaders.get("fx")
        if loader is None:
            loader = self._loaders["fx"] = DataLoader(FxFetcher(self.upstream, self.cache).fetch)
        return loader

    async def load(self, kind: str, entity_id: str) -> Entity | None:
        found = await self.load_all(kind, [entity_id])
        return found[0]

    async def load_many(self, kind: str, ids: Sequence[str]) -> list[Entity]:
        """Entities that exist, in the order asked (unknown ids are left out)."""
        if not ids:
            return []
        return [item for item in await self.load_all(kind, ids) if item is not None]

    async def load_all(self, kind: str, ids: Sequence[str]) -> list[Entity | None]:
        """One entry per id asked (None: unknown), one batch."""
        found = self._found.setdefault(kind, {})
        missing = list(dict.fromkeys(i for i in ids if i not in found))
        if missing:
            loaded = await _keeping_failures(self.entity(kind), missing)
            found.update(zip(missing, loaded, strict=True))
        return [found[i] for i in ids]

    async def rates(self, bases: Sequence[str]) -> list[Mapping[str, Decimal]]:
        return await _keeping_failures(self.fx, list(bases))

    def prime(self, kind: str, entity: Entity) -> None:
        self.entity(kind).prime(entity["id"], entity)

    def replace(self, kind: str, entity: Entity) -> None:
        """The entity changed in this request (a mutation): later loads see the new one."""
        self.entity(kind).clear(entity["id"]).prime(entity["id"], entity)
        self._found.get(kind, {}).pop(entity["id"], None)


async def _keeping_failures(loader: DataLoader[str, Any], keys: list[str]) -> list[Any]:
    """Load `keys`; a failure stays in the request's loader (aiodataloader forgets it), so
    whoever asks again in this request (the reference executor answering after the planned
    one gave up) gets the same error without a second backend call."""
    try:
        found: list[Any] = await loader.load_many(keys)
    except Exception as error:
        for key in keys:
            loader.prime(key, error)
        raise
    return found
