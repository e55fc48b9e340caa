"""A trip's bookings: flights, hotel stays and car rentals, loaded for many trips at once."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.loaders import Entity
from gateway.resolvers.fields import NO_ARGS, Args, Compute, Load, TypeFields, split
from gateway.segments import stay_nights
from gateway.viewer import Viewer


@dataclass(frozen=True, slots=True)
class Bookings:
    flights: list[Entity]
    stays: list[Entity]
    cars: list[Entity]

    def prices(self) -> list[tuple[int, str]]:
        every = (*self.flights, *self.stays, *self.cars)
        return [(item["price"]["amount"], item["price"]["currency"]) for item in every]


async def _many(viewer: Viewer, kind: str, id_lists: Sequence[Sequence[str]]) -> list[list[Entity]]:
    """Entities that exist, per parent, in the order asked: one batch for every parent."""
    flat = [i for ids in id_lists for i in ids]
    if not flat:
        return [[] for _ in id_lists]
    found = await viewer.loaders.load_all(kind, flat)
    return [[e for e in part if e is not None] for part in split(found, [len(i) for i in id_lists])]


async def flights_of(
    viewer: Viewer, trips: Sequence[Entity], args: Args = NO_ARGS
) -> list[list[Entity]]:
    return await _many(viewer, "flight", [trip["flight_ids"] for trip in trips])


async def stays_of(
    viewer: Viewer, trips: Sequence[Entity], args: Args = NO_ARGS
) -> list[list[Entity]]:
    return await _many(viewer, "hotel_stay", [trip["hotel_stay_ids"] for trip in trips])


async def cars_of(
    viewer: Viewer, trips: Sequence[Entity], args: Args = NO_ARGS
) -> list[list[Entity]]:
    return await _many(viewer, "car_rental", [trip["car_rental_ids"] for trip in trips])


async def bookings_of(viewer: Viewer, trips: Sequence[Entity]) -> list[Bookings]:
    flights, stays, cars = await asyncio.gather(
        flights_of(viewer, trips), stays_of(viewer, trips), cars_of(viewer, trips)
    )
    return [Bookings(f, s, c) for f, s, c in zip(flights, stays, cars, strict=True)]


TRIP_BOOKINGS: TypeFields = {
    "flights": Load(flights_of),
    "hotel_stays": Load(stays_of),
    "car_rentals": Load(cars_of),
}
FLIGHT: TypeFields = {}  # every field is a read of the entity
HOTEL: TypeFields = {}
HOTEL_STAY: TypeFields = {"nights": Compute(stay_nights)}
CAR_RENTAL: TypeFields = {}
