"""The monolith stub, driven in-process through httpx's ASGI transport."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from legacy_stub.data import Dataset, Json, build_dataset
from legacy_stub.errors import InvalidError
from legacy_stub.factory import create_app
from legacy_stub.faults import Fault, FaultTable, Verdict
from legacy_stub.paging import decode_cursor, encode_cursor
from legacy_stub.params import scramble
from legacy_stub.settings import SettingsError, StubSettings

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NOW_TEXT = "2026-03-01T12:00:00+00:00"
SIZE = {"seed": 7, "travelers": 20, "trips": 150}


def fixed_clock() -> datetime:
    return NOW


@pytest.fixture
def reference() -> Dataset:
    """An untouched copy of the data the app under test starts from."""
    return build_dataset(**SIZE)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(build_dataset(**SIZE), clock=fixed_clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://legacy") as client:
        yield client


def busiest_traveler(data: Dataset) -> str:
    owners: list[str] = [trip["traveler_id"] for trip in data.trips.values()]
    return max(set(owners), key=owners.count)


def newest_first(trips: list[Json]) -> list[Json]:
    return sorted(trips, key=lambda t: (t["start_date"], int(t["id"][5:])), reverse=True)


BOOKING = {
    "traveler_id": "t-2",
    "title": "Lisbon in spring",
    "start_date": "2028-04-01",
    "end_date": "2028-04-05",
    "flight_ids": ["fl-1", "fl-2"],
    "hotel_stay_ids": ["hs-1"],
    "car_rental_ids": [],
}


# --- reads -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "table", "id"),
    [
        ("travelers", "travelers", "t-3"),
        ("trips", "trips", "trip-17"),
        ("flights", "flights", "fl-5"),
        ("hotel-stays", "hotel_stays", "hs-4"),
        ("car-rentals", "car_rentals", "cr-2"),
    ],
)
async def test_one_entity_by_id(
    client: httpx.AsyncClient, reference: Dataset, path: str, table: str, id: str
) -> None:
    response = await client.get(f"/api/{path}/{id}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == getattr(reference, table)[id]


@pytest.mark.parametrize(
    ("path", "kind", "id"),
    [
        ("travelers", "traveler", "t-999"),
        ("trips", "trip", "trip-0"),
        ("flights", "flight", "fl-x"),
        ("hotel-stays", "hotel stay", "hs-99999"),
        ("car-rentals", "car rental", "t-1"),
    ],
)
async def test_unknown_id_is_404(client: httpx.AsyncClient, path: str, kind: str, id: str) -> None:
    response = await client.get(f"/api/{path}/{id}")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": f"{kind} {id!r} not found"}


@pytest.mark.parametrize(
    ("path", "table", "prefix"),
    [
        ("travelers", "travelers", "t-"),
        ("trips", "trips", "trip-"),
        ("flights", "flights", "fl-"),
        ("hotel-stays", "hotel_stays", "hs-"),
        ("car-rentals", "car_rentals", "cr-"),
    ],
)
async def test_batch_leaves_out_unknown_ids_and_answers_in_another_order(
    client: httpx.AsyncClient, reference: Dataset, path: str, table: str, prefix: str
) -> None:
    asked = [f"{prefix}{n}" for n in (3, 1, 2, 5, 4)]
    query = ",".join([*asked, f"{prefix}99999", asked[0]])
    response = await client.get(f"/api/{path}", params={"ids": query})
    assert response.status_code == 200
    items = response.json()["items"]
    assert sorted(items, key=lambda e: asked.index(e["id"])) == [
        getattr(reference, table)[id] for id in asked
    ]
    assert [item["id"] for item in items] != asked


async def test_batch_of_two_never_answers_in_the_order_asked(client: httpx.AsyncClient) -> None:
    for pair in (["t-1", "t-2"], ["t-2", "t-1"]):
        response = await client.get("/api/travelers", params={"ids": ",".join(pair)})
        assert [item["id"] for item in response.json()["items"]] == pair[::-1]


async def test_batch_takes_at_most_100_ids(client: httpx.AsyncClient) -> None:
    hundred = ",".join(f"fl-{n}" for n in range(1, 101))
    assert len((await client.get("/api/flights", params={"ids": hundred})).json()["items"]) == 100
    response = await client.get("/api/flights", params={"ids": hundred + ",fl-101"})
    assert response.status_code == 422
    assert response.json() == {
        "error": "invalid",
        "message": "at most 100 ids per request, got 101",
    }


async def test_batch_without_ids(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/trips", params={"ids": ""})).json() == {"items": []}
    response = await client.get("/api/trips")
    assert response.status_code == 422
    assert response.json()["error"] == "invalid"


async def test_paging_covers_a_travelers_trips_once_newest_first(
    client: httpx.AsyncClient, reference: Dataset
) -> None:
    traveler = busiest_traveler(reference)
    expected = newest_first([t for t in reference.trips.values() if t["traveler_id"] == traveler])
    assert len(expected) > 6
    seen: list[Json] = []
    params: dict[str, Any] = {"limit": 3}
    while True:
        response = await client.get(f"/api/travelers/{traveler}/trips", params=params)
        assert response.status_code == 200
        page = response.json()
        assert len(page["items"]) <= 3
        seen += page["items"]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == expected


async def test_paging_by_status(client: httpx.AsyncClient, reference: Dataset) -> None:
    traveler = busiest_traveler(reference)
    mine = newest_first([t for t in reference.trips.values() if t["traveler_id"] == traveler])
    for status in ("booked", "cancelled"):
        first = await client.get(f"/api/travelers/{traveler}/trips", params={"status": status})
        assert first.json() == {
            "items": [t for t in mine if t["status"] == status][:20],
            "next_cursor": None,
        }


async def test_default_page_is_20(client: httpx.AsyncClient, reference: Dataset) -> None:
    traveler = busiest_traveler(reference)
    mine = newest_first([t for t in reference.trips.values() if t["traveler_id"] == traveler])
    page = (await client.get(f"/api/travelers/{traveler}/trips")).json()
    assert page["items"] == mine[:20]
    assert (page["next_cursor"] is None) == (len(mine) <= 20)


async def test_trips_of_unknown_traveler_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/travelers/t-404/trips")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": "traveler 't-404' not found"}


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "ten"},
        {"limit": "-1"},
        {"limit": "²"},
        {"status": "pending"},
        {"cursor": "not-a-cursor"},
        {"cursor": "%%%"},
    ],
)
async def test_trips_bad_query_is_422(client: httpx.AsyncClient, params: dict[str, str]) -> None:
    response = await client.get("/api/travelers/t-1/trips", params=params)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid"


async def test_top_destinations_by_popularity(
    client: httpx.AsyncClient, reference: Dataset
) -> None:
    ranked = sorted(reference.destinations.values(), key=lambda d: -d["popularity"])
    assert (await client.get("/api/destinations/top")).json() == {"items": ranked[:10]}
    response = await client.get("/api/destinations/top", params={"limit": 50})
    assert response.json() == {"items": ranked[:50]}
    for limit in ("0", "51", "x"):
        response = await client.get("/api/destinations/top", params={"limit": limit})
        assert response.status_code == 422


async def test_fx_for_every_base(client: httpx.AsyncClient, reference: Dataset) -> None:
    for base in ("EUR", "GBP", "USD", "JPY", "CHF"):
        response = await client.get("/api/fx", params={"base": base})
        assert response.json() == {
            "base": base,
            "rates": reference.fx_rates[base],
            "as_of": "2026-01-02T16:00:00+00:00",
        }


async def test_fx_unknown_base_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/fx", params={"base": "XAU"})
    assert response.status_code == 422
    assert response.json() == {
        "error": "invalid",
        "message": "base must be one of EUR, GBP, USD, JPY, CHF, got 'XAU'",
    }
    assert (await client.get("/api/fx")).status_code == 422


async def test_unknown_route_and_method_are_404_json(client: httpx.AsyncClient) -> None:
    for method, path in [("GET", "/api/nothing"), ("GET", "/"), ("DELETE", "/api/trips/trip-1")]:
        response = await client.request(method, path)
        assert response.status_code == 404
        assert response.json() == {"error": "not_found", "message": f"no route for {method} {path}"}


# --- mutations ---------------------------------------------------------------------------


async def test_book_a_trip(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/trips", json=BOOKING)
    assert response.status_code == 201
    trip = {**BOOKING, "id": "trip-151", "status": "booked", "updated_at": NOW_TEXT}
    assert response.json() == trip
    assert (await client.get("/api/trips/trip-151")).json() == trip
    batch = await client.get("/api/trips", params={"ids": "trip-151,trip-1"})
    assert trip in batch.json()["items"]
    listed = await client.get("/api/travelers/t-2/trips", params={"limit": 1})
    assert listed.json()["items"] == [trip]
    events = await client.get("/_stub/events")
    assert events.json() == {
        "events": [
            {"seq": 1, "type": "TripBooked", "id": "trip-151", "traveler_id": "t-2", "at": NOW_TEXT}
        ],
        "last_seq": 1,
    }


async def test_booking_lists_default_to_empty(client: httpx.AsyncClient) -> None:
    body = {k: BOOKING[k] for k in ("traveler_id", "title", "start_date", "end_date")}
    body["start_date"] = body["end_date"]
    response = await client.post("/api/trips", json=body)
    assert response.status_code == 201
    assert response.json()["flight_ids"] == response.json()["car_rental_ids"] == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", None),
        (b"\xff\xfe", None),
        (b"", None),
        (b"[1, 2]", "the body must be a JSON object"),
        (b'"trip"', "the body must be a JSON object"),
        ({**BOOKING, "title": "  "}, "title is required and must be a non-empty string"),
        ({**BOOKING, "traveler_id": 2}, "traveler_id is required and must be a non-empty string"),
        ({**BOOKING, "start_date": "01/04/2028"}, None),
        ({**BOOKING, "start_date": None}, None),
        ({**BOOKING, "end_date": "2028-02-30"}, "end_date '2028-02-30' is not a calendar date"),
        (
            {**BOOKING, "end_date": "2028-03-31"},
            "end_date 2028-03-31 is before start_date 2028-04-01",
        ),
        ({**BOOKING, "flight_ids": "fl-1"}, "flight_ids must be a list of id strings"),
        ({**BOOKING, "hotel_stay_ids": [1]}, "hotel_stay_ids must be a list of id strings"),
        ({**BOOKING, "traveler_id": "t-999"}, "traveler 't-999' does not exist"),
        (
            {**BOOKING, "flight_ids": ["fl-1", "fl-0"], "car_rental_ids": ["cr-x"]},
            "unknown booking ids: fl-0, cr-x",
        ),
    ],
)
async def test_bad_booking_is_422(
    client: httpx.AsyncClient, body: bytes | dict[str, Any], message: str | None
) -> None:
    if isinstance(body, bytes):
        response = await client.post("/api/trips", content=body)
    else:
        response = await client.post("/api/trips", json=body)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid"
    if message is not None:
        assert response.json()["message"] == message
    assert (await client.get("/_stub/events")).json() == {"events": [], "last_seq": 0}


async def test_cancel_then_cancel_again(client: httpx.AsyncClient, reference: Dataset) -> None:
    booked = next(t for t in reference.trips.values() if t["status"] == "booked")
    response = await client.post(f"/api/trips/{booked['id']}/cancel")
    assert response.status_code == 200
    cancelled = {**booked, "status": "cancelled", "updated_at": NOW_TEXT}
    assert response.json() == cancelled
    assert (await client.get(f"/api/trips/{booked['id']}")).json() == cancelled
    again = await client.post(f"/api/trips/{booked['id']}/cancel")
    assert again.status_code == 409
    assert again.json() == {
        "error": "conflict",
        "message": f"trip {booked['id']!r} is already cancelled",
    }
    assert (await client.post("/api/trips/trip-9999/cancel")).status_code == 404


async def test_events_after(client: httpx.AsyncClient) -> None:
    await client.post("/api/trips", json=BOOKING)
    await client.post("/api/trips/trip-151/cancel")
    response = await client.get("/_stub/events", params={"after": 1})
    assert response.json() == {
        "events": [
            {
                "seq": 2,
                "type": "TripCancelled",
                "id": "trip-151",
                "traveler_id": "t-2",
                "at": NOW_TEXT,
            }
        ],
        "last_seq": 2,
    }
    assert (await client.get("/_stub/events", params={"after": 2})).json()["events"] == []
    assert (await client.get("/_stub/events", params={"after": "x"})).status_code == 422


# --- admin: stats, faults, patch ---------------------------------------------------------


async def test_stats_count_by_method_and_template_until_reset(client: httpx.AsyncClient) -> None:
    await client.get("/api/flights/fl-1")
    await client.get("/api/flights/fl-nope")
    await client.get("/api/flights", params={"ids": "fl-1"})
    await client.get("/api/travelers/t-1/trips")
    await client.post("/api/trips/trip-1/cancel")
    await client.get("/api/nothing")
    await client.get("/_stub/events")
    assert (await client.get("/_stub/stats")).json() == {
        "requests": {
            "GET /api/flights": 1,
            "GET /api/flights/{id}": 2,
            "GET /api/travelers/{id}/trips": 1,
            "POST /api/trips/{id}/cancel": 1,
        },
        "total": 5,
    }
    assert (await client.post("/_stub/reset")).status_code == 200
    assert (await client.get("/_stub/stats")).json() == {"requests": {}, "total": 0}


async def test_fault_that_always_fails(client: httpx.AsyncClient) -> None:
    fault = {"path_prefix": "/api/flights", "error_rate": 1.0, "status": 502}
    response = await client.post("/_stub/faults", json=fault)
    assert response.json() == {
        "faults": [{**fault, "latency_ms": 0, "hang": False}],
    }
    failed = await client.get("/api/flights/fl-1")
    assert failed.status_code == 502
    assert failed.json() == {
        "error": "unavailable",
        "message": "injected fault on /api/flights/fl-1",
    }
    assert (await client.get("/api/flights", params={"ids": "fl-1"})).status_code == 502
    assert (await client.get("/api/trips/trip-1")).status_code == 200
    assert (await client.get("/_stub/stats")).json()["total"] == 3
    await client.post("/_stub/reset")
    assert (await client.get("/api/flights/fl-1")).status_code == 200
    assert (await client.get("/_stub/faults")).json() == {"faults": []}


async def test_fault_status_defaults_to_503(client: httpx.AsyncClient) -> None:
    await client.post("/_stub/faults", json={"path_prefix": "/api", "error_rate": 1})
    assert (await client.get("/api/fx", params={"base": "EUR"})).status_code == 503


async def test_half_the_requests_fail_repeatably() -> None:
    async def failures() -> list[int]:
        app = create_app(build_dataset(**SIZE))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://legacy") as client:
            await client.post("/_stub/faults", json={"path_prefix": "/api/", "error_rate": 0.5})
            codes = [(await client.get("/api/travelers/t-1")).status_code for _ in range(200)]
        return [n for n, code in enumerate(codes) if code == 503]

    first = await failures()
    assert 70 <= len(first) <= 130
    assert await failures() == first


async def test_latency_fault_and_fixed_latency(client: httpx.AsyncClient) -> None:
    await client.post("/_stub/faults", json={"path_prefix": "/api/trips", "latency_ms": 150})
    started = time.perf_counter()
    assert (await client.get("/api/trips/trip-1")).status_code == 200
    assert time.perf_counter() - started >= 0.15

    slow = create_app(build_dataset(**SIZE), latency_ms=100)
    transport = httpx.ASGITransport(app=slow)
    async with httpx.AsyncClient(transport=transport, base_url="http://legacy") as slow_client:
        started = time.perf_counter()
        assert (await slow_client.get("/api/flights/fl-1")).status_code == 200
        assert time.perf_counter() - started >= 0.1

    # The stub's own admin API is never delayed: with a minute of latency on every data
    # endpoint, stats still answer long before a generous deadline (no upper-bound timing).
    stuck = create_app(build_dataset(**SIZE), latency_ms=60_000)
    transport = httpx.ASGITransport(app=stuck)
    async with httpx.AsyncClient(transport=transport, base_url="http://legacy") as stuck_client:
        stats = await asyncio.wait_for(stuck_client.get("/_stub/stats"), timeout=30)
        assert stats.status_code == 200


async def test_hang_never_answers_but_counts(client: httpx.AsyncClient) -> None:
    await client.post("/_stub/faults", json={"path_prefix": "/api/flights/", "hang": True})
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(client.get("/api/flights/fl-1"), timeout=0.2)
    assert (await client.get("/api/flights", params={"ids": "fl-1"})).status_code == 200
    assert (await client.get("/_stub/stats")).json()["requests"] == {
        "GET /api/flights": 1,
        "GET /api/flights/{id}": 1,
    }


async def test_faults_coexist_replace_and_clear(client: httpx.AsyncClient) -> None:
    await client.post("/_stub/faults", json={"path_prefix": "/api", "error_rate": 1})
    await client.post("/_stub/faults", json={"path_prefix": "/api/trips", "latency_ms": 1})
    assert (await client.get("/api/trips/trip-1")).status_code == 200  # longest prefix wins
    assert (await client.get("/api/flights/fl-1")).status_code == 503
    await client.post("/_stub/faults", json={"path_prefix": "/api", "error_rate": 1, "status": 500})
    assert (await client.get("/api/flights/fl-1")).status_code == 500
    await client.post("/_stub/faults", json={"path_prefix": "/api"})  # no-op clears
    assert (await client.get("/api/flights/fl-1")).status_code == 200
    assert (await client.get("/_stub/faults")).json() == {
        "faults": [
            {
                "path_prefix": "/api/trips",
                "latency_ms": 1,
                "error_rate": 0.0,
                "status": 503,
                "hang": False,
            }
        ]
    }


@pytest.mark.parametrize(
    "body",
    [
        b"nope",
        b"[]",
        {},
        {"path_prefix": "api"},
        {"path_prefix": "/api", "error_rate": 1.5},
        {"path_prefix": "/api", "error_rate": "0.5"},
        {"path_prefix": "/api", "latency_ms": -1},
        {"path_prefix": "/api", "latency_ms": 1.5},
        {"path_prefix": "/api", "status": 200},
        {"path_prefix": "/api", "status": True},
        {"path_prefix": "/api", "hang": "yes"},
    ],
)
async def test_bad_fault_is_422(client: httpx.AsyncClient, body: bytes | dict[str, Any]) -> None:
    if isinstance(body, bytes):
        response = await client.post("/_stub/faults", content=body)
    else:
        response = await client.post("/_stub/faults", json=body)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid"


async def test_patch_overwrites_fields(client: httpx.AsyncClient, reference: Dataset) -> None:
    response = await client.post("/_stub/patch", json={"id": "fl-1", "fields": {"seat": "99Z"}})
    patched = {**reference.flights["fl-1"], "seat": "99Z"}
    assert response.json() == patched
    assert (await client.get("/api/flights/fl-1")).json() == patched
    await client.post("/_stub/patch", json={"id": "t-1", "fields": {"currency": "JPY"}})
    assert (await client.get("/api/travelers/t-1")).json()["currency"] == "JPY"


async def test_patching_a_start_date_reorders_the_list(
    client: httpx.AsyncClient, reference: Dataset
) -> None:
    traveler = busiest_traveler(reference)
    mine = newest_first([t for t in reference.trips.values() if t["traveler_id"] == traveler])
    oldest = mine[-1]["id"]
    await client.post("/_stub/patch", json={"id": oldest, "fields": {"start_date": "2029-01-01"}})
    page = await client.get(f"/api/travelers/{traveler}/trips", params={"limit": 1})
    assert page.json()["items"][0]["id"] == oldest


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"id": "fl-0", "fields": {}}, 404),
        ({"id": "fl-1"}, 422),
        ({"fields": {}}, 422),
        ({"id": "fl-1", "fields": {"id": "fl-2"}}, 422),
        ({"id": "trip-1", "fields": {"start_date": "soon"}}, 422),
        (b"{", 422),
    ],
)
async def test_bad_patch(
    client: httpx.AsyncClient, body: bytes | dict[str, Any], status: int
) -> None:
    if isinstance(body, bytes):
        response = await client.post("/_stub/patch", content=body)
    else:
        response = await client.post("/_stub/patch", json=body)
    assert response.status_code == status
    assert (await client.get("/api/trips/trip-1")).status_code == 200


# --- pure parts --------------------------------------------------------------------------


def test_scramble_answers_each_id_once_in_another_order() -> None:
    asked = [f"fl-{n}" for n in range(1, 30)]
    answered = scramble([*asked, "fl-3"])
    assert sorted(answered) == sorted(asked)
    assert answered != asked
    assert scramble(["a"]) == ["a"]
    assert scramble([]) == []


def test_cursor_round_trip() -> None:
    at = (-739951, -42)
    assert decode_cursor(encode_cursor(at)) == at
    with pytest.raises(InvalidError):
        decode_cursor("bm9wZQ")  # "nope"


def test_fault_table_decides_by_longest_prefix() -> None:
    table = FaultTable()
    table.set(Fault("/api", error_rate=1.0, status=502))
    table.set(Fault("/api/flights", latency_ms=10))
    assert table.decide("/api/flights/fl-1") == Verdict(latency_ms=10, hang=False, fail_status=None)
    assert table.decide("/api/trips") == Verdict(latency_ms=0, hang=False, fail_status=502)
    assert table.decide("/_stub/stats") is None


def test_settings_from_env() -> None:
    assert StubSettings.from_env({}) == StubSettings(
        seed=42, travelers=300, trips=2000, latency_ms=0
    )
    env = {"STUB_SEED": "7", "STUB_TRAVELERS": "5", "STUB_TRIPS": "9", "STUB_LATENCY_MS": "25"}
    assert StubSettings.from_env(env) == StubSettings(seed=7, travelers=5, trips=9, latency_ms=25)
    with pytest.raises(SettingsError, match="STUB_TRIPS='many': expected an integer >= 0"):
        StubSettings.from_env({"STUB_TRIPS": "many"})
