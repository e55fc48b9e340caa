"""A trip's bookings: flights, hotel stays and car rentals, loaded for many trips at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, cast

from gateway import batching, eager
from gateway.loaders import Entity
from gateway.resolvers.fields import NO_ARGS, Args, Compute, Load, TypeFields
from gateway.segments import stay_nights
from gateway.viewer import Viewer


class Bookings(NamedTuple):  # a tuple: built twenty times a page, cheaper than a dataclass
    flights: list[Entity]
    stays: list[Entity]
    cars: list[Entity]

    def prices(self) -> list[tuple[int, str]]:
        every = (*self.flights, *self.stays, *self.cars)
        return [(item["price"]["amount"], item["price"]["currency"]) for item in every]


async def _many(viewer: Viewer, kind: str, trips: Sequence[Entity]) -> list[list[Entity]]:
    """Entities that exist, per trip, in the order asked: one batch for every trip. In a
    planned level, worked out once for the level's trips (`flights` and `totalCost` both
    ask; batching.Level)."""
    level = batching.planned_level.get()
    if level is not None:
        known: tuple[Sequence[Entity], list[list[Entity]]] | None = level.shared.get(
            (kind, id(trips))
        )
        if known is not None and known[0] is trips:
            return known[1]  # read-only, like every list a load answers
    id_lists = [trip[_IDS[kind]] for trip in trips]
    flat = [i for ids in id_lists for i in ids]
    if not flat:
        return [[] for _ in id_lists]
    found = await viewer.loaders.load_all(kind, flat)
    parts: list[list[Entity]] = []
    start = 0
    for ids in id_lists:  # each trip takes its share, unknown ids left out
        part = found[start : start + len(ids)]
        if None in part:
            part = [e for e in part if e is not None]
        parts.append(cast("list[Entity]", part))
        start += len(ids)
    if level is not None:
        level.shared[(kind, id(trips))] = (trips, parts)  # the trips kept: their id stays theirs
    return parts


_IDS = {"flight": "flight_ids", "hotel_stay": "hotel_stay_ids", "car_rental": "car_rental_ids"}


async def flights_of(
    viewer: Viewer, trips: Sequence[Entity], args: Args = NO_ARGS
) -> list[list[Entity]]:
    return await _many(viewer, "flight", trips)


async def stays_of(
    viewer: Viewer, trips: Sequence[Entity], args: Args = NO_ARGS
) -> list[list[Entity]]:
    return await _many(viewer, "hotel_stay", trips)


async def cars_of(
    viewer: Viewer, trips: Sequence[Entity], args: Args = NO_ARGS
) -> list[list[Entity]]:
    return await _many(viewer, "car_rental", trips)


async def bookings_of(viewer: Viewer, trips: Sequence[Entity]) -> list[Bookings]:
    flights, stays, cars = await eager.gather(
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
