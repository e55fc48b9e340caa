"""The body of `POST /api/trips`, checked field by field with messages a client can act on.

NewTrip.from_json({"traveler_id": "t-1", "title": "Lisbon", "start_date": "2026-05-01",
                   "end_date": "2026-05-04", "flight_ids": ["fl-1"]})
→ NewTrip(traveler_id="t-1", ..., hotel_stay_ids=(), car_rental_ids=())
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from legacy_stub.errors import InvalidError

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
BOOKING_LISTS = ("flight_ids", "hotel_stay_ids", "car_rental_ids")


@dataclass(frozen=True, slots=True)
class NewTrip:
    traveler_id: str
    title: str
    start_date: date
    end_date: date
    flight_ids: tuple[str, ...] = ()
    hotel_stay_ids: tuple[str, ...] = ()
    car_rental_ids: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, body: Any) -> NewTrip:
        if not isinstance(body, dict):
            raise InvalidError("the body must be a JSON object")
        start, end = _date(body, "start_date"), _date(body, "end_date")
        if end < start:
            raise InvalidError(f"end_date {end} is before start_date {start}")
        flights, stays, cars = (_id_list(body, name) for name in BOOKING_LISTS)
        return cls(
            _text(body, "traveler_id"), _text(body, "title"), start, end, flights, stays, cars
        )


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidError(f"{name} is required and must be a non-empty string")
    return value


def _date(body: dict[str, Any], name: str) -> date:
    value = body.get(name)
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise InvalidError(f"{name} is required and must be a date like 2026-12-01")
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise InvalidError(f"{name} {value!r} is not a calendar date") from error


def _id_list(body: dict[str, Any], name: str) -> tuple[str, ...]:
    value = body.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidError(f"{name} must be a list of id strings")
    return tuple(dict.fromkeys(value))
