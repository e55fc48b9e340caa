"""The periodic driver of self-ramping canaries: numbers in, decision (ramp.py), shared state
out (ramp_state.py), live percents into select.LIVE_PERCENTS.

Under uvicorn `RampMiddleware` starts one background task on the first request (no task at
import or in tests that never route); it ticks every `TICK_S`. Each tick, per route whose
canary has `auto`:
- read the shared state (create it, armed at the file's percent, when absent);
- the window is this process's counters (RouteStats, and the backend latency histograms)
  since the state last changed: a raise or rollback anywhere starts a new window everywhere;
- ramp.next_step decides; a raise or rollback is written with compare-and-set, so of two
  gateways deciding at once one wins and the other re-reads.
Gates are checked every tick, so a rollback comes within about a second of the errors; the
`every` cadence only limits raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.observability.hooks import METRICS
from gateway.observability.metrics import BUCKETS, Metrics, labels_of
from gateway.routing import select
from gateway.routing.policies import Auto
from gateway.routing.ramp import BackendWindow, RampState, Window, apply, first_state, next_step
from gateway.routing.ramp_state import RampStore
from gateway.routing.routes import Route
from gateway.routing.stats import RouteStats
from gateway.routing.table import RouteTable

logger = logging.getLogger("gateway.routing.ramp")
TICK_S = 1.0


class Tables(Protocol):
    """The live route table: a file (reload.py) or the route store (remote.py)."""

    def current(self) -> RouteTable: ...


@dataclass(frozen=True)
class _Calls:
    requests: int = 0
    errors: int = 0
    buckets: tuple[int, ...] = (0,) * len(BUCKETS)
    observed: int = 0  # latency samples, including those over the last bucket

    def minus(self, other: _Calls) -> _Calls:
        """A window; a counter that went down (metrics drained on Lambda) counts from 0."""
        return _Calls(
            max(0, self.requests - other.requests),
            max(0, self.errors - other.errors),
            tuple(max(0, a - b) for a, b in zip(self.buckets, other.buckets, strict=True)),
            max(0, self.observed - other.observed),
        )

    def window(self) -> BackendWindow:
        return BackendWindow(
            self.requests, self.errors, bucket_quantile(self.buckets, self.observed, 0.99)
        )


@dataclass(frozen=True)
class _Counts:
    canary: _Calls
    primary: _Calls
    matched: int
    compared: int

    def minus(self, other: _Counts) -> Window:
        return Window(
            self.canary.minus(other.canary).window(),
            self.primary.minus(other.primary).window(),
            shadow_compared=max(0, self.compared - other.compared),
            shadow_matched=max(0, self.matched - other.matched),
        )


@dataclass(frozen=True)
class _Seen:
    """What this process knows of one route's ramp: the state read last, the counters when
    it changed (the window's start) and the last decision taken on it here."""

    state: RampState
    start: _Counts
    last: str


class RampDriver:
    def __init__(
        self,
        routes: Tables,
        stats: RouteStats,
        store: RampStore,
        *,
        metrics: Metrics = METRICS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._routes, self._stats, self._store = routes, stats, store
        self._metrics, self._clock = metrics, clock
        self._seen: dict[tuple[str, str], _Seen] = {}
        self._task: asyncio.Task[None] | None = None
        self._checked = ""  # the last table version found without a ramped canary
        self._name = f"{socket.gethostname()}:{os.getpid()}"

    def ensure_started(self) -> None:
        """Start the ticking task once, from inside the running loop (a request); a table
        without `auto` is looked at once per version, not once per request."""
        if self._task is not None:
            return
        table = self._routes.current()
        if table.version != self._checked and _ramped(table.routes):
            self._task = asyncio.get_running_loop().create_task(self._run())
        self._checked = table.version

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # a Redis hiccup: keep the live percents, try next tick
                logger.exception("ramp: tick failed; keeping the last percents")
            await asyncio.sleep(TICK_S)

    async def tick(self) -> None:
        table = self._routes.current()
        stats = self._stats.snapshot()["routes"]
        histograms = self._metrics.snapshot().histograms
        live: dict[tuple[str, str], int] = {}
        for route in _ramped(table.routes):
            counts = _counts(route, stats.get(route.key, {}), histograms)
            seen = await self._step(route, table.version, counts)
            live[(table.version, route.key)] = seen.state.percent
        # One event loop runs this and the requests: the dict is never seen half-updated.
        for key in [key for key in select.LIVE_PERCENTS if key not in live]:
            del select.LIVE_PERCENTS[key]
        select.LIVE_PERCENTS.update(live)
        self._seen = {key: self._seen[key] for key in live}

    async def _step(self, route: Route, version: str, counts: _Counts) -> _Seen:
        canary = route.canary
        assert canary is not None and canary.auto is not None
        key, now = (version, route.key), self._clock()
        state = await self._read(route, version, canary.percent, now)
        seen = self._seen.get(key)
        if seen is None or seen.state.rev != state.rev:
            seen = _Seen(state, counts, seen.last if seen else "")
        decision = next_step(canary.auto, state, counts.minus(seen.start), now=now)
        if decision.action in ("hold", "stay"):
            if decision.reason != seen.last:  # each new reason once, not once a second
                logger.info(
                    "ramp: %s %s at %d%%: %s",
                    route.key,
                    decision.action,
                    state.percent,
                    decision.reason,
                )
            seen = replace(seen, last=decision.reason)
        else:
            new = apply(state, decision, now=now, stamp=self._stamp(now))
            if await self._store.swap(route.key, version=version, expected_rev=state.rev, new=new):
                log = logger.warning if decision.action == "rollback" else logger.info
                log("ramp: %s", f"{route.key} {new.history[-1]}")
                seen = _Seen(new, counts, decision.reason)
            else:  # another gateway wrote first: its state stands, read it next tick
                seen = replace(seen, last="another gateway decided first")
        self._seen[key] = seen
        return seen

    async def _read(self, route: Route, version: str, start: int, now: float) -> RampState:
        state = await self._store.get(route.key, version=version)
        if state is not None:
            return state
        armed = first_state(start, now)
        armed = replace(armed, rev=1, history=(f"{self._stamp(now)} armed at {start}%",))
        if await self._store.swap(route.key, version=version, expected_rev=0, new=armed):
            logger.info("ramp: %s armed at %d%% (table %s)", route.key, start, version)
            return armed
        return await self._store.get(route.key, version=version) or armed

    def view(self) -> dict[str, Any]:
        """For /_gateway/routes "canaries": the state each ramped route is in, as seen here."""
        table = self._routes.current()
        canaries: dict[str, Any] = {}
        for route in _ramped(table.routes):
            canary = route.canary
            assert canary is not None and canary.auto is not None
            seen = self._seen.get((table.version, route.key))
            state = seen.state if seen else None
            canaries[route.key] = {
                "target": canary.target,
                "primary": route.target,
                "percent": state.percent if state else None,
                "rolled_back": state.rolled_back if state else False,
                "reason": state.reason if state else "not read yet",
                "last_decision": seen.last if seen else "",
                "history": list(state.history) if state else [],
                "auto": _auto_view(canary.auto),
                "store": self._store.where,
                "table_version": table.version,
            }
        return canaries

    def _stamp(self, now: float) -> str:
        at = datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds")
        return f"{at} {self._name}"


class RampMiddleware:
    """Starts the driver on the first request (uvicorn): nothing runs before there is a loop."""

    def __init__(self, app: ASGIApp, *, driver: RampDriver) -> None:
        self.app, self.driver = app, driver

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.driver.ensure_started()
        await self.app(scope, receive, send)


def _ramped(routes: tuple[Route, ...]) -> list[Route]:
    return [r for r in routes if r.canary is not None and r.canary.auto is not None]


def _auto_view(auto: Auto) -> dict[str, Any]:
    return {
        "step": auto.step,
        "every_s": auto.every_s,
        "max_error_rate": auto.max_error_rate,
        "max_p99_ratio": auto.max_p99_ratio,
        "min_shadow_match": auto.min_shadow_match,
        "min_requests": auto.min_requests,
    }


def _counts(route: Route, stats: dict[str, Any], histograms: dict[Any, Any]) -> _Counts:
    assert route.canary is not None
    by_backend = stats.get("by_backend", {})
    shadow = stats.get("shadow", {})

    def calls(backend: str) -> _Calls:
        counted = by_backend.get(backend, {})
        histogram = histograms.get(
            ("gateway_backend_seconds", labels_of({"backend": backend, "route": route.key}))
        )
        buckets = tuple(histogram.buckets) if histogram else (0,) * len(BUCKETS)
        observed = histogram.count if histogram else 0
        return _Calls(counted.get("requests", 0), counted.get("errors", 0), buckets, observed)

    matched = int(shadow.get("match", 0))
    return _Counts(
        calls(route.canary.target),
        calls(route.target),
        matched,
        matched + shadow.get("mismatch", 0),
    )


def bucket_quantile(buckets: tuple[int, ...], observed: int, q: float) -> float | None:
    """The upper bound of the histogram bucket holding quantile `q` (over the last bucket:
    infinity); None without samples. Per-bucket counts, as metrics.Histogram keeps them."""
    if not observed:
        return None
    needed, running = q * observed, 0
    for bound, count in zip(BUCKETS, buckets, strict=True):
        running += count
        if running >= needed:
            return bound
    return float("inf")
