"""A small circuit breaker: after `failures` consecutive failures, skip the system for
`open_s` seconds; then let one probe call through (half-open). Pure, given a clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

BreakerState = Literal["closed", "open"]


class CircuitBreaker:
    def __init__(
        self, *, failures: int, open_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if failures < 1 or open_s < 0:
            raise ValueError(
                f"CircuitBreaker needs failures >= 1 and open_s >= 0, got {failures}, {open_s}"
            )
        self._threshold = failures
        self._open_s = open_s
        self._clock = clock
        self._failures = 0
        self._open_until = 0.0

    @property
    def state(self) -> BreakerState:
        return "open" if self._failures >= self._threshold else "closed"

    def allow(self) -> bool:
        """May a call go through now? While open, one probe per `open_s` is allowed."""
        if self._failures < self._threshold:
            return True
        now = self._clock()
        if now < self._open_until:
            return False
        self._open_until = now + self._open_s  # this caller is the probe
        return True

    def record_success(self) -> None:
        self._failures = 0
        self._open_until = 0.0

    def record_failure(self) -> None:
        self._failures += 1
        if self._failures >= self._threshold:
            self._open_until = self._clock() + self._open_s
