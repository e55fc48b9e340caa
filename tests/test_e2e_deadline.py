"""One deadline per request and a breaker per backend, against real processes: the stub
monolith (its faults slow or break it, its counters witness what the gateway sent) and
uvicorn gateways with a 1.5 s request deadline."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import NO_CACHE, dev_token, gateway_env
from tests.support.processes import GATEWAY_FACTORY, Service, start_uvicorn, write_routes

pytestmark = pytest.mark.e2e

# Each slowed call answers well inside its backend's own timeout (3 s for legacy), but the
# chain does not fit in the request's 1.5 s: the trip (0.4 s), then its bookings and traveler
# (1.2 s each, started only once the trip is in, so cut by the deadline whatever the load).
SLOW_CHAIN = {
    "/api/trips": 400,
    "/api/flights": 1200,
    "/api/hotel-stays": 1200,
    "/api/travelers": 1200,
}
DEADLINE = {"GATEWAY_REQUEST_TIMEOUT_MS": "1500", "GATEWAY_BREAKER_FAILURES": "3"}
# The cool-down is long enough that the open breaker is seen open on a slow machine too.
BREAKER = {"GATEWAY_BREAKER_FAILURES": "3", "GATEWAY_BREAKER_COOLDOWN_MS": "2500"}


class Stub:
    def __init__(self, service: Service) -> None:
        self.url = service.url

    def reset(self) -> None:
        httpx.post(f"{self.url}/_stub/reset").raise_for_status()

    def fault(self, **fault: Any) -> None:
        httpx.post(f"{self.url}/_stub/faults", json=fault).raise_for_status()

    def stats(self) -> dict[str, int]:
        counts: dict[str, int] = httpx.get(f"{self.url}/_stub/stats").json()["requests"]
        return {key: n for key, n in counts.items() if n}

    def get(self, path: str, **params: Any) -> Any:
        return httpx.get(self.url + path, params=params, timeout=10).json()


@pytest.fixture(scope="module")
def stub() -> Iterator[Stub]:
    service = start_uvicorn("legacy_stub.app:app")
    try:
        yield Stub(service)
    finally:
        service.stop()


def start_gateway(stub: Stub, routes: Path, settings: dict[str, str]) -> Service:
    env = gateway_env(stub.url, routes, **NO_CACHE, **settings)
    return start_uvicorn(GATEWAY_FACTORY, factory=True, env=env, ready_path="/healthz")


@pytest.fixture(scope="module")
def gateway(stub: Stub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    routes = write_routes(tmp_path_factory.mktemp("deadline") / "routes.yaml")
    service = start_gateway(stub, routes, DEADLINE)
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def clean(stub: Stub) -> Stub:
    stub.reset()
    return stub


def breakers(gateway: Service) -> dict[str, Any]:
    found: dict[str, Any] = httpx.get(f"{gateway.url}/_gateway/routes").json()["breakers"]
    return found


TRIP = """query($id: ID!) {
  trip(id: $id) { id title status }
  bookings: trip(id: $id) { flights { id } hotelStays { id } }
  owner: trip(id: $id) { traveler { id trips(first: 5) { items { id } } } }
  topDestinations(limit: 2) { code }
}"""


def test_a_slow_chain_ends_in_a_partial_answer_with_backend_timeouts(
    clean: Stub, gateway: Service
) -> None:
    trip = clean.get("/api/travelers/t-1/trips", limit=1)["items"][0]
    top = clean.get("/api/destinations/top", limit=2)["items"]
    clean.reset()
    for prefix, latency_ms in SLOW_CHAIN.items():
        clean.fault(path_prefix=prefix, latency_ms=latency_ms)

    answer = httpx.post(
        f"{gateway.url}/graphql/web",
        json={"query": TRIP, "variables": {"id": trip["id"]}},
        headers={"authorization": f"Bearer {dev_token('t-1')}", "accept": "application/json"},
        timeout=30,
    )

    assert answer.status_code == 200
    body = answer.json()
    assert body["data"] == {
        # what the first call of the chain brought is there ...
        "trip": {"id": trip["id"], "title": trip["title"], "status": trip["status"].upper()},
        # ... what needed a second call, late by then, is null (all their fields are non-null)
        "bookings": None,
        "owner": None,
        "topDestinations": [{"code": d["code"]} for d in top],
    }
    assert {error["extensions"]["code"] for error in body["errors"]} == {"BACKEND_TIMEOUT"}
    assert {tuple(error["path"][:2]) for error in body["errors"]} >= {("owner", "traveler")}
    assert {error["path"][0] for error in body["errors"]} == {"bookings", "owner"}
    stats = clean.stats()
    # The traveler would have arrived after the deadline, so their trips were never asked for:
    # without a deadline the gateway would have waited (1.2 s < the 3 s timeout) and asked.
    assert "GET /api/travelers/{id}/trips" not in stats
    assert stats["GET /api/travelers"] == 1
    # Cut by the request's deadline, not by their own timeouts: no breaker counts against them.
    assert breakers(gateway)["legacy"] == {"state": "closed", "consecutive_failures": 0}


def test_a_hanging_backend_answers_rest_with_a_504_at_the_deadline(
    clean: Stub, gateway: Service
) -> None:
    clean.fault(path_prefix="/api/fx", hang=True)

    answer = httpx.get(f"{gateway.url}/api/fx", params={"base": "EUR"}, timeout=30)

    assert answer.status_code == 504
    assert answer.json() == {
        "error": "gateway_timeout",
        "message": answer.json()["message"],
    }
    assert "backend" in answer.json()["message"] and "http" not in answer.json()["message"]
    assert clean.stats() == {"GET /api/fx": 1}
    # The request's deadline (1.5 s) cut it, not the backend's own timeout (3 s): not counted.
    assert breakers(gateway)["legacy"] == {"state": "closed", "consecutive_failures": 0}


@pytest.fixture
def breaking(clean: Stub, tmp_path: Path) -> Iterator[Service]:
    """A gateway of its own: its breakers start closed, and open after 3 failures."""
    service = start_gateway(clean, write_routes(tmp_path / "routes.yaml"), BREAKER)
    try:
        yield service
    finally:
        service.stop()


def fx(gateway: Service) -> httpx.Response:
    return httpx.get(f"{gateway.url}/api/fx", params={"base": "EUR"}, timeout=30)


def wait_until(done: Callable[[], bool]) -> None:
    """Polls (no timing is asserted; the limit only keeps a broken test from hanging)."""
    give_up = time.monotonic() + 15
    while not done():
        assert time.monotonic() < give_up
        time.sleep(0.02)


def test_a_dead_backend_opens_its_breaker_then_one_probe_closes_it(
    clean: Stub, breaking: Service
) -> None:
    clean.fault(path_prefix="/api/fx", error_rate=1.0, status=503)
    assert [fx(breaking).status_code for _ in range(3)] == [503, 503, 503]  # passed through
    assert breakers(breaking)["legacy"] == {"state": "open", "consecutive_failures": 3}

    # Open: every call to that backend fails at once, and none reaches it.
    refused = fx(breaking)
    query = {"query": "{ topDestinations(limit: 2) { code } }"}
    graphql = httpx.post(f"{breaking.url}/graphql/web", json=query, timeout=30).json()
    assert refused.status_code == 502
    assert refused.json()["error"] == "bad_gateway"
    assert graphql["data"] is None
    assert [e["extensions"]["code"] for e in graphql["errors"]] == ["BACKEND_UNAVAILABLE"]
    assert clean.stats() == {"GET /api/fx": 3}

    # After the cool-down exactly one probe goes through; while it runs, the others fail fast.
    wait_until(lambda: breakers(breaking)["legacy"]["state"] == "half-open")
    clean.reset()
    clean.fault(path_prefix="/api/fx", latency_ms=1000)  # the probe is slow, not failing
    with ThreadPoolExecutor(max_workers=1) as pool:
        probe = pool.submit(fx, breaking)
        wait_until(lambda: bool(clean.stats()))  # the probe has reached the stub
        others = [fx(breaking) for _ in range(2)]
        assert probe.result().status_code == 200
    assert [o.status_code for o in others] == [502, 502]
    assert clean.stats() == {"GET /api/fx": 1}

    # The probe's success closed the breaker: calls go through again.
    assert breakers(breaking)["legacy"] == {"state": "closed", "consecutive_failures": 0}
    assert fx(breaking).status_code == 200
    assert clean.stats() == {"GET /api/fx": 2}
