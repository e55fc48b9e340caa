"""The extracted flights service: the monolith's flights, byte for byte, and nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from legacy_stub.data import build_dataset
from legacy_stub.factory import create_app as create_monolith
from services.flights.app import create_app

SIZE = {"seed": 11, "travelers": 25, "trips": 180}


def client_for(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://stub")


@pytest.fixture
async def flights() -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(create_app(build_dataset(**SIZE))) as client:
        yield client


@pytest.fixture
async def monolith() -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(create_monolith(build_dataset(**SIZE))) as client:
        yield client


async def test_serves_the_monoliths_flights_byte_for_byte(
    flights: httpx.AsyncClient, monolith: httpx.AsyncClient
) -> None:
    for id in ("fl-1", "fl-2", "fl-77", "fl-nope"):
        mine, theirs = (
            await flights.get(f"/api/flights/{id}"),
            await monolith.get(f"/api/flights/{id}"),
        )
        assert (mine.status_code, mine.content) == (theirs.status_code, theirs.content)
        assert mine.headers["content-type"] == theirs.headers["content-type"]
    ids = ",".join(f"fl-{n}" for n in range(1, 101))
    mine = await flights.get("/api/flights", params={"ids": ids})
    theirs = await monolith.get("/api/flights", params={"ids": ids})
    assert mine.content == theirs.content
    assert len(mine.json()["items"]) == 100


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/trips/trip-1"),
        ("GET", "/api/trips?ids=trip-1"),
        ("GET", "/api/travelers/t-1"),
        ("GET", "/api/travelers/t-1/trips"),
        ("GET", "/api/hotel-stays/hs-1"),
        ("GET", "/api/car-rentals?ids=cr-1"),
        ("GET", "/api/destinations/top"),
        ("GET", "/api/fx?base=EUR"),
        ("POST", "/api/trips"),
        ("POST", "/api/flights"),
    ],
)
async def test_everything_else_is_404(flights: httpx.AsyncClient, method: str, path: str) -> None:
    response = await flights.request(method, path)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_has_its_own_stats_faults_and_patch(
    flights: httpx.AsyncClient, monolith: httpx.AsyncClient
) -> None:
    await flights.post("/_stub/patch", json={"id": "fl-3", "fields": {"seat": None}})
    await flights.post("/_stub/faults", json={"path_prefix": "/api/flights/fl-4", "error_rate": 1})
    assert (await flights.get("/api/flights/fl-3")).json()["seat"] is None
    assert (await flights.get("/api/flights/fl-4")).status_code == 503
    assert (await monolith.get("/api/flights/fl-4")).status_code == 200
    assert (await flights.get("/_stub/stats")).json() == {
        "requests": {"GET /api/flights/{id}": 2},
        "total": 2,
    }
    assert (await monolith.get("/_stub/stats")).json() == {
        "requests": {"GET /api/flights/{id}": 1},
        "total": 1,
    }


async def test_module_level_apps_agree() -> None:
    from legacy_stub.app import app as monolith_app
    from services.flights.app import app as flights_app

    async with client_for(monolith_app) as monolith, client_for(flights_app) as flights:
        for id in ("fl-1", "fl-500", "fl-3000"):
            mine, theirs = (
                await flights.get(f"/api/flights/{id}"),
                await monolith.get(f"/api/flights/{id}"),
            )
            assert mine.status_code == theirs.status_code == 200
            assert mine.content == theirs.content
