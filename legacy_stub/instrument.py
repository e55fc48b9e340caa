"""What happens to every `/api` request before its handler runs: it is counted under its
route template, waits the fixed latency, then suffers any injected fault."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from legacy_stub.errors import UnavailableError
from legacy_stub.faults import FaultTable
from legacy_stub.stats import RequestStats

Endpoint = Callable[[Request], Awaitable[Response]]


class Instrument:
    def __init__(self, *, stats: RequestStats, faults: FaultTable, latency_ms: int = 0) -> None:
        self.stats = stats
        self.faults = faults
        self.latency_ms = latency_ms

    def wrap(self, method: str, template: str, endpoint: Endpoint) -> Endpoint:
        key = f"{method} {template}"

        async def instrumented(request: Request) -> Response:
            self.stats.count(key)
            if self.latency_ms:
                await asyncio.sleep(self.latency_ms / 1000)
            verdict = self.faults.decide(request.scope["path"])
            if verdict is not None:
                if verdict.latency_ms:
                    await asyncio.sleep(verdict.latency_ms / 1000)
                if verdict.hang:
                    await _until_disconnected(request)
                if verdict.hang or verdict.fail_status is not None:
                    raise UnavailableError(
                        path=request.scope["path"], status=verdict.fail_status or 503
                    )
            return await endpoint(request)

        return instrumented


async def _until_disconnected(request: Request) -> None:
    """Never answers while the client waits; ends (or is cancelled) when it gives up."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
