"""Per-request dataloaders: one batch request per entity kind per level of the query.

Created inside the request's context (aiodataloader binds the running loop), never shared
between requests, so one user's loaded entities never reach another's request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from aiodataloader import DataLoader

from gateway.backend import decimal_floats
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
    """Fetches entities of one kind by id through its batch endpoint (`/api/flights?ids=`)."""

    def __init__(self, upstream: Upstream, path: str) -> None:
        self._upstream = upstream
        self._path = path

    async def fetch(self, ids: Sequence[str]) -> list[Entity | None]:
        pages = await asyncio.gather(
            *(
                self._upstream.get_json(self._path, {"ids": ",".join(chunk)})
                for chunk in chunked(ids)
            )
        )
        return map_by_id(ids, (item for page in pages for item in page["items"]))


class FxFetcher:
    """Rates by base currency, one request per base; rates kept as exact decimals."""

    def __init__(self, upstream: Upstream) -> None:
        self._upstream = upstream

    async def fetch(self, bases: Sequence[str]) -> list[Mapping[str, Decimal]]:
        answers = await asyncio.gather(*(self._fetch(base) for base in bases))
        return list(answers)

    async def _fetch(self, base: str) -> Mapping[str, Decimal]:
        body = await self._upstream.get_json("/api/fx", {"base": base}, parse_float=decimal_floats)
        rates: Mapping[str, Decimal] = body["rates"]
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

    def __init__(self, upstream: Upstream) -> None:
        self.upstream = upstream
        self._loaders: dict[str, DataLoader[Any, Any]] = {}

    def entity(self, kind: str) -> DataLoader[str, Entity | None]:
        loader = self._loaders.get(kind)
        if loader is None:
            loader = DataLoader(BatchFetcher(self.upstream, ENTITY_PATHS[kind]).fetch)
            self._loaders[kind] = loader
        return loader

    @property
    def fx(self) -> DataLoader[str, Mapping[str, Decimal]]:
        loader = self._loaders.get("fx")
        if loader is None:
            loader = self._loaders["fx"] = DataLoader(FxFetcher(self.upstream).fetch)
        return loader

    async def load(self, kind: str, entity_id: str) -> Entity | None:
        result: Entity | None = await self.entity(kind).load(entity_id)
        return result

    async def load_many(self, kind: str, ids: Sequence[str]) -> list[Entity]:
        """Entities that exist, in the order asked (unknown ids are left out)."""
        if not ids:
            return []
        found: list[Entity | None] = await self.entity(kind).load_many(list(ids))
        return [item for item in found if item is not None]

    def prime(self, kind: str, entity: Entity) -> None:
        self.entity(kind).prime(entity["id"], entity)
