"""The facts access decisions need, fetched through the request's loaders and cache.

    owners.owned_bookings("t-1")   → frozenset({"fl-3", "hs-9", ...})  every booking on t-1's trips
    owners.trip_owner("trip-802")  → "t-2", or None for an unknown trip
    owners.existing(["fl-9"])      → [None] when the backend knows no such booking

A traveler's bookings are cached as a traveler-private value, under the traveler's cache
generation: a trip that changes (booked, cancelled; through GraphQL, REST or an event)
replaces the generation, and with it this set. The decisions themselves are in
`gateway.access`.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Sequence
from typing import Any

from gateway import access
from gateway.auth import Identity
from gateway.cache.keys import entity_key, traveler_generation_key
from gateway.cache.tiered import TieredCache
from gateway.errors import BackendRejected, rejection_to_error
from gateway.loaders import Entity, Loaders
from gateway.routing.paths import segment

# The id prefix of each booking kind (legacy-api.md: "a prefix per kind").
BOOKING_KINDS = {"fl-": "flight", "hs-": "hotel_stay", "cr-": "car_rental"}
PAGE = 100
TRIP_KEYS = ("id", "traveler_id")


class Owners:
    def __init__(self, loaders: Loaders) -> None:
        self.loaders = loaders

    async def owned_bookings(self, traveler_id: str) -> frozenset[str]:
        raw = await self.loaders.cache.traveler_value(
            traveler_id, "owned_bookings", {}, lambda: self._fetch_owned(traveler_id)
        )
        return _owned_set(raw)

    async def _fetch_owned(self, traveler_id: str) -> bytes:
        trips: list[Entity] = []
        cursor: str | None = None
        while True:
            params = {"limit": str(PAGE), **({"cursor": cursor} if cursor else {})}
            page = await self._trips_page(traveler_id, params)
            trips += page.get("items", [])
            cursor = page.get("next_cursor")
            if not cursor:
                break
        return json.dumps(sorted(access.owned_bookings(trips))).encode()

    async def _trips_page(self, traveler_id: str, params: dict[str, str]) -> Any:
        try:
            return await self.loaders.upstream.get_json(
                f"/api/travelers/{segment(traveler_id)}/trips", params
            )
        except BackendRejected as rejection:
            if rejection.status == 404:  # an unknown traveler owns nothing
                return {"items": []}
            raise rejection_to_error(rejection) from None

    async def check_new_trip(self, identity: Identity, body: Any) -> None:
        """A new trip (bookTrip, POST /api/trips) is the caller's and names only bookings on
        the caller's trips; a booking that exists on someone else's trip refuses it, one that
        exists nowhere is left for the backend to refuse (422)."""
        named = access.check_new_trip(identity, body)
        if not named or identity.is_agent:
            return
        owned = await self.owned_bookings(access.require_signed_in(identity))
        foreign = access.check_bookings(identity, named, owned=owned)
        if foreign:
            access.refuse_existing(await self.existing(foreign))

    async def trip_owner(self, trip_id: str) -> str | None:
        trip = await self.loaders.load("trip", trip_id)
        return None if trip is None else str(trip["traveler_id"])

    async def existing(self, ids: Sequence[str]) -> list[Entity | None]:
        """The entities behind booking ids, None for those the backend does not know."""
        found = await asyncio.gather(*(self._booking(i) for i in ids))
        return list(found)

    async def _booking(self, booking_id: str) -> Entity | None:
        kind = next(
            (k for prefix, k in BOOKING_KINDS.items() if booking_id.startswith(prefix)), None
        )
        return None if kind is None else await self.loaders.load(kind, booking_id)


async def forget_changed(cache: TieredCache, answer: Any) -> None:
    """After a write through the passthrough: when its answer is a trip, forget that trip."""
    if isinstance(answer, dict) and all(isinstance(answer.get(k), str) for k in TRIP_KEYS):
        await forget_trip(cache, answer)


async def forget_trip(cache: TieredCache, trip: Entity) -> None:
    """After a trip changed: drop it, and everything cached for its traveler (trip lists,
    owned bookings), before answering, so the same user's next read sees the change."""
    await cache.invalidate(
        [entity_key("trip", trip["id"])], generations=[traveler_generation_key(trip["traveler_id"])]
    )


@functools.lru_cache(maxsize=1024)  # the cached bytes repeat until the traveler's trips change
def _owned_set(raw: bytes) -> frozenset[str]:
    """A traveler's owned booking ids from their cached value, decoded once per value."""
    return frozenset(json.loads(raw))
