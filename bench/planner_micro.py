"""In process: the planned execution of the web trips page (a) against strawberry's, with
every backend read already cached (L1), on the same request inputs.

    .venv/bin/python -m bench.planner_micro

Each run gets a fresh request context (fresh loaders, warm L1), made before the clock
starts; the clock covers execution only (no HTTP, no JSON encoding). The two executors
alternate run by run, so a busy machine slows both alike. Median of 7 repeats.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bench.fixtures import TRAVELER, WEB_TRIPS
from gateway.auth import issue_dev_token
from gateway.cache.setup import CacheConfig
from gateway.config import Settings
from gateway.context import RequestContext
from gateway.execution.planner import Operation, Planner
from gateway.resolvers.catalog import CATALOGS
from gateway.routing.table import Caller
from gateway.runtime import Runtime
from gateway.schemas.common import validation_rules
from gateway.schemas.web import build_web_schema
from legacy_stub.app import create_app as create_stub

REPEATS = 7
SECRET = "planner-micro-secret-0123456789abcdef0123"


@dataclass(frozen=True)
class Timing:
    planned_s: float
    reference_s: float

    @property
    def ratio(self) -> float:
        return self.planned_s / self.reference_s


async def measure(*, number: int = 50, repeats: int = REPEATS) -> Timing:
    settings = Settings(
        legacy_url="http://legacy.test",
        flights_url="http://legacy.test",
        jwt_secret=SECRET,
        routes_file="/nonexistent/routes.yaml",
    )
    stub = httpx.ASGITransport(app=create_stub())
    runtime = Runtime(settings, transport=stub, cache_config=CacheConfig.from_env({}))
    schema = build_web_schema()
    planner = Planner(schema, CATALOGS["web"], rules=validation_rules(introspection=True))
    request = Caller(authorization=f"Bearer {issue_dev_token(TRAVELER, secret=SECRET)}")
    variables = {"traveler": TRAVELER}
    operation = Operation.of(WEB_TRIPS)

    async def planned(context: RequestContext) -> Any:
        data = await planner.execute(operation, variables, context.viewer)
        assert data is not None, "the planner must cover the trips page"
        return data

    async def reference(context: RequestContext) -> Any:
        result = await schema.execute(WEB_TRIPS, variable_values=variables, context_value=context)
        assert not result.errors, result.errors
        return result.data

    async def repeat() -> tuple[float, float]:
        """`number` runs of each, interleaved one by one, so both meet the same machine."""
        spent = {"planned": 0.0, "reference": 0.0}
        for _ in range(number):
            for name, execute in (("planned", planned), ("reference", reference)):
                context = await runtime.context_for(request)
                started = time.perf_counter()
                await execute(context)
                spent[name] += time.perf_counter() - started
        return spent["planned"] / number, spent["reference"] / number

    first = await reference(await runtime.context_for(request))  # fills L1
    assert await planned(await runtime.context_for(request)) == first
    planned_runs, reference_runs = [], []
    for _ in range(repeats):
        planned_s, reference_s = await repeat()
        planned_runs.append(planned_s)
        reference_runs.append(reference_s)
    return Timing(statistics.median(planned_runs), statistics.median(reference_runs))


def main() -> None:
    timing = asyncio.run(measure())
    print(
        f"web trips(first: 20), every read cached, in process, median of {REPEATS}:\n"
        f"  planned   {timing.planned_s * 1e3:.3f} ms\n"
        f"  reference {timing.reference_s * 1e3:.3f} ms\n"
        f"  ratio     {timing.ratio:.3f} (target <= 0.100)"
    )


if __name__ == "__main__":
    main()
