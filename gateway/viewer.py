"""The backends' data as one caller may see it.

Resolvers reach data only through a `Viewer`, and every entry point that takes an id from
the client applies `gateway.access` first: access is decided here, not in the resolvers.
Relations between entities (a trip's bookings, traveler, total cost) are resolved in
`gateway.resolvers`, over entities that already passed a check here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway import access, eager
from gateway.auth import Identity
from gateway.cache.decoded import decoded
from gateway.cache.keys import entity_key
from gateway.errors import BackendRejected, NotFound, rejection_to_error
from gateway.loaders import Entity, Loaders
from gateway.owners import Owners, forget_trip
from gateway.routing.paths import segment


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Entity]
    next_cursor: str | None


class Viewer:
    def __init__(self, identity: Identity, loaders: Loaders) -> None:
        self.identity = identity
        self.loaders = loaders
        self._pages: dict[tuple[str, ...], asyncio.Future[Page]] = {}
        self._destinations: dict[int, asyncio.Future[bytes]] = {}

    def _private(self) -> None:
        # A veto on top of the declarations (gateway.privacy), which already make
        # every root field not declared public private: forgetting this is no longer a leak.
        self.loaders.cache.trace.private = True

    async def me(self) -> Entity | None:
        self._private()
        if not self.identity.authenticated or self.identity.traveler_id is None:
            return None
        return await self.loaders.load("traveler", self.identity.traveler_id)

    async def traveler(self, traveler_id: str) -> Entity | None:
        self._private()
        access.check_traveler(self.identity, traveler_id)
        return await self.loaders.load("traveler", traveler_id)

    async def trip(self, trip_id: str) -> Entity | None:
        self._private()
        access.require_signed_in(self.identity)
        trip = await self.loaders.load("trip", trip_id)
        if trip is not None:
            access.check_traveler(self.identity, trip["traveler_id"], what=f"trip {trip_id}")
        return trip

    async def trips_of(
        self, traveler_id: str, *, status: str | None, first: int, after: str | None
    ) -> Page:
        self._private()
        access.check_traveler(self.identity, traveler_id)
        params = {"limit": str(access.check_first(first))}
        if status:
            params["status"] = status
        if after:
            params["cursor"] = after
        key = (traveler_id, *sorted(f"{k}={v}" for k, v in params.items()))
        if key not in self._pages:  # the same page asked twice in one request is fetched once
            self._pages[key] = eager.start(self._fetch_page(traveler_id, params))
        return await asyncio.shield(self._pages[key])

    async def _fetch_page(self, traveler_id: str, params: dict[str, str]) -> Page:
        path = f"/api/travelers/{segment(traveler_id)}/trips"
        try:
            raw = await self.loaders.cache.traveler_value(
                traveler_id,
                "trip_list",
                params,
                lambda: self.loaders.upstream.get_raw(path, params),
            )
        except BackendRejected as rejection:
            if rejection.status == 404:  # an unknown traveler has no trips
                return Page(items=[], next_cursor=None)
            raise rejection_to_error(rejection) from None
        body = decoded(raw)  # read-only, decoded once for every request that reads it
        for trip in body["items"]:
            self.loaders.prime("trip", trip)
        return Page(items=body["items"], next_cursor=body.get("next_cursor"))

    async def my_trips(self, *, first: int, after: str | None) -> Page:
        me = access.require_signed_in(self.identity)
        return await self.trips_of(me, status=None, first=first, after=after)

    async def top_destinations(self, limit: int) -> list[Entity]:
        """Public: the same for every caller."""
        params = {"limit": str(access.check_limit(limit))}
        cache = self.loaders.cache
        cache.trace.touched_public(cache.config.ttl("destinations"))
        if limit not in self._destinations:  # asked again in this request: no second load
            load = cache.value(
                entity_key("destinations", f"top-{limit}"),
                "destinations",
                lambda: self.loaders.upstream.get_raw("/api/destinations/top", params),
            )
            self._destinations[limit] = asyncio.ensure_future(load)
        raw = await asyncio.shield(self._destinations[limit])
        items: list[Entity] = decoded(raw)["items"]
        return items

    async def book_trip(self, booking: Mapping[str, Any]) -> Entity:
        self._private()
        self.loaders.cache.trace.mutation = True
        await Owners(self.loaders).check_new_trip(self.identity, booking)
        return await self._change("/api/trips", dict(booking))

    async def cancel_trip(self, trip_id: str) -> Entity:
        self.loaders.cache.trace.mutation = True
        if await self.trip(trip_id) is None:
            raise NotFound(f"No trip {trip_id}.")
        return await self._change(f"/api/trips/{segment(trip_id)}/cancel", None)

    async def _change(self, path: str, body: Any) -> Entity:
        try:
            trip: Entity = await self.loaders.upstream.post_json(path, body)
        except BackendRejected as rejection:
            raise rejection_to_error(rejection) from None
        await forget_trip(self.loaders.cache.cache, trip)
        self.loaders.replace("trip", trip)
        return trip
