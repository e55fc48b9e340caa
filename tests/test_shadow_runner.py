"""ShadowRunner's bounds, against the stub app in process: the queue, the body size, and the
Lambda budget after which a running comparison is cut off (and never counted a mismatch)."""

from __future__ import annotations

import asyncio

import httpx

from gateway.backend import BackendClient
from gateway.routing.backends import Backend
from gateway.routing.select import RouteDecision
from gateway.routing.stats import RouteStats
from gateway.upstream import ShadowRunner
from legacy_stub.app import create_app as create_stub

KEY = "GET /api/flights/{id}"
LEGACY = Backend("legacy", "http://legacy", 1.0)
FLIGHTS = Backend("flights", "http://flights", 5.0)
DECISION = RouteDecision(LEGACY, None, KEY, "test", shadow=FLIGHTS)


def runner(**bounds: int) -> tuple[ShadowRunner, RouteStats, httpx.AsyncClient]:
    stub = create_stub()
    admin = httpx.AsyncClient(transport=httpx.ASGITransport(app=stub), base_url="http://stub")
    client = BackendClient(transport=lambda limits: httpx.ASGITransport(app=stub))
    stats = RouteStats()
    return ShadowRunner(client, stats, **bounds), stats, admin


def shadow_counts(stats: RouteStats) -> dict[str, int]:
    counts: dict[str, int] = stats.snapshot()["routes"][KEY]["shadow"]
    return {outcome: n for outcome, n in counts.items() if n}


async def primary(admin: httpx.AsyncClient, flight: str) -> bytes:
    return (await admin.get(f"/api/flights/{flight}")).content


async def test_a_comparison_runs_off_the_path_and_counts_a_match() -> None:
    shadows, stats, admin = runner()
    shadows.start(DECISION, "/api/flights/fl-1", None, await primary(admin, "fl-1"))
    assert shadows.pending == 1
    await shadows.drain()
    assert shadow_counts(stats) == {"match": 1}


async def test_a_full_queue_drops_and_counts() -> None:
    shadows, stats, admin = runner(max_pending=2)
    await admin.post("/_stub/faults", json={"path_prefix": "/api/flights", "latency_ms": 50})
    body = await primary(admin, "fl-1")
    for _ in range(5):
        shadows.start(DECISION, "/api/flights/fl-1", None, body)
    assert shadows.pending == 2
    await shadows.drain()
    assert shadow_counts(stats) == {"match": 2, "dropped": 3}


async def test_an_answer_over_the_size_bound_is_not_compared() -> None:
    shadows, stats, admin = runner(max_body=64)
    shadows.start(DECISION, "/api/flights/fl-1", None, await primary(admin, "fl-1"))
    assert shadows.pending == 0
    assert shadow_counts(stats) == {"too_large": 1}


async def test_settle_cuts_off_what_outlives_the_budget_and_never_calls_it_a_mismatch() -> None:
    shadows, stats, admin = runner()
    body = await primary(admin, "fl-1")
    shadows.start(DECISION, "/api/flights/fl-1", None, body)  # quick: finishes in the budget
    await asyncio.sleep(0)
    await admin.post("/_stub/faults", json={"path_prefix": "/api/flights/fl-2", "hang": True})
    shadows.start(DECISION, "/api/flights/fl-2", None, await primary(admin, "fl-1"))
    await shadows.settle(0.2)
    assert shadows.pending == 0
    assert shadow_counts(stats) == {"match": 1, "cut_off": 1}
