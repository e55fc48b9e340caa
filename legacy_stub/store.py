"""The monolith's in-memory state: the dataset, an index of trips per traveler, and the
feed of changes. All reads and writes of entities go through `Store`.

Kinds are named as in error messages: "traveler", "trip", "flight", "hotel stay",
"car rental", "destination".
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from legacy_stub.booking import NewTrip
from legacy_stub.data import Dataset, Json, Table, iso
from legacy_stub.errors import ConflictError, InvalidError, NotFoundError
from legacy_stub.paging import Position, position, trip_number

Clock = Callable[[], datetime]
IndexEntry = tuple[Position, str]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class TripPage:
    items: list[Json]
    last: Position | None  # position of the last item when more follow, else None


class Store:
    def __init__(self, dataset: Dataset, *, clock: Clock = utc_now) -> None:
        self.dataset = dataset
        self._clock = clock
        self._tables: dict[str, Table] = {
            "traveler": dataset.travelers,
            "trip": dataset.trips,
            "flight": dataset.flights,
            "hotel stay": dataset.hotel_stays,
            "car rental": dataset.car_rentals,
            "destination": dataset.destinations,
        }
        self._by_traveler = _index_trips(dataset.trips)
        self._next_trip = max(map(trip_number, dataset.trips), default=0) + 1
        self.events: list[Json] = []

    def get(self, kind: str, id: str) -> Json:
        entity = self._tables[kind].get(id)
        if entity is None:
            raise NotFoundError(kind, id)
        return entity

    def batch(self, kind: str, ids: list[str]) -> list[Json]:
        table = self._tables[kind]
        return [table[id] for id in ids if id in table]

    def trips_of(
        self, traveler_id: str, *, status: str | None, limit: int, after: Position | None
    ) -> TripPage:
        self.get("traveler", traveler_id)
        entries = self._by_traveler.get(traveler_id, [])
        start = 0 if after is None else bisect_right(entries, after, key=lambda e: e[0])
        items: list[Json] = []
        for _, trip_id in entries[start:]:
            trip = self.dataset.trips[trip_id]
            if status is None or trip["status"] == status:
                if len(items) == limit:
                    return TripPage(items, position(items[-1]))
                items.append(trip)
        return TripPage(items, None)

    def top_destinations(self, limit: int) -> list[Json]:
        ranked = sorted(self.dataset.destinations.values(), key=_by_popularity)
        return ranked[:limit]

    def book(self, new: NewTrip) -> Json:
        if new.traveler_id not in self.dataset.travelers:
            raise InvalidError(f"traveler {new.traveler_id!r} does not exist")
        self._check_bookings_exist(new)
        trip = _trip_json(f"trip-{self._next_trip}", new, updated_at=iso(self._clock()))
        self._next_trip += 1
        self.dataset.trips[trip["id"]] = trip
        insort(self._by_traveler.setdefault(new.traveler_id, []), (position(trip), trip["id"]))
        self._record("TripBooked", trip)
        return trip

    def cancel(self, trip_id: str) -> Json:
        trip = self.get("trip", trip_id)
        if trip["status"] == "cancelled":
            raise ConflictError(f"trip {trip_id!r} is already cancelled")
        trip["status"] = "cancelled"
        trip["updated_at"] = iso(self._clock())
        self._record("TripCancelled", trip)
        return trip

    def patch(self, id: str, fields: dict[str, Any]) -> Json:
        """Overwrites fields of any entity in place (a test's tool to make backends differ)."""
        kind = next((kind for kind, table in self._tables.items() if id in table), None)
        if kind is None:
            raise NotFoundError("entity", id)
        if fields.get("id", id) != id or fields.get("code", id) != id:
            raise InvalidError("patch cannot change an entity's id or code")
        entity = self._tables[kind][id]
        if kind == "trip":
            _check_indexable({**entity, **fields})
        entity.update(fields)
        if kind == "trip":
            self._by_traveler = _index_trips(self.dataset.trips)
        return entity

    def events_after(self, seq: int) -> list[Json]:
        return self.events[seq:]

    def _check_bookings_exist(self, new: NewTrip) -> None:
        wanted = (
            ("flight", new.flight_ids),
            ("hotel stay", new.hotel_stay_ids),
            ("car rental", new.car_rental_ids),
        )
        unknown = [id for kind, ids in wanted for id in ids if id not in self._tables[kind]]
        if unknown:
            raise InvalidError(f"unknown booking ids: {', '.join(unknown)}")

    def _record(self, type: str, trip: Json) -> None:
        event = {
            "seq": len(self.events) + 1,
            "type": type,
            "id": trip["id"],
            "traveler_id": trip["traveler_id"],
            "at": trip["updated_at"],
        }
        self.events.append(event)


def _index_trips(trips: Table) -> dict[str, list[IndexEntry]]:
    index: dict[str, list[IndexEntry]] = {}
    for trip in trips.values():
        index.setdefault(trip["traveler_id"], []).append((position(trip), trip["id"]))
    for entries in index.values():
        entries.sort()
    return index


def _check_indexable(trip: Json) -> None:
    try:
        position(trip)
        hash(trip["traveler_id"])
    except (ValueError, TypeError) as error:
        raise InvalidError(f"patched trip would not be listable: {error}") from error


def _by_popularity(destination: Json) -> tuple[float, str]:
    return (-destination["popularity"], destination["code"])


def _trip_json(trip_id: str, new: NewTrip, *, updated_at: str) -> Json:
    return {
        "id": trip_id,
        "traveler_id": new.traveler_id,
        "title": new.title,
        "start_date": new.start_date.isoformat(),
        "end_date": new.end_date.isoformat(),
        "status": "booked",
        "flight_ids": list(new.flight_ids),
        "hotel_stay_ids": list(new.hotel_stay_ids),
        "car_rental_ids": list(new.car_rental_ids),
        "updated_at": updated_at,
    }
