"""Runs scenarios in order over one Stack, starting what each needs and stopping what no
later scenario needs; a scenario that fails becomes a "failed" row, not a lost run."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import httpx

from bench.results import Result, with_ratios
from bench.scenario import Options, Scenario
from bench.services import Stack
from bench.wrk import WrkError


def run_scenarios(scenarios: Sequence[Scenario], options: Options) -> list[Result]:
    results: list[Result] = []
    with Stack() as stack:
        for index, scenario in enumerate(scenarios):
            print(f"[bench] {scenario.name}: {scenario.title}", file=sys.stderr, flush=True)
            result = run_one(stack, scenario, options, later=scenarios[index:])
            print(f"[bench] {scenario.name}: {summary(result)}", file=sys.stderr, flush=True)
            results.append(result)
    return with_ratios(results)


def run_one(
    stack: Stack, scenario: Scenario, options: Options, *, later: Sequence[Scenario]
) -> Result:
    try:
        for name in scenario.needs:
            stack.url(name)
        stack.keep_only(name for each in later for name in each.needs)
        return scenario.run(stack, options)
    except (WrkError, RuntimeError, LookupError, httpx.HTTPError) as error:
        note = f"{type(error).__name__}: {error}"
        return Result(scenario.name, scenario.title, status="failed", note=note[:500])


def summary(result: Result) -> str:
    if result.status != "ok":
        return f"{result.status} {result.note}"
    parts = []
    if result.rps is not None:
        parts.append(f"{result.rps:,.0f} req/s")
    if result.p50_s is not None:
        parts.append(f"p50 {result.p50_s * 1e3:.3f} ms")
    if result.p99_s is not None:
        parts.append(f"p99 {result.p99_s * 1e3:.3f} ms")
    if result.backend_requests is not None:
        parts.append(f"backend {result.backend_requests:g}/query")
    if result.table is not None:
        parts.append(f"a table of {len(result.table.rows)} rows")
    return ", ".join(parts)
