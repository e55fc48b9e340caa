"""Strangler routing end to end: the monolith stub, the flights service and the gateway as
real processes; routes.yaml edited while they run; stats prove where requests went."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import NO_CACHE, dev_token, gateway_env
from tests.support.processes import GATEWAY_FACTORY, ROOT, Service, start_uvicorn

pytestmark = pytest.mark.e2e

HEAD = """version: 1
backends:
  legacy: {url: "${LEGACY_URL}", timeout_ms: 1500}
  flights: {url: "${FLIGHTS_URL}", timeout_ms: 1500}
default: legacy
routes:
"""


@dataclass
class Routing:
    legacy: Service
    flights: Service
    gateway: Service
    routes: Path

    def write(self, body: str) -> str:
        """Write routes.yaml and wait until the gateway serves it; returns the new version."""
        health = self.health()["routes"]
        before, error = health["version"], health["error"]
        if self.routes.read_text(encoding="utf-8") == HEAD + body and not error:
            return str(before)
        self.routes.write_text(HEAD + body, encoding="utf-8")
        return self._wait(
            lambda h: h["routes"]["version"] != before or h["routes"]["error"] not in (None, error)
        )

    def write_broken(self, text: str) -> dict[str, Any]:
        self.routes.write_text(text, encoding="utf-8")
        self._wait(lambda h: h["routes"]["error"] is not None)
        health: dict[str, Any] = self.health()
        return health

    def _wait(self, done: Any) -> str:
        for _ in range(100):  # the gateway promises a swap within 2 s
            health = self.health()
            if done(health):
                version: str = health["routes"]["version"]
                return version
            time.sleep(0.05)
        raise AssertionError(f"routes.yaml not picked up: {self.health()}")

    def health(self) -> Any:
        return httpx.get(f"{self.gateway.url}/healthz").json()

    def stats(self, service: Service) -> dict[str, int]:
        counts = httpx.get(f"{service.url}/_stub/stats").json()["requests"]
        return {k: n for k, n in counts.items() if n}

    def reset(self) -> None:
        for service in (self.legacy, self.flights):
            httpx.post(f"{service.url}/_stub/reset").raise_for_status()

    def token(self, traveler: str, role: str = "traveler") -> str:
        return dev_token(traveler, role)

    def get(self, path: str, *, traveler: str | None = None, **headers: str) -> httpx.Response:
        """As `traveler`, else as an agent (who may read everything: access is not tested here)."""
        token = self.token(traveler) if traveler else self.token("qa-1", "agent")
        headers["authorization"] = f"Bearer {token}"
        return httpx.get(f"{self.gateway.url}{path}", headers=headers, timeout=10)


@pytest.fixture(scope="module")
def routing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Routing]:
    routes = tmp_path_factory.mktemp("routing") / "routes.yaml"
    routes.write_text(HEAD + "  - {path: /api/flights/**, target: legacy}\n", encoding="utf-8")
    legacy = start_uvicorn("legacy_stub.app:app")
    flights = start_uvicorn("services.flights.app:app")
    env = gateway_env(legacy.url, routes, FLIGHTS_URL=flights.url, **NO_CACHE)
    gateway = start_uvicorn(GATEWAY_FACTORY, factory=True, env=env, ready_path="/healthz")
    try:
        yield Routing(legacy, flights, gateway, routes)
    finally:
        for service in (gateway, flights, legacy):
            service.stop()


@pytest.fixture
def r(routing: Routing) -> Routing:
    routing.reset()
    return routing


def patch_flight(service: Service, flight_id: str, **fields: Any) -> None:
    httpx.post(
        f"{service.url}/_stub/patch", json={"id": flight_id, "fields": fields}
    ).raise_for_status()


WEB_FLIGHTS = "query($id: ID!) { trip(id: $id) { id flights { id seat } } }"


def trip_with_flights(r: Routing) -> dict[str, Any]:
    trips = httpx.get(f"{r.legacy.url}/api/travelers/t-1/trips", params={"limit": 50}).json()[
        "items"
    ]
    trip: dict[str, Any] = next(t for t in trips if t["flight_ids"])
    return trip


def test_flipping_flights_moves_rest_and_graphql_traffic_and_back(r: Routing) -> None:
    trip = trip_with_flights(r)
    query = {"query": WEB_FLIGHTS, "variables": {"id": trip["id"]}}
    auth = {"authorization": f"Bearer {r.token('t-1')}"}

    def exercise() -> None:
        assert r.get("/api/flights/fl-1").status_code == 200
        assert r.get(f"/api/flights?ids={','.join(trip['flight_ids'])}").status_code == 200
        answer = httpx.post(f"{r.gateway.url}/graphql/web", json=query, headers=auth).json()
        assert [f["id"] for f in answer["data"]["trip"]["flights"]] == trip["flight_ids"]

    for target, other in (("flights", "legacy"), ("legacy", "flights")):
        r.write(f"  - {{path: /api/flights/**, target: {target}}}\n")
        r.reset()
        exercise()
        moved = r.flights if target == "flights" else r.legacy
        stayed = r.legacy if target == "flights" else r.flights
        flights_only = {k: n for k, n in r.stats(moved).items() if "/api/flights" in k}
        assert flights_only == {"GET /api/flights": 2, "GET /api/flights/{id}": 1}
        assert not any("/api/flights" in key for key in r.stats(stayed)), other


def answered_by_flights(r: Routing, traveler: str) -> bool:
    seat = r.get("/api/flights/fl-1", traveler=traveler).json()["seat"]
    return bool(seat == "CANARY")


def test_sticky_canary_moves_a_growing_fixed_set_of_travelers(r: Routing) -> None:
    patch_flight(r.flights, "fl-1", seat="CANARY")  # tells the two backends' answers apart
    travelers = [f"t-{n}" for n in range(1, 301)]
    moved: dict[int, set[str]] = {}
    for percent in (0, 10, 25, 100):
        r.write(  # any signed-in traveler may read fl-1 here: routing is under test
            "  - path: /api/flights/{id}\n    target: legacy\n    access: signed-in\n"
            f"    canary: {{target: flights, percent: {percent}, sticky: traveler}}\n"
        )
        moved[percent] = {t for t in travelers if answered_by_flights(r, t)}
    assert moved[0] == set()
    assert moved[100] == set(travelers)
    assert moved[10] <= moved[25]  # whoever moved stays moved as the percentage grows
    assert 45 <= len(moved[25]) <= 105, len(moved[25])  # 300 travelers, 25% → about 75 (±3.5 σ)
    again = {t for t in sorted(moved[25])[:20] if answered_by_flights(r, t)}
    assert again == set(sorted(moved[25])[:20])  # sticky across requests


def test_route_target_override_is_for_agents_only(r: Routing) -> None:
    patch_flight(r.flights, "fl-1", seat="CANARY")
    r.write("  - {path: /api/flights/**, target: legacy, access: signed-in}\n")
    as_traveler = r.get("/api/flights/fl-1", traveler="t-1", **{"x-route-target": "flights"})
    as_agent = httpx.get(
        f"{r.gateway.url}/api/flights/fl-1",
        headers={
            "authorization": f"Bearer {r.token('qa-1', 'agent')}",
            "x-route-target": "flights",
        },
    )
    assert as_traveler.json()["seat"] != "CANARY"
    assert as_agent.json()["seat"] == "CANARY"


def route_stats(r: Routing) -> Any:
    return httpx.get(f"{r.gateway.url}/_gateway/routes").json()["stats"]["routes"]


def wait_for_shadows(r: Routing, key: str, total: int) -> dict[str, int]:
    for _ in range(100):
        shadow: dict[str, int] = route_stats(r).get(key, {}).get("shadow", {})
        if sum(shadow.values()) >= total:
            return shadow
        time.sleep(0.05)
    raise AssertionError(route_stats(r))


def test_shadow_counts_a_mismatch_and_never_changes_the_answer(r: Routing) -> None:
    r.write(
        "  - path: /api/flights/{id}\n    methods: [GET]\n    target: legacy\n"
        "    shadow: {target: flights, percent: 100, ignore: ['$.updated_at']}\n"
    )
    patch_flight(r.flights, "fl-3", seat="SHADOW")
    key = "GET /api/flights/{id}"
    before = route_stats(r).get(key, {}).get("shadow", {"match": 0, "mismatch": 0})
    legacy_fl3 = httpx.get(f"{r.legacy.url}/api/flights/fl-3").json()
    assert r.get("/api/flights/fl-2").status_code == 200
    assert r.get("/api/flights/fl-3").json() == legacy_fl3  # the client gets the monolith's
    shadow = wait_for_shadows(r, key, sum(before.values()) + 2)
    assert shadow["match"] - before.get("match", 0) == 1
    assert shadow["mismatch"] - before.get("mismatch", 0) == 1
    assert r.stats(r.flights) == {"GET /api/flights/{id}": 2}

    httpx.post(f"{r.flights.url}/_stub/faults", json={"path_prefix": "/api/flights", "hang": True})
    agent = {"authorization": f"Bearer {r.token('qa-1', 'agent')}"}
    answer = httpx.get(f"{r.gateway.url}/api/flights/fl-4", headers=agent, timeout=1.0)
    assert answer.status_code == 200 and answer.json()["id"] == "fl-4"


def test_an_invalid_file_keeps_the_last_good_table(r: Routing) -> None:
    good = r.write("  - {path: /api/flights/**, target: flights}\n")
    health = r.write_broken(HEAD + "  - {path: /api/flights/**, target: nowhere}\n")
    assert health["routes"]["version"] == good
    assert "nowhere" in health["routes"]["error"] and "routes[0]" in health["routes"]["error"]
    assert ":7:" in health["routes"]["error"] or "line 7" in health["routes"]["error"]
    r.reset()
    assert r.get("/api/flights/fl-1").status_code == 200
    assert r.stats(r.flights) == {"GET /api/flights/{id}": 1}  # still the good table
    r.write_broken("version: [1\n")  # not even YAML
    assert r.health()["routes"]["version"] == good
    fixed = r.write("  - {path: /api/flights/**, target: legacy}\n")
    assert fixed != good and r.health()["routes"]["error"] is None


def test_passthrough_passes_statuses_and_bodies_unchanged(r: Routing) -> None:
    r.write("  - {path: /api/flights/**, target: flights}\n")
    missing = r.get("/api/trips/trip-999999")
    direct = httpx.get(f"{r.legacy.url}/api/trips/trip-999999")
    assert (missing.status_code, missing.json()) == (404, direct.json())
    body = {
        "traveler_id": "t-9",
        "title": "Via passthrough",
        "start_date": "2027-05-01",
        "end_date": "2027-05-03",
        "flight_ids": [],
        "hotel_stay_ids": [],
        "car_rental_ids": [],
    }
    agent = {"authorization": f"Bearer {r.token('qa-1', 'agent')}"}
    created = httpx.post(f"{r.gateway.url}/api/trips", json=body, headers=agent)
    assert created.status_code == 201
    assert {k: created.json()[k] for k in ("traveler_id", "title", "status")} == {
        "traveler_id": "t-9",
        "title": "Via passthrough",
        "status": "booked",
    }
    assert created.headers["x-request-id"]
    query = r.get("/api/destinations/top?limit=2")
    assert query.json() == httpx.get(f"{r.legacy.url}/api/destinations/top?limit=2").json()
    assert r.get("/_stub/stats").status_code == 404  # the admin API is never routed
    assert r.get("/api/../_stub/stats").status_code == 404


def test_a_hanging_backend_answers_504_within_its_timeout(r: Routing) -> None:
    httpx.post(f"{r.legacy.url}/_stub/faults", json={"path_prefix": "/api/trips", "hang": True})
    answer = r.get("/api/trips/trip-1")
    assert answer.status_code == 504
    assert answer.json()["error"] == "gateway_timeout"
    assert "127.0.0.1" not in answer.text and "Traceback" not in answer.text
    httpx.post(
        f"{r.legacy.url}/_stub/faults", json={"path_prefix": "/api/trips", "error_rate": 1.0}
    )
    failing = r.get("/api/trips/trip-1")
    assert failing.status_code == 503  # the backend's own answer, passed on unchanged
    assert failing.json()["error"] == "unavailable"


def test_routes_status_reads_the_running_gateway(r: Routing) -> None:
    import subprocess
    import sys

    r.write("  - {path: /api/flights/**, target: flights}\n")
    r.get("/api/flights/fl-1")
    env = {"LEGACY_URL": r.legacy.url, "FLIGHTS_URL": r.flights.url, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway",
            "routes",
            "status",
            "--file",
            str(r.routes),
            "--gateway",
            r.gateway.url,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert "migrated" in done.stdout and "/api/flights/{id}" in done.stdout
