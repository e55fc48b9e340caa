"""A self-ramping canary end to end: two gateway processes sharing one redis-server, the
monolith stub and the flights service as real processes, traffic driven by the test.

The canary ramps 25 → 50 → 75 while flights answers; the flights service's fault injection
is then turned on (every /api/flights call a 503) and the canary drops to 0 on both gateways
and stays there: the shared history has raises, one rollback and nothing after it, and the
flights service (the witness) gets no more requests once both gateways have seen it.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import NO_CACHE, dev_token, gateway_env
from tests.support.processes import GATEWAY_FACTORY, ROOT, Service, start_uvicorn
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.e2e

ROUTE = "GET /api/flights/**"
ROUTES = """version: 1
backends:
  legacy: {url: "${LEGACY_URL}", timeout_ms: 1500}
  flights: {url: "${FLIGHTS_URL}", timeout_ms: 1500}
default: legacy
routes:
  - path: /api/flights/**
    methods: [GET]
    target: legacy
    canary:
      target: flights
      percent: 25
      sticky: random
      # Loopback latencies sit in the lowest buckets: the p99 gate is not what is tested here.
      auto: {step: 25, every: 1s, min_requests: 3, max_error_rate: 0.2, max_p99_ratio: 100}
"""


class Traffic:
    """GETs of one flight, alternating between the gateways, until stopped."""

    def __init__(self, gateways: list[Service]) -> None:
        self._urls = itertools.cycle(f"{g.url}/api/flights/fl-1" for g in gateways)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.statuses: list[int] = []

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        headers = {"authorization": f"Bearer {dev_token('qa-1', 'agent')}"}
        with httpx.Client(timeout=5) as client:
            while not self._stop.is_set():
                self.statuses.append(client.get(next(self._urls), headers=headers).status_code)
                time.sleep(0.01)


def canary(gateway: Service) -> dict[str, Any]:
    body = httpx.get(f"{gateway.url}/_gateway/routes", timeout=5).json()
    ramp: dict[str, Any] = body["canaries"][ROUTE]
    return ramp


def wait_for(what: str, done: Callable[[], bool], timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if done():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def flights_calls(flights: Service) -> int:
    counts = httpx.get(f"{flights.url}/_stub/stats").json()["requests"]
    return sum(n for key, n in counts.items() if "/api/flights" in key)


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[tuple[list[Service], Service]]:
    routes = tmp_path / "routes.yaml"
    routes.write_text(ROUTES, encoding="utf-8")
    with RedisServer() as redis_server:
        legacy = start_uvicorn("legacy_stub.app:app")
        flights = start_uvicorn("services.flights.app:app")
        env = gateway_env(
            legacy.url, routes, FLIGHTS_URL=flights.url, REDIS_URL=redis_server.url, **NO_CACHE
        )
        gateways: list[Service] = []
        try:
            for _ in range(2):
                gateways.append(
                    start_uvicorn(GATEWAY_FACTORY, factory=True, env=env, ready_path="/healthz")
                )
            yield gateways, flights
        finally:
            for service in (*gateways, flights, legacy):
                service.stop()


def test_the_canary_ramps_then_rolls_back_for_good_on_every_gateway(
    fleet: tuple[list[Service], Service],
) -> None:
    gateways, flights = fleet
    with Traffic(gateways) as traffic:
        wait_for("the ramp to reach 75%", lambda: canary(gateways[0])["percent"] >= 75)
        assert flights_calls(flights) > 0
        fault = {"path_prefix": "/api/flights", "error_rate": 1.0, "status": 503}
        httpx.post(f"{flights.url}/_stub/faults", json=fault).raise_for_status()
        wait_for(
            "both gateways to roll back",
            lambda: all(canary(g)["percent"] == 0 and canary(g)["rolled_back"] for g in gateways),
        )
        before = flights_calls(flights)
        sent = len(traffic.statuses)
        time.sleep(3.5)  # three and a half `every`s of healthy-looking legacy traffic
        assert len(traffic.statuses) > sent + 20
        assert flights_calls(flights) == before  # nobody moved back

    views = [canary(g) for g in gateways]
    assert views[0]["history"] == views[1]["history"]  # one shared state, through Redis
    assert all(view["store"] == "redis" for view in views)
    actions = [line.split()[2] for line in views[0]["history"]]
    assert actions[0] == "armed" and actions[-1] == "rollback"
    assert set(actions[1:-1]) == {"raise"} and len(actions) >= 4
    assert "error rate" in views[0]["reason"] and "max_error_rate" in views[0]["reason"]
    percents = [int(line.split()[3].rstrip("%")) for line in views[0]["history"][1:]]
    assert percents == sorted(percents)  # each raise from where the last one left off

    shown = subprocess.run(
        [sys.executable, "-m", "gateway", "routes", "status"]
        + [arg for g in gateways for arg in ("--gateway", g.url)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert f"{gateways[1].url} {ROUTE}: canary → flights at 0%, ROLLED BACK" in shown
    assert shown.count("rollback 75% → 0%") + shown.count("rollback 100% → 0%") == 2, shown
    assert "raise 25% → 50%: gates hold" in shown
