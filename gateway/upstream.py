"""The backends as one request sees them.

Every backend call the gateway makes (resolvers, dataloaders, REST passthrough) asks the
route table where to go, through `Upstream`. A request holds one table from start to end, so
a reload in the middle of a page never mixes backends within it.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable, Mapping
from typing import Any

from gateway.backend import BackendClient, decode_json
from gateway.errors import BackendError
from gateway.routing.shadow import body_differences
from gateway.routing.stats import RouteStats
from gateway.routing.table import Backend, Caller, RouteDecision, RouteRequest, RouteTable

log = logging.getLogger("gateway.shadow")


class ShadowRunner:
    """Runs shadow comparisons off the request's path: the client never waits for them.

    Bounded: at most `max_pending` comparisons at once (more are dropped and counted), and a
    primary answer over `max_body` bytes is not compared (counted as too large). On Lambda
    the container freezes once the answer is returned, so the handler calls `settle(budget)`
    after each invocation: what has not finished by then is cancelled and counted as cut
    off, never as a mismatch.
    """

    def __init__(
        self,
        client: BackendClient,
        stats: RouteStats,
        *,
        max_pending: int = 64,
        max_body: int = 256 * 1024,
    ) -> None:
        self._client = client
        self._stats = stats
        self.max_pending = max_pending
        self.max_body = max_body
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def start(self, decision: RouteDecision, path: str, params: Any, primary: bytes) -> None:
        if len(primary) > self.max_body:
            self.skip(decision, outcome="too_large")
            return
        if len(self._tasks) >= self.max_pending:
            self.skip(decision, outcome="dropped")
            return
        # A fresh context: the comparison outlives the request, and must not inherit its
        # deadline (gateway.deadline) or anything else request-scoped.
        task = asyncio.get_running_loop().create_task(
            self._compare(decision, path, params, primary), context=contextvars.Context()
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def skip(self, decision: RouteDecision, *, outcome: str) -> None:
        self._stats.record_shadow(decision.route_key, outcome=outcome)

    async def _compare(
        self, decision: RouteDecision, path: str, params: Any, primary_raw: bytes
    ) -> None:
        shadow = decision.shadow
        assert shadow is not None
        try:
            other = await self._client.call_raw(shadow, "GET", path, params=params)
            differing = body_differences(primary_raw, other, ignore=decision.shadow_ignore)
        except asyncio.CancelledError:
            self._stats.record_shadow(decision.route_key, outcome="cut_off")
            raise
        except Exception as error:  # a shadow never hurts anyone
            log.warning(
                "shadow %s %s to %s failed: %s", decision.route_key, path, shadow.name, error
            )
            self._stats.record_shadow(decision.route_key, outcome="mismatch")
            return
        self._stats.record_shadow(decision.route_key, outcome="mismatch" if differing else "match")
        if differing:
            log.warning(
                "shadow mismatch on %s %s (%s vs %s): %s",
                decision.route_key,
                path,
                decision.backend.name,
                shadow.name,
                ", ".join(differing[:20]),
            )

    async def settle(self, budget_s: float) -> None:
        """Wait up to `budget_s` for running comparisons, then cancel the rest."""
        if not self._tasks:
            return
        _, late = await asyncio.wait(list(self._tasks), timeout=budget_s)
        for task in late:
            task.cancel()
        if late:
            await asyncio.gather(*late, return_exceptions=True)

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


class Upstream:
    def __init__(
        self,
        client: BackendClient,
        table: RouteTable,
        *,
        caller: Caller,
        stats: RouteStats,
        shadows: ShadowRunner | None = None,
    ) -> None:
        self.client = client
        self.table = table
        self._caller = caller
        self._stats = stats
        self._shadows = shadows

    def decide(self, method: str, path: str) -> RouteDecision:
        return self.table.select(RouteRequest(method, path, self._caller))

    async def get_raw(self, path: str, params: Mapping[str, str] | None = None) -> bytes:
        """A GET answer's JSON bytes (what the cache stores), shadowed when the route says so."""
        raw, _ = await self._get(path, params)
        return raw

    async def get_json(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        parse_float: Callable[[str], Any] | None = None,
    ) -> Any:
        raw, decision = await self._get(path, params)
        return decode_json(decision.backend, raw, parse_float)

    async def _get(
        self, path: str, params: Mapping[str, str] | None
    ) -> tuple[bytes, RouteDecision]:
        decision = self.decide("GET", path)
        raw = await self._call(decision, "GET", path, params=params)
        if decision.shadow is not None and self._shadows is not None:
            self._shadows.start(decision, path, params, raw)
        return raw, decision

    async def post_json(self, path: str, body: Any) -> Any:
        decision = self.decide("POST", path)
        raw = await self._call(decision, "POST", path, json_body=body)
        return decode_json(decision.backend, raw)

    async def _call(
        self,
        decision: RouteDecision,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
    ) -> bytes:
        backend: Backend = decision.backend
        try:
            result = await self.client.call_raw(
                backend, method, path, params=params, json_body=json_body
            )
        except BackendError:
            self._stats.record(decision.route_key, backend.name, ok=False)
            raise
        self._stats.record(decision.route_key, backend.name, ok=True)
        return result
