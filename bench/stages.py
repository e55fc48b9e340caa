"""In process: each stage of a planned request on its own, for (a) the web trips page and (b)
the mobile itinerary (issue 9: "measure each stage ... in the benchmark's notes").

    .venv/bin/python -m bench.stages

The stages are the planner's own functions, called in the request's order:

- parse + validate (cold): `prepare_document`, what the first request of a document pays;
- plan lookup (warm): `Planner.lookup` by (sha256, operation name), variables coerced;
- fetch: `run.fetch` of every level in turn, on a fresh request context each time (fresh
  loaders), once with every backend read in L1 and once with the cache off (the monolith
  stub in this process, over `httpx.ASGITransport`);
- project: `run.start` and `run.project` of every level, writing the fetched values;
- serialise: `gateway.answers.dump` (orjson) of `{"data": ...}`.

Each stage runs `number` times per repeat (its own count: a parse is slow, a lookup fast);
the figure is the median over repeats of the mean per call, in seconds. Contexts are made
before the clock starts. No HTTP, no middleware: bench/load.py measures those.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from bench.fixtures import MOBILE_ITINERARY, TRAVELER, WEB_TRIPS
from gateway.answers import dump
from gateway.auth import issue_dev_token
from gateway.cache.setup import DEFAULT_TTLS, CacheConfig
from gateway.config import Settings
from gateway.execution.nodes import Pending
from gateway.execution.planner import Found, Operation, Planner, prepare_document
from gateway.execution.run import fetch, project, start
from gateway.resolvers.catalog import CATALOGS
from gateway.routing.table import Caller
from gateway.runtime import Runtime
from gateway.schemas.common import validation_rules
from gateway.schemas.mobile import build_mobile_schema
from gateway.schemas.web import build_web_schema
from legacy_stub.app import create_app as create_stub

REPEATS = 7
SECRET = "bench-stages-secret-0123456789abcdef0123"
STAGES = (
    "parse + validate (cold)",
    "plan lookup (warm)",
    "fetch, every read cached (L1)",
    "fetch, uncached (stub in process)",
    "project (writers)",
    "serialise (orjson)",
)
# Calls per repeat, per stage: enough for a stable mean, few enough for a quick run.
NUMBERS = (20, 2000, 50, 10, 200, 500)
NO_CACHE = CacheConfig.from_env({f"CACHE_TTL_{kind.upper()}": "0" for kind in DEFAULT_TTLS})


@dataclass(frozen=True)
class StageTimes:
    """One operation's stages: STAGES name → median seconds per call."""

    operation: str
    seconds: Mapping[str, float]
    backend_requests: int  # by one uncached fetch


@dataclass(frozen=True)
class Subject:
    """One operation, its planner and its recorded fetches (what project replays)."""

    title: str
    planner: Planner
    operation: Operation
    variables: dict[str, Any]
    found: Found
    levels: list[tuple[Pending, list[Any]]]


class Bench:
    """The two runtimes (cache warm, cache off) over one stub, and a traveler's request."""

    def __init__(self) -> None:
        settings = Settings(
            legacy_url="http://legacy.test",
            flights_url="http://legacy.test",
            jwt_secret=SECRET,
            routes_file="/nonexistent/routes.yaml",
        )
        self.stub = httpx.ASGITransport(app=create_stub())
        stub = self.stub
        self.cached = Runtime(settings, transport=stub, cache_config=CacheConfig.from_env({}))
        self.uncached = Runtime(settings, transport=stub, cache_config=NO_CACHE)
        self.request = Caller(authorization=f"Bearer {issue_dev_token(TRAVELER, secret=SECRET)}")

    async def subject(
        self, title: str, planner: Planner, query: str, variables: dict[str, Any]
    ) -> Subject:
        """Plan the operation and run it once level by level, recording each level's fetch
        (which also fills the warm runtime's L1)."""
        operation = Operation.of(query)
        found = planner.lookup(operation, variables)
        assert found is not None, f"the planner must cover {title}"
        context = await self.cached.context_for(self.request)
        levels: list[tuple[Pending, list[Any]]] = []
        _, pending = start(found.plan, found.variables)
        while pending:
            values = await fetch(pending, context.viewer, found.variables)
            levels.append((pending, values))
            pending = project(pending, values)
        return Subject(title, planner, operation, variables, found, levels)

    async def backend_requests(self, subject: Subject) -> int:
        """How many requests one uncached fetch of `subject` sends to the stub."""
        async with httpx.AsyncClient(transport=self.stub, base_url="http://stub") as stub:
            await stub.post("/_stub/reset")
            context = await self.uncached.context_for(self.request)
            for pending, _ in subject.levels:
                await fetch(pending, context.viewer, subject.found.variables)
            total: int = (await stub.get("/_stub/stats")).json()["total"]
        return total


def first_full_trip(answer: Any) -> str:
    """The first trip of (a)'s page with flights, hotel stays and car rentals all booked."""
    for trip in answer["data"]["trips"]["items"]:
        if trip["flights"] and trip["hotelStays"] and trip["carRentals"]:
            found: str = trip["id"]
            return found
    raise LookupError("no trip of the page has flights, hotel stays and car rentals")


def projected(subject: Subject) -> dict[str, Any]:
    root, pending = start(subject.found.plan, subject.found.variables)
    for _, values in subject.levels:
        pending = project(pending, values)
    return root


def timed(call: Callable[[], Any], number: int) -> float:
    started = time.perf_counter()
    for _ in range(number):
        call()
    return (time.perf_counter() - started) / number


async def measure_subject(
    bench: Bench, subject: Subject, *, repeats: int, scale: float
) -> StageTimes:
    planner, operation = subject.planner, subject.operation
    data = projected(subject)
    numbers = [max(1, round(n * scale)) for n in NUMBERS]

    async def fetch_in(runtime: Runtime, number: int) -> float:
        """Every level's fetch, on a fresh context per call made outside the clock."""
        spent = 0.0
        for _ in range(number):
            context = await runtime.context_for(bench.request)
            started = time.perf_counter()
            for pending, _ in subject.levels:
                await fetch(pending, context.viewer, subject.found.variables)
            spent += time.perf_counter() - started
        return spent / number

    runs: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for _ in range(repeats):
        figures = (
            timed(
                lambda: prepare_document(
                    planner.schema, planner.rules, operation.query, operation.name
                ),
                numbers[0],
            ),
            timed(lambda: planner.lookup(operation, subject.variables), numbers[1]),
            await fetch_in(bench.cached, numbers[2]),
            await fetch_in(bench.uncached, numbers[3]),
            timed(lambda: projected(subject), numbers[4]),
            timed(lambda: dump({"data": data}), numbers[5]),
        )
        for stage, seconds in zip(STAGES, figures, strict=True):
            runs[stage].append(seconds)
    medians = {stage: statistics.median(seconds) for stage, seconds in runs.items()}
    return StageTimes(subject.title, medians, await bench.backend_requests(subject))


async def measure(*, repeats: int = REPEATS, scale: float = 1.0) -> list[StageTimes]:
    """(a) and (b), each stage's median; `scale` shrinks the calls per repeat (the test)."""
    bench = Bench()
    rules = validation_rules(introspection=False)  # production's
    web = Planner(build_web_schema(introspection=False), CATALOGS["web"], rules=rules)
    mobile = Planner(build_mobile_schema(introspection=False), CATALOGS["mobile"], rules=rules)
    trips = await bench.subject("(a) web trips(first: 20)", web, WEB_TRIPS, {"traveler": TRAVELER})
    trip_id = first_full_trip({"data": projected(trips)})
    itinerary = await bench.subject(
        "(b) mobile itinerary", mobile, MOBILE_ITINERARY, {"trip": trip_id}
    )
    return [
        await measure_subject(bench, subject, repeats=repeats, scale=scale)
        for subject in (trips, itinerary)
    ]


def main() -> None:
    for times in asyncio.run(measure()):
        print(
            f"{times.operation}, median of {REPEATS} ({times.backend_requests} backend requests):"
        )
        for stage, seconds in times.seconds.items():
            print(f"  {stage:<36} {seconds * 1e6:10.1f} µs")


if __name__ == "__main__":
    main()
