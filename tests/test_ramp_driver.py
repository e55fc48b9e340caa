"""The ramp driver as the Lambda handler drives it: `settle()` after each invocation (a tick
when one is due, within a budget, due again when cut off), `absorb()` of each metrics drain
(latency windows across invocations), one JSON line per decision."""

from __future__ import annotations

import json
import os
import socket
from typing import Any

import pytest

from gateway.observability.metrics import Metrics
from gateway.routing import select
from gateway.routing.ramp_driver import TICK_S, RampDriver
from gateway.routing.ramp_state import LocalRampStore, RampStore, RedisRampStore
from gateway.routing.reload import RouteTableSource
from gateway.routing.stats import RouteStats
from gateway.routing.table import parse_table
from tests.support.redis_server import (
    RedisServer,
    redis_server_fixture,  # noqa: F401
    redis_session_server_fixture,  # noqa: F401
)

ROUTE = "GET /api/flights/**"
ROUTES = """version: 1
backends:
  legacy: {url: "http://legacy"}
  flights: {url: "http://flights"}
default: legacy
routes:
  - path: /api/flights/**
    methods: [GET]
    target: legacy
    canary:
      target: flights
      percent: 20
      auto: {step: 20, every: 1s, min_requests: 3, max_p99_ratio: 1.5}
"""
NOW = 1_795_000_000.0  # 2026-11-18T09:46:40Z


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Lambda:
    """One container's driver, with its own metrics and counters, and the lines it wrote."""

    def __init__(self, store: RampStore) -> None:
        self.table = parse_table(ROUTES, source="routes.yaml", env={})
        self.metrics, self.stats = Metrics(), RouteStats()
        self.lines: list[str] = []
        self.wall, self.monotonic = Clock(NOW), Clock(100.0)
        self.driver = RampDriver(
            RouteTableSource.from_table(self.table),
            self.stats,
            store,
            metrics=self.metrics,
            clock=self.wall,
            monotonic=self.monotonic,
            write=self.lines.append,
        )

    def invocation(self, backend: str, *, seconds: float, ok: bool = True) -> None:
        """One call through the route, then the handler's drain (EMF) handed to the driver."""
        self.stats.record(ROUTE, backend, ok=ok)
        self.metrics.observe("gateway_backend_seconds", seconds, backend=backend, route=ROUTE)
        self.driver.absorb(self.metrics.drain())

    def later(self, seconds: float) -> None:
        self.wall.now += seconds
        self.monotonic.now += seconds

    def percent(self) -> int | None:
        return select.LIVE_PERCENTS.get((self.table.version, ROUTE))

    def decisions(self) -> list[dict[str, Any]]:
        lines = [json.loads(line) for line in self.lines]
        for line in lines:
            line.pop("timestamp")
        return lines


@pytest.fixture(autouse=True)
def no_live_percents() -> None:
    select.LIVE_PERCENTS.clear()


async def test_a_tick_at_most_once_a_second_and_every_change_is_one_json_line() -> None:
    container = Lambda(LocalRampStore())
    await container.driver.settle(0.05)  # the cold invocation arms the ramp
    assert container.percent() == 20
    for _ in range(3):
        container.invocation("flights", seconds=0.004)
        container.invocation("legacy", seconds=0.004)
    container.later(0.5)
    await container.driver.settle(0.05)  # every: 1s is not over, and no tick is due anyway
    container.later(TICK_S)
    await container.driver.settle(0.05)
    assert container.percent() == 40
    container.invocation("flights", seconds=0.004, ok=False)
    await container.driver.settle(0.05)  # within TICK_S of the last tick: not yet
    assert container.percent() == 40
    container.later(TICK_S)
    await container.driver.settle(0.05)
    assert container.percent() == 0

    gateway = f"{socket.gethostname()}:{os.getpid()}"
    common = {"route": ROUTE, "gateway": gateway, "table_version": container.table.version}
    assert container.decisions() == [
        {
            "level": "INFO",
            "message": "ramp",
            "action": "armed",
            "percent": 20,
            "reason": "armed from the routes file",
            "rev": 1,
            **common,
        },
        {
            "level": "INFO",
            "message": "ramp",
            "action": "raise",
            "from_percent": 20,
            "percent": 40,
            "reason": "gates hold: 0/3 canary errors, p99 ×1.00",
            "rev": 2,
            **common,
        },
        {
            "level": "WARNING",
            "message": "ramp",
            "action": "rollback",
            "from_percent": 40,
            "percent": 0,
            "reason": "error rate 100.0% (1/1) > max_error_rate 1.0%",
            "rev": 3,
            **common,
        },
    ]


async def test_latency_windows_survive_the_per_invocation_drain() -> None:
    """On Lambda the registry is emptied after every invocation; the p99 gate still sees
    every sample since the window began."""
    container = Lambda(LocalRampStore())
    await container.driver.settle(0.05)
    for _ in range(3):
        container.invocation("flights", seconds=0.3)
        container.invocation("legacy", seconds=0.004)
    assert container.metrics.snapshot().histograms == {}  # drained
    container.later(TICK_S)
    await container.driver.settle(0.05)
    assert container.percent() == 0
    assert container.decisions()[-1]["reason"] == (
        "p99 300ms vs primary 4ms (×75.06) > max_p99_ratio 1.5"  # samples: 300 ms, 4 ms
    )


@pytest.mark.redis
async def test_a_tick_cut_off_by_its_budget_stays_due(redis_server: RedisServer) -> None:
    """Redis stalls (CLIENT PAUSE): the invocation's budget ends the tick; the next
    invocation runs it, though less than TICK_S has passed."""
    store = RedisRampStore(redis_server.url)
    container = Lambda(store)
    try:
        with redis_server.client() as r:
            r.execute_command("CLIENT", "PAUSE", 300, "ALL")
        await container.driver.settle(0.05)
        assert container.percent() is None and container.lines == []
        with redis_server.client() as r:
            r.execute_command("CLIENT", "UNPAUSE")
        await container.driver.settle(0.5)  # no time has passed on the container's clock
        assert container.percent() == 20
        assert [line["action"] for line in container.decisions()] == ["armed"]
    finally:
        await store.aclose()
