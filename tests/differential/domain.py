"""The data every case runs on, and the values the generator draws from it.

One seeded dataset (`legacy_stub.data.build_dataset`) with a few entities bent into the
shapes where executors tend to disagree; the id pools name entities of the callers, of other
travelers, of nobody, and the bent ones.

    caller "traveler:t-2" reads trips of t-2; "agent" reads anyone's; "anonymous" only
    topDestinations.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime

from legacy_stub.data import Dataset, Json, build_dataset
from legacy_stub.paging import encode_cursor, position

OWN = "t-2"  # the traveler most callers are; a EUR traveler with 32 trips
OTHER = "t-3"  # a JPY traveler (no minor units), also a caller
STRANGER = "t-5"  # never a caller
BENT = "t-7"  # whose trips carry the bent entities; only the agent reads them
UNKNOWN_TRAVELER = "t-99999"
UNKNOWN_TRIP = "trip-99999"

CALLERS = (
    "anonymous",
    "bad-token",
    "expired",
    f"traveler:{OWN}",
    f"traveler:{OTHER}",
    f"traveler:{UNKNOWN_TRAVELER}",
    "agent",
)

# Most generated cases come from callers who may read most of what they ask for (and the
# first is where hypothesis shrinks to).
GENERATED_CALLERS = (f"traveler:{OWN}", "agent", *CALLERS, f"traveler:{OWN}", "agent")

FIXED_NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    """The stub's clock for mutations, so two stubs write the same `updated_at`."""
    return FIXED_NOW


@dataclass(frozen=True, slots=True)
class Bent:
    """Trips of BENT, each bent one way by `bent_dataset`."""

    unknown_flight: str
    orphan: str
    no_rate: str
    bad_enum: str
    odd_scalars: str


@dataclass(frozen=True, slots=True)
class Pools:
    traveler_ids: tuple[str, ...]
    trip_ids: tuple[str, ...]
    own_trip_ids: tuple[str, ...]
    cursors: tuple[str, ...]


def bent_dataset() -> Dataset:
    """The seeded dataset, with one trip of BENT each showing: a booking id the backend does
    not know, a traveler the backend does not know, a price in a currency without a rate,
    a flight status outside the schema's enum, and scalars written the way the schema's
    serialisers must normalise (below); and the most popular destination's popularity as
    a JSON integer (a Float answers `1.0`)."""
    data = build_dataset()
    bent = bent_trips()
    data.trips[bent.unknown_flight]["flight_ids"].append("fl-999999")
    data.trips[bent.orphan]["traveler_id"] = UNKNOWN_TRAVELER
    data.flights[data.trips[bent.no_rate]["flight_ids"][0]]["price"]["currency"] = "XTS"
    data.flights[data.trips[bent.bad_enum]["flight_ids"][0]]["status"] = "boarding"
    _odd_scalars(data, data.trips[bent.odd_scalars])
    top = max(data.destinations.values(), key=lambda d: d["popularity"])
    top["popularity"] = 1
    return data


def _odd_scalars(data: Dataset, trip: Json) -> None:
    """`Z` and microseconds and another offset in DateTimes, an int where a String goes,
    a float where an Int goes, quotes, a backslash, U+2028 and emoji in Strings."""
    trip["title"] = 'Quotes "and" \\ back\u2028slash ✈️ 🏖'
    flight = data.flights[trip["flight_ids"][0]]
    flight["departs_at"] = flight["departs_at"].replace("+00:00", "Z")
    flight["arrives_at"] = flight["arrives_at"].replace(":00+00:00", ":00.250000-03:30")
    flight["seat"] = 12
    stay = data.hotel_stays[trip["hotel_stay_ids"][0]]
    stay["hotel"] = {**stay["hotel"], "stars": 4.0, "name": "Hôtel «Zürich» \t"}
    car = data.car_rentals[trip["car_rental_ids"][0]]
    car["pickup_at"] = car["pickup_at"].replace("+00:00", ".000001+00:00")


@functools.cache
def bent_trips() -> Bent:
    trips = trips_of(build_dataset(), BENT)
    with_flights = [str(t["id"]) for t in trips if t["flight_ids"]][:4]
    complete = [
        str(t["id"])
        for t in trips
        if t["flight_ids"]
        and t["hotel_stay_ids"]
        and t["car_rental_ids"]
        and t["id"] not in with_flights
    ]
    unknown_flight, orphan, no_rate, bad_enum = with_flights
    return Bent(unknown_flight, orphan, no_rate, bad_enum, odd_scalars=complete[0])


def trips_of(data: Dataset, traveler_id: str) -> list[Json]:
    """`traveler_id`'s trips, newest first (the monolith's order)."""
    found = [t for t in data.trips.values() if t["traveler_id"] == traveler_id]
    return sorted(found, key=position)


def own_trips(traveler_id: str) -> list[Json]:
    """Trips of `traveler_id` that have bookings, newest first."""
    found = trips_of(build_dataset(), traveler_id)
    return [t for t in found if t["flight_ids"] or t["hotel_stay_ids"]]


def next_trip_id() -> str:
    """The id the stub gives the next trip booked."""
    return f"trip-{max(int(t.removeprefix('trip-')) for t in build_dataset().trips) + 1}"


def vars_of(bent: Bent) -> tuple[str, ...]:
    return (bent.unknown_flight, bent.orphan, bent.no_rate, bent.bad_enum, bent.odd_scalars)


@functools.cache
def pools() -> Pools:
    data = build_dataset()
    own, other, stranger = (trips_of(data, t) for t in (OWN, OTHER, STRANGER))
    empty = [t for t in own if not (t["flight_ids"] or t["hotel_stay_ids"] or t["car_rental_ids"])]
    trip_ids = [
        *(str(t["id"]) for t in own[:3] + empty[:1] + other[:2] + stranger[:1]),
        *vars_of(bent_trips()),
        UNKNOWN_TRIP,
    ]
    cursors = [encode_cursor(position(t)) for t in own[1:3] + other[2:3]]
    return Pools(
        traveler_ids=(OWN, OTHER, STRANGER, BENT, UNKNOWN_TRAVELER),
        trip_ids=tuple(dict.fromkeys(trip_ids)),
        own_trip_ids=tuple(str(t["id"]) for t in own[:3] + empty[:1]),
        cursors=(*cursors, "bm90LWEtY3Vyc29y"),
    )
