"""Per-route counters: requests and errors per backend, shadow matches and mismatches.

stats.record("GET /api/flights", "flights", ok=True)
stats.record_shadow("GET /api/flights", outcome="mismatch")
stats.snapshot() → {"routes": {"GET /api/flights": {"requests": 1, "errors": 0,
    "by_backend": {"flights": {"requests": 1, "errors": 0}},
    "shadow": {"match": 0, "mismatch": 1, "dropped": 0, "too_large": 0, "cut_off": 0}}}}
"""

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from gateway.observability.hooks import route_call, shadow_outcome

# match / mismatch: compared. dropped: the shadow queue was full. too_large: the primary
# answer was over the comparison's size bound. cut_off: still running when a Lambda
# invocation ended (cancelled; not a mismatch).
SHADOW_OUTCOMES = ("match", "mismatch", "dropped", "too_large", "cut_off")


@dataclass
class _RouteCounts:
    requests: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    shadow: Counter[str] = field(default_factory=Counter)

    def snapshot(self) -> dict[str, Any]:
        by_backend = {
            name: {"requests": self.requests[name], "errors": self.errors[name]}
            for name in sorted(self.requests)
        }
        return {
            "requests": self.requests.total(),
            "errors": self.errors.total(),
            "by_backend": by_backend,
            "shadow": {outcome: self.shadow[outcome] for outcome in SHADOW_OUTCOMES},
        }


class RouteStats:
    """Counters since the process started, keyed by RouteDecision.route_key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: dict[str, _RouteCounts] = {}

    def record(self, route_key: str, backend: str, *, ok: bool) -> None:
        with self._lock:
            counts = self._counts(route_key)
            counts.requests[backend] += 1
            counts.errors[backend] += 0 if ok else 1
        route_call(route_key, backend, ok=ok)  # metrics: canary share, backend latency

    def record_shadow(self, route_key: str, *, outcome: str) -> None:
        """`outcome` is one of SHADOW_OUTCOMES; only match and mismatch were compared."""
        with self._lock:
            self._counts(route_key).shadow[outcome] += 1
        shadow_outcome(route_key, outcome)  # metrics: shadow match rate

    def _counts(self, route_key: str) -> _RouteCounts:
        """Under the lock. Not setdefault: that builds three Counters per request to drop them."""
        counts = self._routes.get(route_key)
        if counts is None:
            counts = self._routes[route_key] = _RouteCounts()
        return counts

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"routes": {key: self._routes[key].snapshot() for key in sorted(self._routes)}}
