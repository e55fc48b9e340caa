"""The planned executor answers every generated operation exactly as strawberry does: same
status, same headers, same bytes; cold and with every read cached; with backends failing
and hanging; for callers who may and may not read what they ask for."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.differential import found, mutations, regressions
from tests.differential.domain import CALLERS, OTHER, OWN
from tests.differential.harness import COLD, WARM, Answer, Pair, Tally, mismatch, send
from tests.differential.settings import CI, examples
from tests.differential.strategies import Case, any_cases, cases
from tests.differential.variants import variants

F = TypeVar("F", bound=Callable[..., Any])
READERS = ("agent", f"traveler:{OWN}")  # callers whose requests reach the backends

FAULTS: tuple[Mapping[str, Any], ...] = (
    {"path_prefix": "/api/flights", "error_rate": 1.0, "status": 503},
    {"path_prefix": "/api/hotel-stays", "error_rate": 1.0, "status": 500},
    {"path_prefix": "/api/car-rentals", "error_rate": 1.0, "status": 503},
    {"path_prefix": "/api/travelers", "error_rate": 1.0, "status": 503},
    {"path_prefix": "/api/trips", "error_rate": 1.0, "status": 503},
    {"path_prefix": "/api/fx", "error_rate": 1.0, "status": 503},
    {"path_prefix": "/api/destinations", "error_rate": 1.0, "status": 502},
    {"path_prefix": "/api/flights", "error_rate": 1.0, "status": 404},
    {"path_prefix": "/api/travelers", "error_rate": 1.0, "status": 422},
    {"path_prefix": "/api/", "error_rate": 1.0, "status": 503},
)
HANGS = tuple(
    {"path_prefix": prefix, "hang": True}
    for prefix in ("/api/flights", "/api/fx", "/api/travelers", "/api/trips")
)


def with_examples(*fixed: Case) -> Callable[[F], F]:
    def decorate(test: F) -> F:
        for case in reversed(fixed):
            test = example(case=case)(test)
        return test

    return decorate


def run_case(runner: asyncio.Runner, pair: Pair, case: Case, tally: Tally) -> None:
    """The case, then its variants (which meet the plan the case left in the cache)."""

    async def run() -> None:
        answer = await pair.compare(case, tally=tally)
        body = answer.json()
        assert isinstance(body, dict) and "data" in body, f"not executed: {body}\n{case}"
        for variant in variants(case):
            await pair.compare(variant, note="(a variant, after the case itself)", tally=tally)

    runner.run(run())


@with_examples(*regressions.WEB)
@settings(CI, max_examples=examples(0.35))
@given(case=cases("web"))
def test_web(runner: asyncio.Runner, cold: Pair, tally: Tally, case: Case) -> None:
    run_case(runner, cold, case, tally)


@with_examples(*regressions.MOBILE)
@settings(CI, max_examples=examples(0.2))
@given(case=cases("mobile"))
def test_mobile(runner: asyncio.Runner, cold: Pair, tally: Tally, case: Case) -> None:
    run_case(runner, cold, case, tally)


@pytest.mark.parametrize(
    ("case", "fault"),
    [pytest.param(case, fault, id=name) for name, case, fault in found.FOUND],
)
def test_what_this_suite_found(
    runner: asyncio.Runner, cold: Pair, case: Case, fault: Mapping[str, Any] | None
) -> None:
    if fault is None:
        runner.run(cold.compare(case))
    else:
        runner.run(_faulted(cold, case, fault))


# Once a 500 (CannotGetOperationTypeError escaped); now 400 OPERATION_RESOLUTION_FAILURE.
UNKNOWN_OPERATION = pytest.param(regressions.UNKNOWN_OPERATION_NAME, id="unknown-operation-name")


@pytest.mark.parametrize("case", [*regressions.REQUESTS, UNKNOWN_OPERATION])
def test_requests_refused_or_not_executed(runner: asyncio.Runner, cold: Pair, case: Case) -> None:
    answer = runner.run(cold.compare(case))
    assert answer.status < 500, f"{answer}\n{case}"


@settings(CI, max_examples=examples(0.15))
@given(
    case=any_cases(CALLERS),
    fault=st.none() | st.sampled_from(FAULTS),
)
def test_with_every_read_cached(
    runner: asyncio.Runner, warm: Pair, tally: Tally, case: Case, fault: Mapping[str, Any] | None
) -> None:
    """The first run fills both caches the same way, the second reads from them (and a
    failing backend behind a warm cache changes nothing, or the same things)."""

    async def run() -> None:
        await warm.compare(case, note="(first run)", tally=tally)
        if fault is not None:
            await warm.fault(fault)
        try:
            await warm.compare(case, note=f"(second run, fault {fault})", tally=tally)
        finally:
            await warm.reset()

    runner.run(run())


@settings(CI, max_examples=examples(0.15))
@given(
    case=any_cases(READERS),
    fault=st.sampled_from(FAULTS),
)
def test_with_a_failing_backend(
    runner: asyncio.Runner, cold: Pair, case: Case, fault: Mapping[str, Any]
) -> None:
    runner.run(_faulted(cold, case, fault))


def with_hangs(test: F) -> F:
    for prefix, case in reversed(regressions.HUNG):
        test = example(case=case, fault={"path_prefix": prefix, "hang": True})(test)
    return test


@with_hangs
@settings(CI, max_examples=max(4, examples(0.03)))
@given(
    case=any_cases(READERS),
    fault=st.sampled_from(HANGS),
)
def test_with_a_hanging_backend(
    runner: asyncio.Runner, hanging: Pair, case: Case, fault: Mapping[str, Any]
) -> None:
    runner.run(_faulted(hanging, case, fault))


async def _faulted(pair: Pair, case: Case, fault: Mapping[str, Any]) -> None:
    await pair.fault(fault)
    try:
        await pair.compare(case, note=f"(fault {fault})")
    finally:
        await pair.reset()


@settings(CI, max_examples=max(5, examples(0.04)))
@given(batch=st.lists(any_cases(CALLERS), min_size=2, max_size=6))
def test_concurrent_requests_of_different_callers(
    runner: asyncio.Runner, cold: Pair, tally: Tally, batch: list[Case]
) -> None:
    """Requests in flight together (one plan cache, one loop, different callers): the same
    answers as the reference's, also in flight together. Which error comes first may
    depend on how the requests interleave, so answers with errors must agree on status and
    data only."""

    async def run() -> None:
        planned = await asyncio.gather(*(send(cold.planned, case) for case in batch))
        reference = await asyncio.gather(*(send(cold.reference, case) for case in batch))
        for case, p, r in zip(
            batch, map(Answer.of, planned), map(Answer.of, reference), strict=True
        ):
            tally.count(p)
            body = r.json()
            if isinstance(body, dict) and body.get("errors"):
                same = (p.status, p.json().get("data")) == (r.status, body.get("data"))
            else:
                same = p.http == r.http
            assert same, mismatch(case, p, r, "(in flight with others)")

    runner.run(run())


@pytest.mark.parametrize("cache", ["cold", "warm"])
@pytest.mark.parametrize("script", sorted(mutations.SCRIPTS))
def test_mutations_and_the_reads_after_them(
    runner: asyncio.Runner, script: str, cache: str
) -> None:
    async def run() -> None:
        config = COLD if cache == "cold" else WARM
        pair = Pair(cache=config, separate_stubs=True)
        try:
            for step, case in enumerate(mutations.SCRIPTS[script]):
                await pair.compare(case, note=f"(step {step} of {script})")
        finally:
            await pair.aclose()

    runner.run(run())


@settings(CI, max_examples=max(5, examples(0.05)))
@given(
    schema=st.sampled_from(("web", "mobile")),
    first=st.integers(1, 4),
    status=st.sampled_from((None, "BOOKED", "CANCELLED")),
    traveler=st.sampled_from((OWN, OTHER)),
)
def test_paging_with_the_cursor_of_the_page_before(
    runner: asyncio.Runner,
    cold: Pair,
    tally: Tally,
    schema: str,
    first: int,
    status: str | None,
    traveler: str,
) -> None:
    if schema == "web":
        filter_ = f", status: {status}" if status else ""
        document = (
            "query P($first: Int!, $after: String) { page: trips(travelerId: "
            f'"{traveler}", first: $first, after: $after{filter_}) {{ nextCursor items '
            "{ id title status totalCost { formatted } } } }"
        )
    else:
        document = (
            "query P($first: Int!, $after: String) { page: myTrips(first: $first, after: $after) "
            "{ items { id dates status } nextCursor } }"
        )
    caller = "agent" if schema == "web" else f"traveler:{traveler}"

    async def run() -> None:
        after = None
        for _ in range(3):
            variables = {"first": first, "after": after}
            case = Case(schema, document, variables, "P", caller)  # type: ignore[arg-type]
            answer = (await cold.compare(case, tally=tally)).json()
            after = answer["data"]["page"]["nextCursor"]
            if after is None:
                break

    runner.run(run())


def test_a_healthy_share_was_planned(tally: Tally) -> None:
    """Runs after the generated tests: a suite the planner never answered proves nothing.
    Clean answers must come from the planner; answers with errors come from the reference
    (the planner hands those over), so the overall share depends on the error cases drawn."""
    print(tally)
    if sum(tally.all.values()) < 50:  # a few tests selected alone
        pytest.skip(f"too few answers to judge: {tally}")
    assert Tally.share(tally.clean) >= 0.95, str(tally)
    assert Tally.share(tally.all) >= 0.3, str(tally)


def test_no_background_task_failed_unseen(asyncio_errors: list[str]) -> None:
    """Runs last: every task the gateways started was awaited, or its failure handled."""
    gc.collect()  # a never-retrieved task exception is logged when the task is collected
    assert asyncio_errors == []
