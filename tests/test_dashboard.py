"""The migration dashboard: a real gateway (with the monolith stub and the flights service)
serves /_gateway/dashboard; headless Chromium (Debian's package, driven as in
test_graphiql.py, no name resolving but loopback) loads it, and the page shows the numbers
/_gateway/routes and /_gateway/dashboard/data give. Every request the page makes goes to
the gateway. The screenshot stays in test-artifacts/dashboard.png.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.dashboard import may_see
from gateway.dashboard_page import PAGE
from tests.conftest import dev_token, gateway_env
from tests.support.chromium import ARTIFACTS, DevTools
from tests.support.processes import GATEWAY_FACTORY, Service, start_uvicorn

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
    canary: {target: flights, percent: 50, sticky: random}
    shadow: {target: flights}
"""


def test_only_agents_see_the_data_in_prod() -> None:
    assert may_see(dev=True, role=None)
    assert may_see(dev=False, role="agent")
    assert not may_see(dev=False, role="traveler") and not may_see(dev=False, role=None)


def test_the_page_names_no_outside_asset() -> None:
    assert "http://" not in PAGE and "https://" not in PAGE and " src=" not in PAGE
    assert "<link" not in PAGE and "@import" not in PAGE


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, Service]]:
    routes = tmp_path_factory.mktemp("dashboard") / "routes.yaml"
    routes.write_text(ROUTES, encoding="utf-8")
    legacy = start_uvicorn("legacy_stub.app:app")
    flights = start_uvicorn("services.flights.app:app")
    env = gateway_env(legacy.url, routes, FLIGHTS_URL=flights.url)
    gateway = start_uvicorn(GATEWAY_FACTORY, factory=True, env=env, ready_path="/healthz")
    try:
        yield gateway, flights
    finally:
        for service in (gateway, flights, legacy):
            service.stop()


def settled_routes(gateway: Service) -> dict[str, Any]:
    """/_gateway/routes once the shadow copies are all compared (they finish after answers)."""
    last: dict[str, Any] | None = None
    for _ in range(100):
        body: dict[str, Any] = httpx.get(f"{gateway.url}/_gateway/routes", timeout=5).json()
        if last is not None and body["stats"] == last["stats"]:
            return body
        last = body
        time.sleep(0.2)
    raise AssertionError("the route stats never settled")


def rate(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def test_the_dashboard_shows_the_gateways_numbers_offline(
    stack: tuple[Service, Service],
    browser: DevTools,
) -> None:
    gateway, flights = stack
    agent = {"authorization": f"Bearer {dev_token('qa-1', 'agent')}"}
    httpx.post(
        f"{flights.url}/_stub/faults",
        json={"path_prefix": "/api/flights/fl-2", "error_rate": 1.0, "status": 503},
    ).raise_for_status()  # some errors to show
    with httpx.Client(timeout=10) as client:
        for number in range(40):
            client.get(f"{gateway.url}/api/flights/fl-{1 + number % 3}", headers=agent)
    body = settled_routes(gateway)
    stats = body["stats"]["routes"][ROUTE]
    data = httpx.get(f"{gateway.url}/_gateway/dashboard/data", timeout=5).json()

    browser.send("Network.enable")
    browser.send("Page.enable")
    browser.send("Page.navigate", url=f"{gateway.url}/_gateway/dashboard")
    browser.wait_for("Number(document.body.dataset.polls || 0) >= 2")  # two points per chart
    section = f"document.querySelector('section[data-route=\"{ROUTE}\"]')"

    def shown(field: str) -> str:
        value: str = browser.evaluate(f"{section}.querySelector('[data-field={field}]').innerText")
        return value

    assert shown("requests") == str(stats["requests"]) == "40"
    assert shown("error_rate") == rate(stats["errors"], stats["requests"])
    assert stats["errors"] > 0
    moved = stats["by_backend"]["flights"]["requests"]
    assert shown("share") == rate(moved, stats["requests"]) and 0 < moved < 40
    shadow = stats["shadow"]
    assert shadow["match"] + shadow["mismatch"] > 0
    assert shown("shadow_match") == rate(shadow["match"], shadow["match"] + shadow["mismatch"])
    route = next(r for r in data["routes"] if r["key"] == ROUTE)
    for backend in ("legacy", "flights"):
        row = f"{section}.querySelector('tr[data-backend={backend}]')"
        p99 = browser.evaluate(f"{row}.querySelector('[data-field=p99]').innerText")
        assert p99 == f"≈{route['backends'][backend]['p99_ms']:g} ms"
    polylines = browser.evaluate(
        f"[...{section}.querySelectorAll('polyline')].map(p => p.getAttribute('points'))"
    )
    assert len(polylines) == 3 and all(points.count(",") >= 2 for points in polylines)

    ARTIFACTS.mkdir(exist_ok=True)
    shot = browser.send("Page.captureScreenshot", format="png")
    (ARTIFACTS / "dashboard.png").write_bytes(base64.b64decode(shot["data"]))
    requested = {
        event["params"]["request"]["url"]
        for event in browser.events
        if event.get("method") == "Network.requestWillBeSent"
    }
    assert requested and all(url.startswith(gateway.url + "/") for url in requested), requested


def test_prod_keeps_the_data_for_agents(tmp_path: Path) -> None:
    routes = tmp_path / "routes.yaml"
    routes.write_text(ROUTES, encoding="utf-8")
    env = gateway_env("http://127.0.0.1:9", routes, GATEWAY_STAGE="prod")
    env |= {"GATEWAY_JWT_ISSUER": "https://issuer.test", "GATEWAY_JWT_AUDIENCE": "bff"}
    prod = start_uvicorn(GATEWAY_FACTORY, factory=True, env=env, ready_path="/healthz")
    try:
        assert httpx.get(f"{prod.url}/_gateway/dashboard").status_code == 200  # holds no data
        data = f"{prod.url}/_gateway/dashboard/data"
        assert httpx.get(data).status_code == 403
        # A token prod's verifier does not accept (no issuer, no audience) is no agent.
        forged = {"authorization": f"Bearer {dev_token('qa-1', 'agent')}"}
        assert httpx.get(data, headers=forged).status_code == 403
    finally:
        prod.stop()
