"""Writes through the REST passthrough drop what the gateway cached about the trip they
changed, before answering: GraphQL reads and the passthrough's own access facts (the
bookings on a traveler's trips) see the change at once, with no event feed to help."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import dev_token, gateway_env
from tests.support.processes import GATEWAY_FACTORY, Service, start_uvicorn, write_routes

pytestmark = pytest.mark.e2e

# Everything cached for far longer than the test runs: only an invalidation refreshes it.
LONG = {
    "CACHE_TTL_TRIP": "600",
    "CACHE_TTL_TRIP_LIST": "600",
    "CACHE_TTL_OWNED_BOOKINGS": "600",
    "CACHE_TTL_FLIGHT": "600",
}
TRIP = "query($id: ID!) { trip(id: $id) { id status } }"


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, Service]]:
    routes = write_routes(tmp_path_factory.mktemp("writes") / "routes.yaml")
    legacy = start_uvicorn("legacy_stub.app:app")
    try:
        env = gateway_env(legacy.url, routes, **LONG)  # no EVENTS_FEED_URL: no follower
        gateway = start_uvicorn(GATEWAY_FACTORY, factory=True, env=env, ready_path="/healthz")
        try:
            yield legacy, gateway
        finally:
            gateway.stop()
    finally:
        legacy.stop()


def bearer(traveler: str, role: str = "traveler") -> dict[str, str]:
    return {"authorization": f"Bearer {dev_token(traveler, role)}"}


def trips_of(legacy: Service, traveler: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{legacy.url}/api/travelers/{traveler}/trips", params={"limit": 100})
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_a_cancel_through_rest_is_seen_by_the_next_graphql_read(
    services: tuple[Service, Service],
) -> None:
    legacy, gateway = services
    trip = next(t for t in trips_of(legacy, "t-21") if t["status"] == "booked")

    def status() -> str:
        answer = httpx.post(
            f"{gateway.url}/graphql/web",
            json={"query": TRIP, "variables": {"id": trip["id"]}},
            headers=bearer("t-21"),
        ).json()
        return str(answer["data"]["trip"]["status"])

    assert status() == "BOOKED"  # now cached for 600 s
    cancelled = httpx.post(f"{gateway.url}/api/trips/{trip['id']}/cancel", headers=bearer("t-21"))
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert status() == "CANCELLED"


def test_a_new_trip_through_rest_makes_its_bookings_the_travelers_at_once(
    services: tuple[Service, Service],
) -> None:
    legacy, gateway = services
    mine = next(t for t in trips_of(legacy, "t-22") if t["flight_ids"])
    theirs = next(t for t in trips_of(legacy, "t-23") if t["flight_ids"])
    flight = theirs["flight_ids"][0]
    own = httpx.get(f"{gateway.url}/api/flights/{mine['flight_ids'][0]}", headers=bearer("t-22"))
    assert own.status_code == 200  # t-22's bookings are now cached for 600 s
    refused = httpx.get(f"{gateway.url}/api/flights/{flight}", headers=bearer("t-22"))
    assert refused.status_code == 403

    body = {
        "traveler_id": "t-22",
        "title": "Shared flight",
        "start_date": "2027-03-01",
        "end_date": "2027-03-02",
        "flight_ids": [flight],
    }
    booked = httpx.post(f"{gateway.url}/api/trips", json=body, headers=bearer("qa-1", "agent"))
    assert booked.status_code == 201

    now_mine = httpx.get(f"{gateway.url}/api/flights/{flight}", headers=bearer("t-22"))
    assert now_mine.status_code == 200 and now_mine.json()["id"] == flight
