"""A circuit breaker per backend, so a dead backend costs a request nothing but an error.

    closed ──(`failures` consecutive failures)──▶ open ──(cool-down over)──▶ half-open
      ▲                                             ▲                            │
      └─────────────(the probe succeeds)────────────┼──────(the probe fails)─────┘

While open, calls fail at once with `BackendUnavailable` and nothing is sent. After the
cool-down exactly one call (the probe) goes through; the others keep failing fast until it
has answered. A probe that ends without a verdict (cancelled, or cut by the request's
deadline) hands the probe on to the next call.

What counts as a failure (`verdict_for`): a timeout of the backend's own (not one the
request's deadline cut short), a connection error, a 5xx. A 4xx is the caller's mistake
and counts as a success: the backend answered.

State lives per process (per warm Lambda container), one breaker per backend name. Every
transition is synchronous, with no await between the check and the change, so the breakers
are safe on one event loop without a lock.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Literal

from gateway.errors import BackendTimeout, BackendUnavailable

BreakerState = Literal["closed", "open", "half-open"]


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    failures: int = 5
    cooldown_s: float = 10.0

    def __post_init__(self) -> None:
        if self.failures < 1 or self.cooldown_s < 0:
            raise ValueError(
                f"BreakerPolicy needs failures >= 1 and cooldown_s >= 0, got {self.failures}, "
                f"{self.cooldown_s}"
            )


class Verdict(enum.Enum):
    SUCCESS = "success"
    FAILURE = "failure"
    NEUTRAL = "neutral"  # says nothing about the backend's health


def verdict_for(
    *, status: int | None = None, error: BaseException | None = None, cut: bool = False
) -> Verdict:
    """503 → FAILURE, 404 → SUCCESS, own timeout → FAILURE, deadline-cut timeout → NEUTRAL."""
    if error is None:
        return Verdict.FAILURE if status is not None and status >= 500 else Verdict.SUCCESS
    if isinstance(error, BackendTimeout):
        return Verdict.NEUTRAL if cut else Verdict.FAILURE
    if isinstance(error, BackendUnavailable):
        return Verdict.FAILURE
    return Verdict.NEUTRAL


class Admission(enum.Enum):
    CALL = "call"
    PROBE = "probe"
    REFUSED = "refused"


class CircuitBreaker:
    def __init__(self, policy: BreakerPolicy, *, clock: Callable[[], float]) -> None:
        self._policy = policy
        self._clock = clock
        self.failures = 0  # consecutive
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return "closed"
        if self._probing or self._clock() - self._opened_at >= self._policy.cooldown_s:
            return "half-open"
        return "open"

    def admit(self) -> Admission:
        """May a call go through now? When the breaker is half-open, the one call let through
        is the probe, and must report back (`record(..., probe=True)`)."""
        state = self.state
        if state == "closed":
            return Admission.CALL
        if state == "open" or self._probing:
            return Admission.REFUSED
        self._probing = True
        return Admission.PROBE

    def record(self, verdict: Verdict, *, probe: bool = False) -> None:
        if probe:
            self._probing = False
        if verdict is Verdict.SUCCESS:
            self.failures = 0
            self._opened_at = None
        elif verdict is Verdict.FAILURE:
            self.failures += 1
            if probe or self.failures >= self._policy.failures:
                self._opened_at = self._clock()  # (re)open: a new cool-down starts now
        # NEUTRAL: nothing learnt; a half-open breaker stays ready for the next probe

    def snapshot(self) -> dict[str, object]:
        return {"state": self.state, "consecutive_failures": self.failures}


class Breakers:
    """One breaker per backend name, made on first use."""

    def __init__(
        self, policy: BreakerPolicy | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.policy = policy or BreakerPolicy()
        self._clock = clock
        self._by_name: dict[str, CircuitBreaker] = {}

    def of(self, backend: str) -> CircuitBreaker:
        breaker = self._by_name.get(backend)
        if breaker is None:
            breaker = self._by_name[backend] = CircuitBreaker(self.policy, clock=self._clock)
        return breaker

    def guard(self, backend: str, *, cut: bool = False) -> Guard:
        return Guard(self.of(backend), backend, cut=cut)

    def snapshot(self) -> dict[str, dict[str, object]]:
        """`{"legacy": {"state": "open", "consecutive_failures": 5}}`, for /_gateway/routes."""
        return {name: breaker.snapshot() for name, breaker in sorted(self._by_name.items())}


class Guard:
    """One backend call under its breaker: refused at entry while open (`BackendUnavailable`,
    nothing sent); on exit the outcome is recorded. Inside, errors are already the
    gateway's own, and an answer's status is reported with `answered(status)`.

        with breakers.guard("legacy", cut=budget.cut) as guard:
            response = await ...
            guard.answered(response.status)
    """

    def __init__(self, breaker: CircuitBreaker, backend: str, *, cut: bool) -> None:
        self._breaker = breaker
        self._backend = backend
        self._cut = cut
        self._status: int | None = None
        self._probe = False

    def answered(self, status: int) -> None:
        self._status = status

    def __enter__(self) -> Guard:
        admission = self._breaker.admit()
        if admission is Admission.REFUSED:
            raise BackendUnavailable(backend=self._backend)
        self._probe = admission is Admission.PROBE
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        verdict = verdict_for(status=self._status, error=error, cut=self._cut)
        self._breaker.record(verdict, probe=self._probe)


def parse_failures(raw: str) -> int:
    """`GATEWAY_BREAKER_FAILURES`: "5" → 5."""
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{raw!r} must be a whole number of consecutive failures, at least 1")
    return int(raw)
