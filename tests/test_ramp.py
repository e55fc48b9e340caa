"""Self-ramping canaries: the pure decision (ramp.py), the `auto:` key of routes.yaml and the
in-process compare-and-set store."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from gateway.routing.errors import RoutesError
from gateway.routing.policies import Auto
from gateway.routing.ramp import BackendWindow, RampState, Window, apply, first_state, next_step
from gateway.routing.ramp_state import LocalRampStore, decode, encode
from gateway.routing.table import parse_table

AUTO = Auto(
    step=10,
    every_s=60,
    max_error_rate=0.01,
    max_p99_ratio=1.5,
    min_shadow_match=0.99,
    min_requests=20,
)
HEALTHY = Window(
    canary=BackendWindow(requests=100, errors=0, p99_s=0.05),
    primary=BackendWindow(requests=900, errors=3, p99_s=0.05),
    shadow_compared=200,
    shadow_matched=200,
)


def run(state: RampState, window: Window, now: float) -> RampState:
    decision = next_step(AUTO, state, window, now=now)
    if decision.action in ("raise", "rollback"):
        return apply(state, decision, now=now, stamp="t")
    return state


def test_ramps_by_step_while_the_gates_hold_and_stops_at_100() -> None:
    state, percents = first_state(10, now=0), []
    for minute in range(1, 12):
        state = run(state, HEALTHY, now=minute * 60)
        percents.append(state.percent)
    assert percents == [20, 30, 40, 50, 60, 70, 80, 90, 100, 100, 100]
    assert next_step(AUTO, state, HEALTHY, now=10_000).action == "hold"


def test_holds_until_every_is_over_and_until_there_is_enough_traffic() -> None:
    state = first_state(10, now=0)
    early = next_step(AUTO, state, HEALTHY, now=59)
    assert (early.action, early.percent) == ("hold", 10)
    assert "not time yet" in early.reason
    quiet = replace(HEALTHY, canary=BackendWindow(requests=19, errors=0, p99_s=0.05))
    held = next_step(AUTO, state, quiet, now=600)
    assert (held.action, held.percent) == ("hold", 10)
    assert "19 of 20" in held.reason


@pytest.mark.parametrize(
    ("window", "gate"),
    [
        (replace(HEALTHY, canary=BackendWindow(100, 2, 0.05)), "max_error_rate"),
        (replace(HEALTHY, canary=BackendWindow(100, 0, 0.1)), "max_p99_ratio"),
        (replace(HEALTHY, shadow_matched=197), "min_shadow_match"),
    ],
)
def test_rolls_back_at_once_when_a_gate_fails(window: Window, gate: str) -> None:
    state = first_state(40, now=0)
    decision = next_step(AUTO, state, window, now=1)  # long before `every` is over
    assert (decision.action, decision.percent) == ("rollback", 0)
    assert gate in decision.reason


def test_the_gates_at_their_limits_still_hold() -> None:
    edge = Window(
        canary=BackendWindow(100, 1, 0.075),  # 1% errors, p99 ×1.5
        primary=BackendWindow(100, 0, 0.05),
        shadow_compared=100,
        shadow_matched=99,
    )
    assert next_step(AUTO, first_state(10, now=0), edge, now=60).action == "raise"


def test_latency_needs_enough_requests_on_both_sides_but_errors_do_not() -> None:
    slow_few = replace(HEALTHY, canary=BackendWindow(5, 0, 2.5))
    assert next_step(AUTO, first_state(10, now=0), slow_few, now=1).action == "hold"
    one_error = replace(HEALTHY, canary=BackendWindow(1, 1, None))
    assert next_step(AUTO, first_state(10, now=0), one_error, now=1).action == "rollback"


def test_never_moves_back_up_after_a_rollback() -> None:
    state = run(first_state(30, now=0), replace(HEALTHY, shadow_matched=10), now=5)
    assert (state.percent, state.rolled_back) == (0, True)
    for minute in range(1, 30):  # healthy again, for a long time
        state = run(state, HEALTHY, now=minute * 60)
        assert (state.percent, state.rolled_back) == (0, True)
    decision = next_step(AUTO, state, HEALTHY, now=10_000)
    assert decision.action == "stay"
    assert "min_shadow_match" in decision.reason and "re-arm" in decision.reason
    assert [line.split()[1] for line in state.history] == ["rollback"]


def test_history_keeps_every_change_with_its_reason_and_state_round_trips() -> None:
    state = run(first_state(10, now=0), HEALTHY, now=60)
    state = run(state, replace(HEALTHY, canary=BackendWindow(50, 50, None)), now=61)
    assert state.rev == 2
    assert state.history[0].startswith("t raise 10% → 20%: gates hold")
    assert state.history[1].startswith("t rollback 20% → 0%: error rate 100.0% (50/50)")
    assert decode(encode(state)) == state


def test_the_local_store_is_compare_and_set() -> None:
    async def scenario() -> None:
        store = LocalRampStore()
        armed = replace(first_state(10, now=0), rev=1)
        assert await store.swap("GET /x", version="v1", expected_rev=0, new=armed)
        assert not await store.swap("GET /x", version="v1", expected_rev=0, new=armed)
        raised = replace(armed, percent=20, rev=2)
        assert await store.swap("GET /x", version="v1", expected_rev=1, new=raised)
        assert await store.get("GET /x", version="v1") == raised
        assert await store.get("GET /x", version="v2") is None  # a new table re-arms

    asyncio.run(scenario())


ROUTES = """version: 1
backends:
  legacy: {url: "http://legacy"}
  flights: {url: "http://flights"}
default: legacy
routes:
  - path: /api/flights/**
    target: legacy
    canary:
      target: flights
      percent: 5
      auto: %s
"""


def test_auto_is_read_with_defaults_and_durations() -> None:
    text = ROUTES % "{step: 25, every: 2m, max_error_rate: 0.05, min_shadow_match: 0.99}"
    canary = parse_table(text, source="routes.yaml", env={}).routes[0].canary
    assert canary is not None
    assert canary.auto == Auto(
        step=25, every_s=120, max_error_rate=0.05, max_p99_ratio=1.5, min_shadow_match=0.99
    )
    text = ROUTES % "{every: 500ms, max_error_rate: 0}"
    auto = parse_table(text, source="routes.yaml", env={}).routes[0].canary.auto  # type: ignore[union-attr]
    assert auto == Auto(every_s=0.5, max_error_rate=0.0)


def test_bad_auto_values_are_reported_with_their_line() -> None:
    text = ROUTES % "{step: 0, every: soon, max_p99_ratio: 0.5, min_shadow_match: 2, often: 1}"
    with pytest.raises(RoutesError) as caught:
        parse_table(text, source="routes.yaml", env={})
    problems = [str(problem) for problem in caught.value.problems]
    assert len(problems) == 5, problems
    assert all("routes.yaml:12" in problem for problem in problems), problems
    joined = "\n".join(problems)
    for needle in ("step 0", "'soon' is not a duration", "max_p99_ratio 0.5", "min_shadow_match 2"):
        assert needle in joined
    assert "often" in joined
