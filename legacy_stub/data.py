"""The seeded dataset: every entity exactly as the monolith's JSON shows it.

`build_dataset(seed)` draws everything from one `random.Random(seed)` in a fixed order, so
the monolith stub and every extracted-service stub built with the same seed and sizes hold
identical entities (a shadow comparison finds no difference).

    >>> build_dataset(seed=42).flights["fl-1"]["id"]
    'fl-1'
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

from legacy_stub import catalog

Json = dict[str, Any]
Table = dict[str, Json]

FIRST_START = date(2026, 1, 5)
START_SPAN_DAYS = 665  # trips start between 2026-01-05 and 2027-10-31
FX_AS_OF = "2026-01-02T16:00:00+00:00"
CABIN_FARE_FACTOR = {"economy": 1.0, "premium": 1.6, "business": 3.2, "first": 5.5}


@dataclass(frozen=True)
class Dataset:
    """Tables of entities keyed by id (destinations by code). The tables themselves are
    mutable: the stub's store books, cancels and patches in place."""

    travelers: Table
    trips: Table
    flights: Table
    hotel_stays: Table
    car_rentals: Table
    destinations: Table
    fx_rates: dict[str, dict[str, float]]
    fx_as_of: str = FX_AS_OF


def build_dataset(seed: int = 42, travelers: int = 300, trips: int = 2000) -> Dataset:
    rng = random.Random(seed)
    builder = _Builder(rng)
    traveler_table = {t["id"]: t for t in (_traveler(rng, n) for n in range(1, travelers + 1))}
    destinations = {d["code"]: d for d in (_destination(rng, p) for p in catalog.PLACES)}
    fx_rates = _fx_rates(rng)
    homes = [t["home_airport"] for t in traveler_table.values()]
    for n in range(1, trips + 1):
        owner = int(travelers * rng.random() ** 1.5)  # skewed: low ids travel more
        builder.add_trip(n, traveler_id=f"t-{owner + 1}", home=homes[owner])
    return Dataset(
        travelers=traveler_table,
        trips=builder.trips,
        flights=builder.flights,
        hotel_stays=builder.hotel_stays,
        car_rentals=builder.car_rentals,
        destinations=destinations,
        fx_rates=fx_rates,
    )


def iso(moment: datetime) -> str:
    """`datetime(2026, 12, 1, 8, 30, tzinfo=UTC)` → `"2026-12-01T08:30:00+00:00"`."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _traveler(rng: random.Random, n: int) -> Json:
    first, last = rng.choice(catalog.FIRST_NAMES), rng.choice(catalog.LAST_NAMES)
    home = rng.choice(catalog.HOME_AIRPORTS)
    return {
        "id": f"t-{n}",
        "name": f"{first} {last}",
        "email": f"{_ascii(first)}.{_ascii(last)}.{n}@example.com",
        "loyalty_tier": rng.choices(("none", "silver", "gold"), weights=(60, 28, 12))[0],
        "home_airport": home,
        "currency": catalog.PLACE_BY_CODE[home].currency,
    }


def _ascii(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return folded.lower().replace("'", "")


def _destination(rng: random.Random, place: catalog.Place) -> Json:
    return {
        "code": place.code,
        "name": place.city,
        "country": place.country,
        "image_url": f"https://images.example.com/destinations/{place.code.lower()}.jpg",
        "popularity": round(rng.uniform(0.02, 0.99), 3),
    }


def _fx_rates(rng: random.Random) -> dict[str, dict[str, float]]:
    """Rates as the monolith writes them: 5 significant digits, A→B only about 1/(B→A)."""
    eur = catalog.EUR_RATES
    return {
        base: {
            other: float(f"{eur[other] / eur[base] * rng.uniform(0.998, 1.002):.5g}")
            for other in catalog.CURRENCIES
            if other != base
        }
        for base in catalog.CURRENCIES
    }


def _money(eur_value: float, currency: str) -> Json:
    value = eur_value * catalog.EUR_RATES[currency]
    if catalog.MINOR_UNIT_EXPONENT[currency] == 0:
        return {"amount": round(value / 100) * 100, "currency": currency}
    return {"amount": round(value * 100), "currency": currency}


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


@dataclass
class _Builder:
    """Numbers bookings as it creates them, so ids follow trip order (`fl-1` is the first
    flight of the first trip that has one)."""

    rng: random.Random
    trips: Table = field(default_factory=dict)
    flights: Table = field(default_factory=dict)
    hotel_stays: Table = field(default_factory=dict)
    car_rentals: Table = field(default_factory=dict)
    hotels: Table = field(default_factory=dict)

    def add_trip(self, n: int, *, traveler_id: str, home: str) -> None:
        rng = self.rng
        start, end = _trip_dates(rng)
        dest = rng.choice([code for code in catalog.PLACE_CODES if code != home])
        empty = rng.random() < 0.06
        trip_id = f"trip-{n}"
        self.trips[trip_id] = {
            "id": trip_id,
            "traveler_id": traveler_id,
            "title": rng.choice(catalog.TRIP_KINDS).format(city=catalog.PLACE_BY_CODE[dest].city),
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "status": "cancelled" if rng.random() < 0.15 else "booked",
            "flight_ids": [] if empty else self._flights(home, dest, start, end),
            "hotel_stay_ids": [] if empty else self._stays(dest, start, end),
            "car_rental_ids": [] if empty else self._cars(dest, start, end),
            "updated_at": iso(_at(start, 0) - timedelta(seconds=rng.randrange(86400, 90 * 86400))),
        }

    def _flights(self, home: str, dest: str, start: date, end: date) -> list[str]:
        rng = self.rng
        count = rng.choices((0, 1, 2, 3, 4), weights=(12, 20, 48, 12, 8))[0]
        others = rng.sample([c for c in catalog.PLACE_CODES if c not in (home, dest)], 2)
        route = [home, dest, *others[: max(count - 2, 0)], home][: count + 1]
        last_moment, earliest = _at(end, 23, 55), _at(start, 6)
        days, ids = (end - start).days, []
        for k, (origin, destination) in enumerate(pairwise(route)):
            day = start + timedelta(days=days * k // max(count - 1, 1))
            depart = max(_at(day, rng.randint(6, 14), rng.choice((0, 15, 30, 45))), earliest)
            minutes = _flight_minutes(rng, origin, destination)
            if depart + timedelta(minutes=minutes) > last_moment:
                break
            ids.append(self._flight(origin, destination, depart, minutes))
            earliest = depart + timedelta(minutes=minutes + 90)
        return ids

    def _flight(self, origin: str, destination: str, depart: datetime, minutes: int) -> str:
        rng = self.rng
        local = catalog.CARRIERS_BY_CURRENCY[_currency(origin)]
        carrier = rng.choice(local if local and rng.random() < 0.7 else list(catalog.CARRIERS))
        cabin = rng.choices(tuple(CABIN_FARE_FACTOR), weights=(70, 12, 14, 4))[0]
        fare = (60 + minutes * 0.9 + rng.uniform(0, 120)) * CABIN_FARE_FACTOR[cabin]
        flight_id = f"fl-{len(self.flights) + 1}"
        self.flights[flight_id] = {
            "id": flight_id,
            "carrier": carrier,
            "flight_number": f"{carrier}{rng.randint(10, 2999)}",
            "origin": origin,
            "destination": destination,
            "departs_at": iso(depart),
            "arrives_at": iso(depart + timedelta(minutes=minutes)),
            "cabin": cabin,
            "seat": None if rng.random() < 0.2 else f"{rng.randint(1, 45)}{rng.choice('ABCDEF')}",
            "status": rng.choices(("scheduled", "delayed", "cancelled"), weights=(80, 12, 8))[0],
            "price": _money(fare, catalog.CARRIERS[carrier]),
        }
        return flight_id

    def _stays(self, dest: str, start: date, end: date) -> list[str]:
        rng = self.rng
        nights = (end - start).days
        count = min(rng.choices((0, 1, 2, 3), weights=(20, 55, 18, 7))[0], nights)
        cuts = [0, *sorted(rng.sample(range(1, nights), count - 1)), nights] if count else []
        ids = []
        for k, (first, last) in enumerate(pairwise(cuts)):
            city = dest if k == 0 else rng.choice(catalog.PLACES).code
            ids.append(self._stay(city, start + timedelta(first), start + timedelta(last)))
        return ids

    def _stay(self, city: str, check_in: date, check_out: date) -> str:
        rng = self.rng
        hotel = self._hotel(city, rng.choice(catalog.HOTEL_BRANDS))
        nightly = 45 + hotel["stars"] * rng.uniform(20, 60)
        stay_id = f"hs-{len(self.hotel_stays) + 1}"
        self.hotel_stays[stay_id] = {
            "id": stay_id,
            "hotel": dict(hotel),
            "check_in": check_in.isoformat(),
            "check_out": check_out.isoformat(),
            "room_type": rng.choice(catalog.ROOM_TYPES),
            "price": _money(nightly * (check_out - check_in).days, _currency(city)),
        }
        return stay_id

    def _hotel(self, city: str, brand: str) -> Json:
        key = f"{city}/{brand}"
        if key not in self.hotels:
            town = catalog.PLACE_BY_CODE[city].city
            self.hotels[key] = {
                "id": f"h-{len(self.hotels) + 1}",
                "name": f"{brand} {town}",
                "city": town,
                "stars": self.rng.randint(1, 5),
                "address": f"{self.rng.randint(1, 240)} {self.rng.choice(catalog.STREETS)}, {town}",
            }
        return self.hotels[key]

    def _cars(self, dest: str, start: date, end: date) -> list[str]:
        count = self.rng.choices((0, 1, 2), weights=(55, 35, 10))[0]
        if count == 2 and (end - start).days >= 2:
            middle = start + (end - start) // 2
            return [self._car(dest, start, middle), self._car(dest, middle, end)]
        return [self._car(dest, start, end)] if count else []

    def _car(self, city: str, first: date, last: date) -> str:
        rng = self.rng
        place = catalog.PLACE_BY_CODE[city]
        days = max((last - first).days, 1)
        car_id = f"cr-{len(self.car_rentals) + 1}"
        self.car_rentals[car_id] = {
            "id": car_id,
            "company": rng.choice(catalog.CAR_COMPANIES),
            "pickup_location": f"{place.city} Airport ({place.code})",
            "dropoff_location": rng.choice((f"{place.city} Airport ({place.code})", place.city)),
            "pickup_at": iso(_at(first, rng.randint(8, 11), rng.choice((0, 30)))),
            "dropoff_at": iso(_at(last, rng.randint(16, 20), rng.choice((0, 30)))),
            "vehicle_class": rng.choice(catalog.VEHICLE_CLASSES),
            "price": _money(days * rng.uniform(28, 110), place.currency),
        }
        return car_id


def _currency(code: str) -> str:
    return catalog.PLACE_BY_CODE[code].currency


def _flight_minutes(rng: random.Random, origin: str, destination: str) -> int:
    short = _currency(origin) == _currency(destination)
    return rng.randrange(55, 180, 5) if short else rng.randrange(110, 660, 5)


def _trip_dates(rng: random.Random) -> tuple[date, date]:
    roll = rng.random()
    if roll < 0.07:  # across the year end
        return date(2026, 12, rng.randint(14, 31)), date(2027, 1, rng.randint(1, 12))
    start = FIRST_START + timedelta(days=rng.randrange(START_SPAN_DAYS))
    if roll < 0.22:
        length = 0
    elif roll < 0.32:
        length = rng.randint(20, 120)
    else:
        length = rng.randint(1, 14)
    return start, start + timedelta(days=length)
