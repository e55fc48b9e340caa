"""A trip's bookings as one timeline of segments, for the mobile schema.

Built from the monolith's JSON entities (flight, hotel stay, car rental; see legacy-api.md).
Timestamps keep the offset they were written with; ordering compares them as instants.
"""

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

# A hotel stay's segment runs from check-in time on `check_in` to check-out time on `check_out`.
_CHECK_IN = time(15, 0, tzinfo=UTC)
_CHECK_OUT = time(11, 0, tzinfo=UTC)


class SegmentKind(enum.Enum):
    """What a segment is; declaration order breaks ties between equal start times."""

    FLIGHT = "FLIGHT"
    STAY = "STAY"
    CAR = "CAR"


_KIND_ORDER = {kind: position for position, kind in enumerate(SegmentKind)}


@dataclass(frozen=True, slots=True)
class Segment:
    kind: SegmentKind
    starts_at: datetime
    ends_at: datetime
    title: str


def flight_segment(flight: Mapping[str, Any]) -> Segment:
    """{"flight_number": "BA117", "origin": "LHR", "destination": "JFK", ...} →
    Segment(FLIGHT, departs_at, arrives_at, "BA117 LHR → JFK")."""
    return Segment(
        kind=SegmentKind.FLIGHT,
        starts_at=_timestamp(flight, "departs_at"),
        ends_at=_timestamp(flight, "arrives_at"),
        title=f"{_text(flight, 'flight_number')} {_text(flight, 'origin')} → "
        f"{_text(flight, 'destination')}",
    )


def stay_segment(stay: Mapping[str, Any]) -> Segment:
    """{"hotel": {"name": "Hotel Sacher", ...}, "check_in": "2026-12-01", "check_out":
    "2026-12-03", ...} → Segment(STAY, 2026-12-01 15:00 UTC, 2026-12-03 11:00 UTC,
    "Hotel Sacher")."""
    hotel = stay["hotel"]
    if not isinstance(hotel, Mapping):
        raise ValueError(f"expected an object at 'hotel', got {hotel!r}")
    return Segment(
        kind=SegmentKind.STAY,
        starts_at=datetime.combine(_date(stay, "check_in"), _CHECK_IN),
        ends_at=datetime.combine(_date(stay, "check_out"), _CHECK_OUT),
        title=_text(hotel, "name"),
    )


def car_segment(car: Mapping[str, Any]) -> Segment:
    """{"company": "Sixt", "vehicle_class": "compact", ...} →
    Segment(CAR, pickup_at, dropoff_at, "Sixt, compact")."""
    return Segment(
        kind=SegmentKind.CAR,
        starts_at=_timestamp(car, "pickup_at"),
        ends_at=_timestamp(car, "dropoff_at"),
        title=f"{_text(car, 'company')}, {_text(car, 'vehicle_class')}",
    )


def build_segments(
    flights: Iterable[Mapping[str, Any]],
    stays: Iterable[Mapping[str, Any]],
    cars: Iterable[Mapping[str, Any]],
) -> list[Segment]:
    """All segments by start instant; equal starts go FLIGHT, STAY, CAR, then input order."""
    segments = [
        *(flight_segment(flight) for flight in flights),
        *(stay_segment(stay) for stay in stays),
        *(car_segment(car) for car in cars),
    ]
    return sorted(segments, key=lambda segment: (segment.starts_at, _KIND_ORDER[segment.kind]))


def stay_nights(stay: Mapping[str, Any]) -> int:
    """Nights between the dates: check_in "2026-12-30", check_out "2027-01-02" → 3."""
    return (_date(stay, "check_out") - _date(stay, "check_in")).days


def _text(entity: Mapping[str, Any], key: str) -> str:
    value = entity[key]
    if not isinstance(value, str):
        raise ValueError(f"expected a string at {key!r}, got {value!r}")
    return value


def _date(entity: Mapping[str, Any], key: str) -> date:
    """A `YYYY-MM-DD` field as a date."""
    return date.fromisoformat(_text(entity, key))


def _timestamp(entity: Mapping[str, Any], key: str) -> datetime:
    """An ISO 8601 field with offset as an aware datetime; a missing offset is an error,
    since a naive datetime can't be ordered against aware ones."""
    value = datetime.fromisoformat(_text(entity, key))
    if value.utcoffset() is None:
        raise ValueError(f"timestamp at {key!r} has no UTC offset: {value.isoformat()}")
    return value
