"""In-process microbenchmarks: route selection on the repository's own routes.yaml."""

from __future__ import annotations

import timeit
from dataclasses import dataclass
from pathlib import Path

from bench.results import Result, Table, Target
from bench.scenario import Options
from bench.services import Stack
from bench.stats import median
from gateway.routing.select import Caller, RouteRequest
from gateway.routing.table import load_table

ROOT = Path(__file__).resolve().parents[1]
_REPEATS = 7


@dataclass(frozen=True)
class RouteSelectScenario:
    """`table.select()` for a flight on the canaried, shadowed route (the costliest path)."""

    name: str = "route-select"
    title: str = "route selection, GET /api/flights/fl-12 for t-7 (in process)"
    needs: tuple[str, ...] = ()
    routes_file: Path = ROOT / "routes.yaml"

    def run(self, stack: Stack, options: Options) -> Result:
        table = load_table(
            self.routes_file, env={"LEGACY_URL": "http://a", "FLIGHTS_URL": "http://b"}
        )
        request = RouteRequest("GET", "/api/flights/fl-12", Caller(traveler_id="t-7"))
        timer = timeit.Timer(lambda: table.select(request))
        number, _ = timer.autorange()
        per_call = [total / number for total in timer.repeat(repeat=_REPEATS, number=number)]
        typical = median(per_call)
        return Result(
            name=self.name,
            title=self.title,
            rps=1 / typical,
            p50_s=typical,
            targets=(Target("p50_s", "<=", 50e-6),),
            note=(
                f"timeit: median of {_REPEATS} repeats of {number} calls; "
                f"fastest {min(per_call) * 1e6:.2f} µs, slowest {max(per_call) * 1e6:.2f} µs "
                "per call; req/s column = selections per second"
            ),
            details={"per_call_s": per_call, "calls_per_repeat": number},
        )


@dataclass(frozen=True)
class PlannerMicroScenario:
    """Issue 9: the planned execution of (a) against strawberry's on the same input, every
    read cached, in process (bench/planner_micro.py). The ratio is planned ÷ reference time."""

    name: str = "planner-micro"
    title: str = "(a) executed in process, every read cached: planned ÷ strawberry time"
    needs: tuple[str, ...] = ()

    def run(self, stack: Stack, options: Options) -> Result:
        import asyncio

        from bench.planner_micro import REPEATS, measure

        timing = asyncio.run(measure())
        return Result(
            name=self.name,
            title=self.title,
            rps=1 / timing.planned_s,
            p50_s=timing.planned_s,
            ratio=timing.ratio,
            targets=(Target("ratio", "<=", 0.1),),
            note=(
                f"median of {REPEATS}: planned {timing.planned_s * 1e3:.3f} ms, strawberry "
                f"{timing.reference_s * 1e3:.3f} ms per execution; req/s column = planned "
                "executions per second"
            ),
            details={"planned_s": timing.planned_s, "reference_s": timing.reference_s},
        )


@dataclass(frozen=True)
class StagesScenario:
    """Issue 9: each stage of a planned request on its own, (a) and (b), in process
    (bench/stages.py). A table of its own (catalog.OWN_BLOCKS): a stage per row."""

    name: str = "stages"
    title: str = "stages of a planned request, in process: median µs per call"
    needs: tuple[str, ...] = ()
    repeats: int = 7
    scale: float = 1.0  # calls per repeat, times this (the test runs a few)

    def run(self, stack: Stack, options: Options) -> Result:
        import asyncio

        from bench.stages import NUMBERS, STAGES, measure

        measured = asyncio.run(measure(repeats=self.repeats, scale=self.scale))
        columns = ("stage", *(f"{times.operation} (µs)" for times in measured))
        rows = tuple(
            (stage, *(f"{times.seconds[stage] * 1e6:,.1f}" for times in measured))
            for stage in STAGES
        )
        calls = "; ".join(
            f"{stage.split(' (')[0]} {max(1, round(n * self.scale))}"
            for stage, n in zip(STAGES, NUMBERS, strict=True)
        )
        backend = ", ".join(f"{t.operation} {t.backend_requests}" for t in measured)
        return Result(
            name=self.name,
            title=self.title,
            table=Table(columns, rows),
            note=(
                f"Median of {self.repeats} repeats of the mean per call; calls per repeat: "
                f"{calls}. The planner's own functions in the request's order "
                "(bench/stages.py); parse + validate is `prepare_document` on the document's "
                "first request, plan lookup `Planner.lookup` by (sha256, operation name) with "
                "the variables coerced; fetch is every level's loads on a fresh request "
                "context; project writes the fetched values; serialise is orjson of "
                f'`{{"data": …}}`. Backend requests per uncached fetch: {backend}.'
            ),
            details={
                times.operation: {
                    "seconds": dict(times.seconds),
                    "backend_requests": times.backend_requests,
                }
                for times in measured
            },
        )
