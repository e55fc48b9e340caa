"""Injected faults: what a test asked for (`Fault`) and what one request suffers
(`FaultTable.decide(path)` → `Verdict | None`).

Several faults coexist, one per path prefix; a request gets the longest prefix matching its
path. Failures are drawn from a RNG seeded by the prefix, so a run is repeatable.

    table.set(Fault("/api/flights", error_rate=1.0))
    table.decide("/api/flights/fl-1") → Verdict(latency_ms=0, hang=False, fail_status=503)
    table.decide("/api/trips/trip-1") → None
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any

from legacy_stub.errors import InvalidError


@dataclass(frozen=True, slots=True)
class Fault:
    path_prefix: str
    latency_ms: int = 0
    error_rate: float = 0.0
    status: int = 503
    hang: bool = False

    @classmethod
    def from_json(cls, body: Any) -> Fault:
        if not isinstance(body, dict):
            raise InvalidError("the body must be a JSON object")
        prefix = body.get("path_prefix")
        if not isinstance(prefix, str) or not prefix.startswith("/"):
            raise InvalidError("path_prefix is required and must start with '/'")
        return cls(
            prefix,
            latency_ms=_int(body, "latency_ms", default=0, low=0, high=600_000),
            error_rate=_rate(body),
            status=_int(body, "status", default=503, low=400, high=599),
            hang=_bool(body, "hang"),
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def is_noop(self) -> bool:
        return not (self.latency_ms or self.error_rate or self.hang)


@dataclass(frozen=True, slots=True)
class Verdict:
    latency_ms: int
    hang: bool
    fail_status: int | None


class FaultTable:
    def __init__(self) -> None:
        self._faults: dict[str, tuple[Fault, random.Random]] = {}

    def set(self, fault: Fault) -> None:
        """Replaces the fault on the same prefix; a fault that does nothing clears it."""
        self._faults.pop(fault.path_prefix, None)
        if not fault.is_noop:
            self._faults[fault.path_prefix] = (fault, random.Random(fault.path_prefix))

    def clear(self) -> None:
        self._faults.clear()

    def to_json(self) -> list[dict[str, Any]]:
        return [fault.to_json() for fault, _ in self._faults.values()]

    def decide(self, path: str) -> Verdict | None:
        if not self._faults:
            return None
        matching = [prefix for prefix in self._faults if path.startswith(prefix)]
        if not matching:
            return None
        fault, rng = self._faults[max(matching, key=len)]
        fails = fault.error_rate > 0 and rng.random() < fault.error_rate
        return Verdict(fault.latency_ms, fault.hang, fault.status if fails else None)


def _int(body: dict[str, Any], name: str, *, default: int, low: int, high: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidError(f"{name} must be an integer from {low} to {high}")
    return value


def _rate(body: dict[str, Any]) -> float:
    value = body.get("error_rate", 0.0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InvalidError("error_rate must be a number from 0 to 1")
    return float(value)


def _bool(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise InvalidError(f"{name} must be true or false")
    return value
