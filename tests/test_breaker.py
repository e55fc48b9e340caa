"""The per-backend circuit breaker's state machine, on an injected clock, and which outcomes
count against a backend."""

from __future__ import annotations

import asyncio

import pytest

from gateway.breaker import (
    Admission,
    BreakerPolicy,
    Breakers,
    CircuitBreaker,
    Verdict,
    parse_failures,
    verdict_for,
)
from gateway.errors import BackendTimeout, BackendUnavailable

FAIL, OK, NEUTRAL = Verdict.FAILURE, Verdict.SUCCESS, Verdict.NEUTRAL


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def opened(clock: Clock, *, failures: int = 3, cooldown_s: float = 10.0) -> CircuitBreaker:
    breaker = CircuitBreaker(BreakerPolicy(failures=failures, cooldown_s=cooldown_s), clock=clock)
    for _ in range(failures):
        assert breaker.admit() is Admission.CALL
        breaker.record(FAIL)
    return breaker


def test_it_opens_after_the_consecutive_failures_and_refuses_until_the_cool_down() -> None:
    clock = Clock()
    breaker = CircuitBreaker(BreakerPolicy(failures=3, cooldown_s=10), clock=clock)
    breaker.record(FAIL)
    breaker.record(FAIL)
    assert breaker.snapshot() == {"state": "closed", "consecutive_failures": 2}
    breaker.record(FAIL)
    assert breaker.snapshot() == {"state": "open", "consecutive_failures": 3}
    clock.now += 9.99
    assert breaker.admit() is Admission.REFUSED


def test_a_success_between_failures_starts_the_count_again() -> None:
    breaker = CircuitBreaker(BreakerPolicy(failures=2, cooldown_s=10), clock=Clock())
    for verdict in (FAIL, OK, FAIL, NEUTRAL):
        breaker.record(verdict)
    assert breaker.snapshot() == {"state": "closed", "consecutive_failures": 1}


def test_after_the_cool_down_one_probe_goes_through_and_its_success_closes() -> None:
    clock = Clock()
    breaker = opened(clock)
    clock.now += 10
    assert breaker.state == "half-open"
    assert breaker.admit() is Admission.PROBE
    assert breaker.admit() is Admission.REFUSED  # only one probe at a time
    breaker.record(OK, probe=True)
    assert breaker.snapshot() == {"state": "closed", "consecutive_failures": 0}
    assert breaker.admit() is Admission.CALL


def test_a_failed_probe_opens_again_for_a_whole_new_cool_down() -> None:
    clock = Clock()
    breaker = opened(clock)
    clock.now += 15
    assert breaker.admit() is Admission.PROBE
    breaker.record(FAIL, probe=True)
    assert breaker.snapshot() == {"state": "open", "consecutive_failures": 4}
    clock.now += 9
    assert breaker.admit() is Admission.REFUSED
    clock.now += 1
    assert breaker.admit() is Admission.PROBE


def test_a_probe_without_a_verdict_hands_the_probe_on() -> None:
    clock = Clock()
    breaker = opened(clock)
    clock.now += 10
    assert breaker.admit() is Admission.PROBE
    breaker.record(NEUTRAL, probe=True)  # cancelled, or cut by its request's deadline
    assert breaker.state == "half-open"
    assert breaker.admit() is Admission.PROBE


def test_a_late_answer_of_an_earlier_call_does_not_free_the_probe_slot() -> None:
    clock = Clock()
    breaker = opened(clock)
    clock.now += 10
    assert breaker.admit() is Admission.PROBE
    breaker.record(NEUTRAL)  # a call admitted while closed, ending now
    assert breaker.admit() is Admission.REFUSED


@pytest.mark.parametrize(
    ("outcome", "verdict"),
    [
        ({"status": 200}, OK),
        ({"status": 404}, OK),  # the backend answered: the caller's mistake
        ({"status": 422}, OK),
        ({"status": 500}, FAIL),
        ({"status": 503}, FAIL),
        ({"error": BackendUnavailable(backend="legacy")}, FAIL),
        ({"error": BackendTimeout(backend="legacy", timeout_s=3)}, FAIL),
        ({"error": BackendTimeout(backend="legacy", timeout_s=0.2), "cut": True}, NEUTRAL),
        ({"error": asyncio.CancelledError()}, NEUTRAL),
    ],
)
def test_which_outcomes_count_against_a_backend(
    outcome: dict[str, object], verdict: Verdict
) -> None:
    assert verdict_for(**outcome) is verdict  # type: ignore[arg-type]


def test_the_guard_refuses_without_calling_and_records_what_happened() -> None:
    clock = Clock()
    breakers = Breakers(BreakerPolicy(failures=2, cooldown_s=5), clock=clock)
    for _ in range(2):
        with pytest.raises(BackendUnavailable), breakers.guard("legacy"):
            raise BackendUnavailable(backend="legacy", status=503)
    with breakers.guard("flights") as guard:
        guard.answered(404)
    calls = []
    with pytest.raises(BackendUnavailable) as refused, breakers.guard("legacy"):
        calls.append("sent")
    assert calls == []
    assert refused.value.extensions == {"code": "BACKEND_UNAVAILABLE"}
    assert breakers.snapshot() == {
        "flights": {"state": "closed", "consecutive_failures": 0},
        "legacy": {"state": "open", "consecutive_failures": 2},
    }
    clock.now += 5
    with breakers.guard("legacy") as guard:
        guard.answered(200)
    assert breakers.snapshot()["legacy"] == {"state": "closed", "consecutive_failures": 0}


def test_bad_policies_fail_at_start_up() -> None:
    with pytest.raises(ValueError, match="failures >= 1"):
        BreakerPolicy(failures=0)
    assert parse_failures("7") == 7
    with pytest.raises(ValueError, match="at least 1"):
        parse_failures("0")
