"""Two travelers as the monolith stub knows them, found by asking it (never assumed), and the
check that an answer carries no byte of a traveler's data.

    owner, other = find_parties(legacy_url)
    leaked(owner, response, named=request_text)  → [] when nothing of `owner` is in it
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

Json = dict[str, Any]
BOOKING_LISTS = ("flight_ids", "hotel_stay_ids", "car_rental_ids")
CANCELS = 5  # booked trips each party needs besides `main`: one per attempt to cancel one


@dataclass(frozen=True)
class Party:
    record: Json
    trips: tuple[Json, ...]  # every trip of theirs
    main: Json  # booked, with at least one flight, hotel stay and car rental; never shared
    lent: Json  # another trip with bookings, which a test lends to the other traveler
    spares: tuple[str, ...]  # booked trips to cancel, CANCELS of them

    @property
    def id(self) -> str:
        return str(self.record["id"])

    @property
    def flight(self) -> str:
        return str(self.main["flight_ids"][0])

    @property
    def stay(self) -> str:
        return str(self.main["hotel_stay_ids"][0])

    @property
    def car(self) -> str:
        return str(self.main["car_rental_ids"][0])

    def bookings(self, trip: Json | None = None) -> list[str]:
        trips = self.trips if trip is None else (trip,)
        return [i for t in trips for name in BOOKING_LISTS for i in t[name]]

    def secrets(self) -> tuple[set[str], set[str]]:
        """(ids, texts): what would identify this traveler's data in someone else's answer."""
        ids = {self.id, *(t["id"] for t in self.trips), *self.bookings()}
        texts = {self.record["name"], self.record["email"], *(t["title"] for t in self.trips)}
        return ids, texts


def find_parties(legacy_url: str) -> tuple[Party, Party]:
    """The first two travelers, by id, with enough trips for every test."""
    found = []
    for party in _candidates(legacy_url):
        found.append(party)
        if len(found) == 2:
            return found[0], found[1]
    raise AssertionError("the stub's data has fewer than two travelers with enough trips")


def _candidates(legacy_url: str) -> Iterator[Party]:
    with httpx.Client(base_url=legacy_url, timeout=10) as client:
        for n in range(1, 60):
            traveler = client.get(f"/api/travelers/t-{n}")
            if traveler.status_code != 200:
                continue
            page = client.get(f"/api/travelers/t-{n}/trips", params={"limit": 100}).json()
            assert page["next_cursor"] is None, "more than 100 trips: page through them"
            party = _party(traveler.json(), page["items"])
            if party is not None:
                yield party


def _party(record: Json, trips: list[Json]) -> Party | None:
    booked = [t for t in trips if t["status"] == "booked"]
    full = [t for t in booked if all(t[name] for name in BOOKING_LISTS)]
    if not full:
        return None
    main = full[0]
    lent = next((t for t in trips if t is not main and any(t[n] for n in BOOKING_LISTS)), None)
    spares = [t["id"] for t in booked if t is not main and t is not lent]
    if lent is None or len(spares) < CANCELS:
        return None
    return Party(record, tuple(trips), main, lent, tuple(spares[:CANCELS]))


def leaked(party: Party, response: httpx.Response, *, named: str = "") -> list[str]:
    """Every piece of `party`'s data in the answer's body or headers, except ids the request
    itself named (an error may echo what was asked)."""
    ids, texts = party.secrets()
    seen = response.text + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    found = [text for text in texts if text in seen]
    found += [i for i in ids if not _has_id(named, i) and _has_id(seen, i)]
    return sorted(found)


def _has_id(text: str, id: str) -> bool:
    """ "fl-1" is in "[fl-1]", not in "fl-12"."""
    return re.search(rf"(?<![\w-]){re.escape(id)}(?![\w-])", text) is not None
