"""The per-request decision: which backend answers, whether a shadow copy goes out, and why.

    table.select(RouteRequest("GET", "/api/flights", Caller(traveler_id="t-7")))
      → RouteDecision(backend=<flights>, route=<routes[1]>, route_key="GET /api/flights",
          reason="route routes[1] GET /api/flights: canary 25% (traveler bucket 13 < 25)
                  → flights; no shadow (primary is already flights)", ...)

Sticky canaries hash a value (traveler id, header, cookie, else the client address) into one
of 100 buckets; the request moves iff bucket < percent. The bucket of a value never changes,
so whoever moved at 10% is still moved at 25%, 0% moves nobody and 100% moves everyone.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gateway.routing.backends import Backend
from gateway.routing.policies import Canary
from gateway.routing.routes import Route

if TYPE_CHECKING:
    from gateway.routing.table import RouteTable

OVERRIDE_HEADER = "x-route-target"
OVERRIDE_ROLE = "agent"
DEFAULT_KEY = "default"

# The live percent of each self-ramping canary (`canary.auto`), by (table version, route
# key). Written by the ramp driver (ramp_driver.py) after it reads the shared state, at most
# once a second; read here per request as one dict lookup, never the store itself. Until the
# driver has read a state the canary gets 0%: a canary rolled back elsewhere must not come
# back for a moment in a fresh process.
LIVE_PERCENTS: dict[tuple[str, str], int] = {}


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking: one value from the HTTP edge (the GraphQL endpoint, the passthrough)
    through the request's context and backend calls to every route decision. The edge
    fills in what the request carries; `identified` adds what its verified token names.
    `headers` has lower-case names.

        Caller(authorization="Bearer ...", client_addr="10.0.0.7").identified("t-7", "traveler")
    """

    authorization: str | None = None
    client_addr: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    cookies: Mapping[str, str] = field(default_factory=dict)
    traveler_id: str | None = None
    role: str | None = None

    def identified(self, traveler_id: str | None, role: str | None) -> Caller:
        # Built directly: dataclasses.replace costs twice as much, once per request.
        return Caller(
            self.authorization, self.client_addr, self.headers, self.cookies, traveler_id, role
        )


@dataclass(frozen=True)
class RouteRequest:
    """What routing looks at: the method, the path and who is asking."""

    method: str
    path: str
    caller: Caller = field(default_factory=Caller)


@dataclass(frozen=True)
class RouteDecision:
    """`route` is None and `route_key` "default" when no route matched."""

    backend: Backend
    route: Route | None
    route_key: str
    reason: str
    shadow: Backend | None = None
    shadow_ignore: tuple[str, ...] = ()


@functools.lru_cache(maxsize=65_536)  # pure; a request's traveler, header or address repeats
def sticky_bucket(value: str) -> int:
    """The bucket 0-99 of a sticky value; the same on every process and every run."""
    digest = hashlib.sha256(value.encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


def decide(table: RouteTable, request: RouteRequest, *, roll: Callable[[], float]) -> RouteDecision:
    route = table.match(request.method, request.path)
    override, note = _override(table, request)
    key = route.key if route is not None else DEFAULT_KEY
    if override is not None:
        rule = f"route {route.label}" if route is not None else "the default"
        return RouteDecision(override, route, key, f"{note} (instead of {rule})")
    if route is None:
        where = f"no route matches {request.method.upper()} {request.path}"
        reason = f"{where}: default → {table.default}{note}"
        return RouteDecision(table.backends[table.default], None, key, reason)
    primary, why = _primary(route, request, roll, version=table.version)
    shadow, shadow_why = _shadow(table, route, request, primary=primary, roll=roll)
    reason = f"route {route.label}{why}{shadow_why}{note}"
    ignore = route.shadow.ignore if shadow is not None and route.shadow is not None else ()
    return RouteDecision(table.backends[primary], route, key, reason, shadow, ignore)


def _override(table: RouteTable, request: RouteRequest) -> tuple[Backend | None, str]:
    """The X-Route-Target backend when honoured; otherwise None and a note on why not."""
    caller = request.caller
    name = caller.headers.get(OVERRIDE_HEADER, "").strip()
    if not name:
        return None, ""
    if caller.role != OVERRIDE_ROLE:
        return None, f"; X-Route-Target ignored (role {caller.role or 'none'} is not agent)"
    if name not in table.backends:
        known = ", ".join(sorted(table.backends))
        return None, f"; X-Route-Target ignored ({name!r} is not a backend: {known})"
    return table.backends[name], f"X-Route-Target from an agent → {name}"


def _primary(
    route: Route, request: RouteRequest, roll: Callable[[], float], *, version: str
) -> tuple[str, str]:
    """The backend name for the route's answer, and why."""
    canary = route.canary
    if canary is None:
        return route.target, f" → {route.target}"
    bucket, source = _canary_bucket(canary, request, roll)
    percent = canary.percent
    if canary.auto is not None:
        percent = LIVE_PERCENTS.get((version, route.key), 0)
    moved = bucket < percent
    compared = (
        f"{source} {bucket} < {percent}" if moved else f"{source} {bucket} ≥ {percent}, stays"
    )
    name = canary.target if moved else route.target
    ramping = ", ramping" if canary.auto is not None else ""
    return name, f": canary {percent}%{ramping} ({compared}) → {name}"


def _canary_bucket(
    canary: Canary, request: RouteRequest, roll: Callable[[], float]
) -> tuple[int, str]:
    """The request's bucket and where it came from: "traveler bucket", "random roll", ..."""
    kind, _, name = canary.sticky.partition(":")
    if kind == "random":
        return _roll(roll), "random roll"
    caller = request.caller
    if kind == "traveler":
        value, label, missing = caller.traveler_id, "traveler", "no traveler id"
    else:  # header:NAME or cookie:NAME
        value = (caller.headers if kind == "header" else caller.cookies).get(name)
        label, missing = f"{kind} {name}", f"no {kind} {name}"
    if value:
        return sticky_bucket(value), f"{label} bucket"
    if caller.client_addr:
        return sticky_bucket(caller.client_addr), f"{missing}; client address bucket"
    return _roll(roll), f"{missing} or client address; random roll"


def _shadow(
    table: RouteTable,
    route: Route,
    request: RouteRequest,
    *,
    primary: str,
    roll: Callable[[], float],
) -> tuple[Backend | None, str]:
    shadow = route.shadow
    if shadow is None:
        return None, ""
    if request.method.upper() != "GET":
        return None, "; no shadow (only GET is copied)"
    if shadow.target == primary:
        return None, f"; no shadow (primary is already {primary})"
    if shadow.percent < 100:
        rolled = _roll(roll) if shadow.percent > 0 else 0
        if rolled >= shadow.percent:
            return None, f"; shadow {shadow.percent}% skipped (roll {rolled} ≥ {shadow.percent})"
    return table.backends[shadow.target], f"; shadow {shadow.percent}% → {shadow.target}"


def _roll(roll: Callable[[], float]) -> int:
    return min(int(roll() * 100), 99)
