"""The periodic driver of self-ramping canaries: numbers in (ramp_window.py), decision
(ramp.py), shared state out (ramp_state.py), live percents into select.LIVE_PERCENTS.

Who makes it tick:
- under uvicorn `RampMiddleware` starts one background task on the first request (no task
  at import or in tests that never route); it ticks every `TICK_S`;
- on Lambda no task: the container is frozen between invocations, so a task would only run
  in bits during requests, and a Redis call cut by a freeze would fail on thaw. The handler
  calls `settle(budget)` after each answer instead: when a tick is due (`TICK_S` since the
  last one) it runs, bounded by the budget; cut off or failed, it stays due for the next
  invocation. The handler also hands each metrics drain to `absorb` (latency windows).

Each tick, per route whose canary has `auto`:
- read the shared state (create it, armed at the file's percent, when absent);
- the window is this process's counters since the state last changed: a raise or rollback
  anywhere starts a new window everywhere;
- ramp.next_step decides; a raise or rollback is written with compare-and-set, so of two
  gateways deciding at once one wins and the other re-reads. Each one written is a JSON
  line on stdout (`"message": "ramp"`), like the request lines.
Gates are checked every tick, so a rollback comes within about a second of the errors (on
Lambda: at the end of the first invocation a second after the last tick); the `every`
cadence only limits raises.
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

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.observability.hooks import METRICS
from gateway.observability.metrics import Metrics, Snapshot
from gateway.observability.sinks import write_stdout
from gateway.routing import select
from gateway.routing.policies import Auto
from gateway.routing.ramp import RampState, apply, first_state, next_step
from gateway.routing.ramp_state import RampStore
from gateway.routing.ramp_window import Counts, Latencies, route_counts
from gateway.routing.routes import Route
from gateway.routing.stats import RouteStats
from gateway.routing.table import RouteTable

logger = logging.getLogger("gateway.routing.ramp")
TICK_S = 1.0


class Tables(Protocol):
    """The live route table: a file (reload.py) or the route store (remote.py)."""

    def current(self) -> RouteTable: ...


@dataclass(frozen=True)
class _Write:
    """A state this gateway is writing to the store, with what its log line says."""

    key: tuple[str, str]  # (table version, route key)
    expected_rev: int
    new: RampState
    action: str  # armed | raise | rollback
    from_percent: int | None = None


@dataclass(frozen=True)
class _Seen:
    """What this process knows of one route's ramp: the state read last, the counters when
    it changed (the window's start) and the last decision taken on it here."""

    state: RampState
    start: Counts
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
        monotonic: Callable[[], float] = time.monotonic,
        write: Callable[[str], None] = write_stdout,
    ) -> None:
        self._routes, self._stats, self._store = routes, stats, store
        self._latencies = Latencies(metrics)
        self._clock, self._monotonic, self._write = clock, monotonic, write
        self._seen: dict[tuple[str, str], _Seen] = {}
        # A write whose answer this process has not seen (a tick cut off by its budget): if
        # the store holds it on the next read, it was this gateway's decision and is logged.
        self._writing: dict[tuple[str, str], _Write] = {}
        self._task: asyncio.Task[None] | None = None
        self._ticked_at: float | None = None  # settle(): when the last tick completed
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

    async def settle(self, budget_s: float) -> None:
        """The Lambda handler's tick, after an invocation's answer: at most one per `TICK_S`,
        within `budget_s`. One that fails or is cut off stays due: the next invocation runs
        it, and the numbers it would have judged are still in the window."""
        if self._ticked_at is not None and self._monotonic() - self._ticked_at < TICK_S:
            return
        try:
            await asyncio.wait_for(self.tick(), budget_s)
        except TimeoutError:
            logger.warning("ramp: tick cut off after %g s; it runs again next invocation", budget_s)
            return
        except Exception:  # Redis down: the last percents stay; due again next invocation
            logger.exception("ramp: tick failed; keeping the last percents")
            return
        self._ticked_at = self._monotonic()

    def absorb(self, drained: Snapshot) -> None:
        """What the Lambda handler drained from the metrics (for EMF): latency windows keep
        their samples across invocations."""
        self._latencies.absorb(drained)

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # a Redis hiccup: keep the live percents, try next tick
                logger.exception("ramp: tick failed; keeping the last percents")
            await asyncio.sleep(TICK_S)

    async def tick(self) -> None:
        table = self._routes.current()
        ramped = _ramped(table.routes)
        live: dict[tuple[str, str], int] = {}
        if ramped:
            stats = self._stats.snapshot()["routes"]
            latencies = self._latencies.totals()
            for route in ramped:
                counts = route_counts(route, stats.get(route.key, {}), latencies)
                seen = await self._step(route, table.version, counts)
                live[(table.version, route.key)] = seen.state.percent
        # One event loop runs this and the requests: the dict is never seen half-updated.
        for key in [key for key in select.LIVE_PERCENTS if key not in live]:
            del select.LIVE_PERCENTS[key]
        select.LIVE_PERCENTS.update(live)
        self._seen = {key: self._seen[key] for key in live}

    async def _step(self, route: Route, version: str, counts: Counts) -> _Seen:
        canary = route.canary
        assert canary is not None and canary.auto is not None
        key, now = (version, route.key), self._clock()
        state = await self._read(route, version, canary.percent, now)
        seen = self._seen.get(key)
        if seen is None or seen.state.rev != state.rev:
            self._own_write_landed(key, state)
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
            if await self._swap(_Write(key, state.rev, new, decision.action, state.percent)):
                seen = _Seen(new, counts, decision.reason)
            else:  # another gateway wrote first: its state stands, read it next tick
                seen = replace(seen, last="another gateway decided first")
        self._seen[key] = seen
        return seen

    async def _swap(self, write: _Write) -> bool:
        """Compare-and-set, and the decision's JSON line when it was this gateway's."""
        version, route_key = write.key
        self._writing[write.key] = write
        done = await self._store.swap(
            route_key, version=version, expected_rev=write.expected_rev, new=write.new
        )
        del self._writing[write.key]
        if done:
            self._log(write)
        return done

    def _own_write_landed(self, key: tuple[str, str], state: RampState) -> None:
        write = self._writing.pop(key, None)
        if write is not None and write.new == state:
            self._log(write)

    async def _read(self, route: Route, version: str, start: int, now: float) -> RampState:
        state = await self._store.get(route.key, version=version)
        if state is not None:
            return state
        armed = first_state(start, now)
        armed = replace(armed, rev=1, history=(f"{self._stamp(now)} armed at {start}%",))
        if await self._swap(_Write((version, route.key), 0, armed, "armed")):
            return armed
        return await self._store.get(route.key, version=version) or armed

    def _log(self, write: _Write) -> None:
        """One JSON line per state this gateway wrote: armed, raise or rollback."""
        version, route_key = write.key
        at = datetime.fromtimestamp(self._clock(), UTC).isoformat(timespec="milliseconds")
        line: dict[str, Any] = {
            "level": "WARNING" if write.action == "rollback" else "INFO",
            "message": "ramp",
            "timestamp": at.replace("+00:00", "Z"),
            "route": route_key,
            "action": write.action,
            "from_percent": write.from_percent,
            "percent": write.new.percent,
            "reason": write.new.reason,
            "rev": write.new.rev,
            "gateway": self._name,
            "table_version": version,
        }
        self._write(orjson.dumps({k: v for k, v in line.items() if v is not None}).decode())

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
    """Starts the driver on the first request under uvicorn: nothing runs before there is a
    loop. On Lambda the handler calls `RampDriver.settle` after each invocation instead."""

    def __init__(self, app: ASGIApp, *, driver: RampDriver) -> None:
        self.app, self.driver = app, driver

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Under Mangum (the scope carries the Lambda event) the handler ticks: no task.
        if scope["type"] == "http" and "aws.event" not in scope:
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
