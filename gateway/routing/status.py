"""`routes status`: the migration ledger, with live numbers when a gateway is given.

    METHOD  PATH               STAGE       BACKEND  RULE
    GET     /api/flights/{id}  migrated    flights  routes[0]
    GET     /api/flights       canary 25%  legacy   routes[1]; canary 25% → flights (traveler); …

With `--ramps`, the self-ramping canaries' shared state is read from Redis (`fetch_ramps`),
as the gateways read it: the way to see them on Lambda, where `/_gateway/routes` is not
routed. With a gateway, its `GET /_gateway/routes` answer ({"health": ..., "stats": ...}) adds
requests, error rate and shadow match rate per route, and whether it runs the same version.
When the answer also carries the table the gateway runs ("table": {"source": "routes.yaml",
"text": <the file with its ${VAR}s expanded>}), the ledger is the gateway's own and no local
file is needed; without it, `render_live` shows the gateway's numbers by route key alone.
"""

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from gateway.routing.ledger import LedgerRow, migration_ledger, unused_routes
from gateway.routing.ramp import RampState
from gateway.routing.table import RouteTable, parse_table

STATS_PATH = "/_gateway/routes"
_HEADERS = ("METHOD", "PATH", "STAGE", "BACKEND", "RULE")
_LIVE_HEADERS = ("REQUESTS", "ERRORS", "SHADOW MATCH")


class StatusError(Exception):
    """The gateway could not be asked, or did not answer as expected."""


@dataclass(frozen=True)
class GatewayView:
    """What a running gateway said; `table` is None when it does not serve its table."""

    health: dict[str, Any]
    stats: dict[str, Any]
    table: RouteTable | None = None
    canaries: dict[str, Any] | None = None  # self-ramping canaries (ramp_driver.view())


def fetch_gateway(url: str, *, timeout_s: float = 5.0) -> GatewayView:
    """The running gateway's health, stats and, when served, table (RoutesError if that
    table does not parse); the one place that handles httpx errors."""
    address = url.rstrip("/") + STATS_PATH
    try:
        response = httpx.get(address, timeout=timeout_s)
        response.raise_for_status()
        body = response.json()
    except httpx.HTTPError as exc:
        raise StatusError(f"cannot get {address}: {exc}") from exc
    except ValueError as exc:
        raise StatusError(f"{address} did not answer JSON") from exc
    if not isinstance(body, dict) or not all(
        isinstance(body.get(k), dict) for k in ("health", "stats")
    ):
        raise StatusError(f'{address} did not answer {{"health": {{...}}, "stats": {{...}}}}')
    table = _served_table(body.get("table"), address)
    canaries = body.get("canaries") if isinstance(body.get("canaries"), dict) else None
    return GatewayView(body["health"], body["stats"], table, canaries)


def fetch_ramps(redis_url: str, *, cluster: bool, table: RouteTable | None) -> dict[str, Any]:
    """Each ramped route's latest shared state, as `render_canaries` takes it; `table` (the
    local file, when it loads) names the canaries' targets. The one place that handles
    Redis errors here."""
    from redis.exceptions import RedisError

    from gateway.routing.ramp_state import RedisRampStore

    async def read() -> dict[str, tuple[str, RampState]]:
        store = RedisRampStore(redis_url, cluster=cluster, timeout_s=5.0)
        try:
            return await store.latest()
        finally:
            await store.aclose()

    try:
        found = asyncio.run(read())
    except (RedisError, OSError) as exc:
        raise StatusError(f"cannot read the ramps from $REDIS_URL: {exc}") from exc
    routes = table.routes if table is not None else ()
    targets = {route.key: route.canary.target for route in routes if route.canary is not None}
    return {
        key: {
            "target": targets.get(key, "?"),
            "percent": state.percent,
            "rolled_back": state.rolled_back,
            "reason": state.reason,
            "history": list(state.history),
            "store": "redis",
            "table_version": version,
        }
        for key, (version, state) in found.items()
    }


def render_canaries(url: str, canaries: Mapping[str, Any]) -> str:
    """Each self-ramping canary as one gateway sees it, with the decisions so far:

    GET /api/flights/**: canary → flights at 0%, ROLLED BACK (error rate 100.0% ...) [redis]
      2026-11-30T05:40:01+00:00 gw-1:812 raise 25% → 50%: gates hold: 0/12 canary errors
      2026-11-30T05:40:04+00:00 gw-2:813 rollback 75% → 0%: error rate 100.0% (9/9) > ...
    """
    lines = []
    for key, ramp in sorted(canaries.items()):
        if not isinstance(ramp, Mapping):
            continue
        percent = ramp.get("percent")
        shown = "?" if percent is None else f"{percent}%"
        state = f"ROLLED BACK ({ramp.get('reason')})" if ramp.get("rolled_back") else "ramping"
        where = f"[{ramp.get('store')}, table {ramp.get('table_version')}]"
        lines.append(f"{url} {key}: canary → {ramp.get('target')} at {shown}, {state} {where}")
        if ramp.get("last_decision") and not ramp.get("rolled_back"):
            lines.append(f"  now: {ramp['last_decision']}")
        lines.extend(f"  {line}" for line in ramp.get("history") or ())
    return "\n".join(lines)


def _served_table(served: Any, address: str) -> RouteTable | None:
    """{"source": "routes.yaml", "text": "..."} → the table; None when not served."""
    if served is None:
        return None
    if not isinstance(served, dict) or not isinstance(served.get("text"), str):
        raise StatusError(f'{address}: "table" is not {{"source": ..., "text": "..."}}')
    source = f"{address} ({served.get('source', 'routes')})"
    # The text is already expanded: a ${VAR} left in it stays unset, as the gateway had it.
    return parse_table(served["text"], source=source, env={})


def render_status(
    table: RouteTable,
    *,
    health: Mapping[str, Any] | None = None,
    stats: Mapping[str, Any] | None = None,
    same_table: bool = False,
) -> str:
    """The ledger as text; live columns and a version line when health and stats are given.
    `same_table`: the table is the one the gateway runs, so there is no version to compare."""
    routes = stats.get("routes", {}) if stats is not None else None
    rows = [_cells(row, routes) for row in migration_ledger(table)]
    headers = _HEADERS + (_LIVE_HEADERS if routes is not None else ())
    lines = [_table([headers, *rows]), "", f"{table.source}: version {table.version}"]
    if health is not None:
        lines.extend(_health_lines(None if same_table else table, health))
    if isinstance(routes, Mapping) and isinstance(routes.get("default"), Mapping):
        lines.append(f"unrouted endpoints (default → {table.default}): {_live(routes['default'])}")
    lines.extend(
        f"warning: routes[{route.index}] {route.key} decides no endpoint of the contract"
        for route in unused_routes(table)
    )
    return "\n".join(lines)


def _cells(row: LedgerRow, routes: Any) -> tuple[str, ...]:
    cells = (row.method, row.path, row.stage, row.backend, row.detail)
    if routes is None:
        return cells
    counts = routes.get(row.route_key) if row.route_key != "default" else None
    if not isinstance(counts, Mapping):
        return (*cells, "-", "-", "-")
    return (*cells, *_live_cells(counts))


def _live_cells(counts: Mapping[str, Any]) -> tuple[str, str, str]:
    """(requests, error rate, shadow match rate): ("200", "1.5%", "98.0%")."""
    requests, errors = _count(counts, "requests"), _count(counts, "errors")
    shadow = counts.get("shadow")
    shadow = shadow if isinstance(shadow, Mapping) else {}
    match, mismatch = _count(shadow, "match"), _count(shadow, "mismatch")
    return str(requests), _rate(errors, requests), _rate(match, match + mismatch)


def _live(counts: Mapping[str, Any]) -> str:
    requests = _count(counts, "requests")
    return f"{requests} requests, {_rate(_count(counts, 'errors'), requests)} errors"


def render_live(health: Mapping[str, Any], stats: Mapping[str, Any], *, why_no_ledger: str) -> str:
    """The gateway's numbers by route key, for when there is no table to build a ledger from.

    ROUTE             REQUESTS  ERRORS  SHADOW MATCH
    GET /api/flights  200       1.5%    98.0%
    """
    routes = stats.get("routes")
    routes = routes if isinstance(routes, Mapping) else {}
    rows = [
        (key, *_live_cells(counts))
        for key, counts in sorted(routes.items())
        if isinstance(counts, Mapping)
    ]
    lines = [_table([("ROUTE", *_LIVE_HEADERS), *rows]), ""]
    lines.extend(_health_lines(None, health))
    lines.append(f"no ledger: {why_no_ledger}")
    return "\n".join(lines)


def _health_lines(table: RouteTable | None, health: Mapping[str, Any]) -> list[str]:
    """With a table, whether the gateway runs the same version as it."""
    version = health.get("version")
    same = ""
    if table is not None:
        same = " (same as the file)" if version == table.version else " (differs from the file)"
    lines = [f"gateway: version {version}{same}, loaded at {health.get('loaded_at')}"]
    if health.get("error"):
        lines.append(f"gateway: refused the last change: {health['error']}")
    return lines


def _count(counts: Mapping[str, Any], key: str) -> int:
    value = counts.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _rate(part: int, whole: int) -> str:
    """(3, 200) → "1.5%"; "-" when there is nothing to divide."""
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
