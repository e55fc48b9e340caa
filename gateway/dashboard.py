"""The migration dashboard: `/_gateway/dashboard`, one self-contained page (inline CSS and JS,
nothing fetched but this gateway's own JSON) that polls `/_gateway/routes` and
`/_gateway/dashboard/data` every 2 s and shows, per route, its target, canary share, error
rate, p50/p99 per backend and shadow match rate, with small SVG charts of the last minutes
(kept in the page: a reload starts them again).

Dev: open to all. Prod: the page itself holds no data and is served to anyone; its data is
for agents only (a token the gateway's verifier accepts, role agent). The page sends the
token given in its fragment, `/_gateway/dashboard#token=...` (a fragment never leaves the
browser, so the token is in no log).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from gateway.answers import json_response
from gateway.dashboard_page import PAGE
from gateway.identity import identify
from gateway.observability.hooks import METRICS
from gateway.observability.metrics import Histogram, Snapshot, labels_of
from gateway.routing import select
from gateway.routing.ramp_window import bucket_quantile
from gateway.routing.table import RouteTable
from gateway.runtime import Runtime

PAGE_PATH = "/_gateway/dashboard"
DATA_PATH = "/_gateway/dashboard/data"


def may_see(*, dev: bool, role: str | None) -> bool:
    """Dev: everyone (a laptop). Prod: agents, whose token the verifier accepted."""
    return dev or role == "agent"


def dashboard_data(table: RouteTable, stats: dict[str, Any], metrics: Snapshot) -> dict[str, Any]:
    """Per route of the table: where it goes, its canary (live percent when it ramps) and
    shadow, and p50/p99 per backend from the latency histograms (interpolated in buckets, ms)."""
    routes = []
    counted = stats.get("routes", {})
    for route in table.routes:
        canary = route.canary
        percent = None
        if canary is not None:
            percent = canary.percent
            if canary.auto is not None:
                percent = select.LIVE_PERCENTS.get((table.version, route.key), 0)
        names = {route.target, *(c.target for c in (canary, route.shadow) if c is not None)}
        backends = {name: _latency(metrics, name, route.key) for name in sorted(names)}
        routes.append(
            {
                "key": route.key,
                "target": route.target,
                "canary": None
                if canary is None
                else {"target": canary.target, "percent": percent, "auto": canary.auto is not None},
                "shadow": route.shadow.target if route.shadow is not None else None,
                "backends": backends,
                "seen": route.key in counted,
            }
        )
    return {"version": table.version, "routes": routes}


def _latency(metrics: Snapshot, backend: str, route_key: str) -> dict[str, Any]:
    labels = labels_of({"backend": backend, "route": route_key})
    histogram = metrics.histograms.get(("gateway_backend_seconds", labels)) or Histogram()
    buckets = tuple(histogram.buckets)

    def ms(q: float) -> float | None:
        value = bucket_quantile(buckets, histogram.count, q)
        if value is None or value == float("inf"):
            return None
        return round(value * 1000, 1)  # interpolated inside a bucket: no more digits than that

    calls = sum(
        count
        for (name, key), count in metrics.counters.items()
        if name == "gateway_backend_calls_total"
        and dict(key).get("route") == route_key
        and dict(key).get("backend") == backend
    )
    return {"calls": int(calls), "p50_ms": ms(0.5), "p99_ms": ms(0.99)}


class Dashboard:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def page(self, request: Request) -> Response:
        return HTMLResponse(PAGE, headers={"cache-control": "no-store"})

    async def data(self, request: Request) -> Response:
        identity = await identify(request.headers.get("authorization"), self.runtime.verifier)
        if not may_see(dev=self.runtime.settings.dev, role=identity.role):
            body = {"error": "forbidden", "message": "The dashboard's data is for agents."}
            return json_response(body, status=403)
        table = self.runtime.routes.current()
        data = dashboard_data(table, self.runtime.stats.snapshot(), METRICS.snapshot())
        return json_response(data)
