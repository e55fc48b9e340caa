"""The seeded dataset: deterministic, shaped exactly like the contract's JSON, and varied
enough to exercise money, dates and paging in the gateway."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date, datetime

import pytest

from legacy_stub.catalog import CURRENCIES
from legacy_stub.data import Dataset, Json, build_dataset

TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@pytest.fixture(scope="module")
def data() -> Dataset:
    return build_dataset()


def test_same_seed_builds_identical_entities() -> None:
    assert build_dataset(seed=5, travelers=40, trips=300) == build_dataset(
        seed=5, travelers=40, trips=300
    )


def test_another_seed_builds_other_entities() -> None:
    one, other = build_dataset(seed=1), build_dataset(seed=2)
    assert one.flights != other.flights
    assert one.travelers != other.travelers


def test_builds_the_default_size() -> None:
    # Its build time is not asserted: timed assertions fail on a busy machine (it took 1.03 s
    # once in a fresh-clone run); speed belongs in bench/.
    data = build_dataset()
    assert (len(data.travelers), len(data.trips)) == (300, 2000)


def test_sizes_follow_the_arguments() -> None:
    data = build_dataset(seed=3, travelers=7, trips=11)
    assert list(data.travelers) == [f"t-{n}" for n in range(1, 8)]
    assert list(data.trips) == [f"trip-{n}" for n in range(1, 12)]


def test_entities_are_plain_json(data: Dataset) -> None:
    for table in (data.travelers, data.trips, data.flights, data.hotel_stays, data.car_rentals):
        assert json.loads(json.dumps(table)) == table


@pytest.mark.parametrize(
    ("table", "prefix"),
    [
        ("travelers", "t-"),
        ("trips", "trip-"),
        ("flights", "fl-"),
        ("hotel_stays", "hs-"),
        ("car_rentals", "cr-"),
    ],
)
def test_ids_count_from_one_without_padding(data: Dataset, table: str, prefix: str) -> None:
    entities: dict[str, Json] = getattr(data, table)
    assert list(entities) == [f"{prefix}{n}" for n in range(1, len(entities) + 1)]
    assert all(entity["id"] == id for id, entity in entities.items())


def test_travelers_cover_every_currency_and_tier(data: Dataset) -> None:
    currencies = Counter(t["currency"] for t in data.travelers.values())
    assert set(currencies) == set(CURRENCIES)
    assert min(currencies.values()) >= 5
    assert {t["loyalty_tier"] for t in data.travelers.values()} == {"none", "silver", "gold"}
    assert data.travelers["t-1"].keys() == {
        "id", "name", "email", "loyalty_tier", "home_airport", "currency",
    }  # fmt: skip


def test_every_booking_belongs_to_exactly_one_trip(data: Dataset) -> None:
    for field, table in [
        ("flight_ids", data.flights),
        ("hotel_stay_ids", data.hotel_stays),
        ("car_rental_ids", data.car_rentals),
    ]:
        owners = Counter(id for trip in data.trips.values() for id in trip[field])
        assert set(owners) == set(table)
        assert set(owners.values()) == {1}


def test_trips_vary_in_length_status_and_bookings(data: Dataset) -> None:
    trips = list(data.trips.values())
    spans = [(_day(t["start_date"]), _day(t["end_date"])) for t in trips]
    assert any(start == end for start, end in spans)
    assert any((end - start).days > 60 for start, end in spans)
    assert any(start.year == 2026 and end.year == 2027 for start, end in spans)
    assert all(start <= end for start, end in spans)
    assert {t["status"] for t in trips} == {"booked", "cancelled"}
    assert any(not (t["flight_ids"] or t["hotel_stay_ids"] or t["car_rental_ids"]) for t in trips)
    assert max(len(t["flight_ids"]) for t in trips) == 4
    assert max(len(t["hotel_stay_ids"]) for t in trips) == 3
    assert max(len(t["car_rental_ids"]) for t in trips) == 2
    assert all(TIMESTAMP.fullmatch(t["updated_at"]) for t in trips)


def test_bookings_fall_inside_their_trip(data: Dataset) -> None:
    for trip in data.trips.values():
        start, end = _day(trip["start_date"]), _day(trip["end_date"])
        for id in trip["flight_ids"]:
            flight = data.flights[id]
            assert start <= _moment(flight["departs_at"]).date() <= end
            assert _moment(flight["departs_at"]) < _moment(flight["arrives_at"])
            assert _moment(flight["arrives_at"]).date() <= end
        for id in trip["hotel_stay_ids"]:
            stay = data.hotel_stays[id]
            assert start <= _day(stay["check_in"]) < _day(stay["check_out"]) <= end
        for id in trip["car_rental_ids"]:
            car = data.car_rentals[id]
            assert start <= _moment(car["pickup_at"]).date()
            assert _moment(car["pickup_at"]) < _moment(car["dropoff_at"])
            assert _moment(car["dropoff_at"]).date() <= end


def test_one_trip_mixes_currencies(data: Dataset) -> None:
    def currencies(trip: Json) -> set[str]:
        prices = [data.flights[id]["price"] for id in trip["flight_ids"]]
        prices += [data.hotel_stays[id]["price"] for id in trip["hotel_stay_ids"]]
        prices += [data.car_rentals[id]["price"] for id in trip["car_rental_ids"]]
        return {price["currency"] for price in prices}

    assert any(len(currencies(trip)) >= 2 for trip in data.trips.values())


def test_prices_are_integer_minor_units_in_known_currencies(data: Dataset) -> None:
    prices = [
        entity["price"]
        for table in (data.flights, data.hotel_stays, data.car_rentals)
        for entity in table.values()
    ]
    assert {price["currency"] for price in prices} == set(CURRENCIES)
    assert all(type(price["amount"]) is int and price["amount"] > 0 for price in prices)
    yen = [price["amount"] for price in prices if price["currency"] == "JPY"]
    assert all(amount % 100 == 0 and amount >= 1000 for amount in yen)


def test_flights_vary_in_seat_status_and_cabin(data: Dataset) -> None:
    flights = list(data.flights.values())
    assert any(f["seat"] is None for f in flights)
    assert any(isinstance(f["seat"], str) for f in flights)
    assert {f["status"] for f in flights} == {"scheduled", "delayed", "cancelled"}
    assert {f["cabin"] for f in flights} == {"economy", "premium", "business", "first"}
    assert all(TIMESTAMP.fullmatch(f["departs_at"]) for f in flights)


def test_destinations_have_a_popularity_between_0_and_1(data: Dataset) -> None:
    assert 55 <= len(data.destinations) <= 65
    assert all(0 <= d["popularity"] <= 1 for d in data.destinations.values())
    assert data.destinations["LIS"] == {
        "code": "LIS",
        "name": "Lisbon",
        "country": "Portugal",
        "image_url": "https://images.example.com/destinations/lis.jpg",
        "popularity": data.destinations["LIS"]["popularity"],
    }


def test_fx_rates_cover_every_pair_roughly_reciprocally(data: Dataset) -> None:
    assert set(data.fx_rates) == set(CURRENCIES)
    for base, rates in data.fx_rates.items():
        assert set(rates) == set(CURRENCIES) - {base}
        for other, rate in rates.items():
            digits = repr(rate).replace(".", "").lstrip("0")
            assert 4 <= len(digits) <= 6, (base, other, rate)
            assert rate * data.fx_rates[other][base] == pytest.approx(1, rel=0.01)
    assert TIMESTAMP.fullmatch(data.fx_as_of)


def _day(text: str) -> date:
    assert DATE.fullmatch(text)
    return date.fromisoformat(text)


def _moment(text: str) -> datetime:
    assert TIMESTAMP.fullmatch(text)
    return datetime.fromisoformat(text)
