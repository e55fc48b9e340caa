"""The gateway's numbers, kept in-process and read by one of two sinks (gateway.observability
.sinks): Prometheus text at /metrics under uvicorn, CloudWatch EMF lines on Lambda.

    metrics = Metrics()
    metrics.count("gateway_requests_total", schema="web", operation="Trips", status="200")
    metrics.observe("gateway_backend_seconds", 0.012, backend="legacy", route="GET /api/fx")
    metrics.snapshot().counters[("gateway_requests_total", (("operation", "Trips"), ...))] -> 1

Label values are the gateway's own names (schemas, routes from routes.yaml, backends, status
codes, operation names): never a path with ids in it, so the series stay few.
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass, field

Labels = tuple[tuple[str, str], ...]
Key = tuple[str, Labels]
# Seconds; backend calls from a millisecond (an L1-fast stub) to the API Gateway's 30 s.
# Neighbours at most a third apart (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8 per decade): the
# canary ramp compares p99s read from these against a 1.5x gate, which a 2.5x-wide bucket
# (the usual 5-10-25 ms) cannot resolve. 46 bounds per series on /metrics.
_STEPS = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)
BUCKETS = tuple(
    round(step * 10.0**exponent, 6)
    for exponent in range(-3, 2)
    for step in _STEPS
    if step * 10.0**exponent <= 30.0
)
# Samples kept per series between two EMF flushes (EMF takes at most 100 values per metric).
MAX_SAMPLES = 100

HELP = {
    "gateway_requests_total": "Requests answered, by schema and operation (or route) and status",
    "gateway_request_seconds": "Time from the request's arrival to its last byte",
    "gateway_backend_calls_total": "Backend calls by backend, route and status",
    "gateway_backend_seconds": "Backend call latency until the answer's headers",
    "gateway_cache_answers_total": "Answers by X-Cache tier (l1, l2, miss, ...)",
    "gateway_route_calls_total": "Calls each route sent to each backend (canary share)",
    "gateway_shadow_total": "Shadow comparisons by route and outcome (match rate)",
    "gateway_rate_limited_total": "Requests refused by the gateway's rate limit",
    "gateway_executions_total": "GraphQL executions by executor (planned or reference)",
}


@dataclass
class Histogram:
    buckets: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    total: float = 0.0
    count: int = 0
    samples: list[float] = field(default_factory=list)  # since the last EMF flush

    def add(self, value: float) -> None:
        index = bisect.bisect_left(BUCKETS, value)
        if index < len(BUCKETS):
            self.buckets[index] += 1  # per-bucket; sinks make them cumulative
        self.total += value
        self.count += 1
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(value)


@dataclass(frozen=True)
class Snapshot:
    counters: dict[Key, float]
    histograms: dict[Key, Histogram]


def labels_of(values: dict[str, str]) -> Labels:
    return tuple(sorted(values.items()))


class Metrics:
    """Counters and histograms since the process started (or since `drain`, on Lambda)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # shadow runners and the event loop share it
        self._counters: dict[Key, float] = {}
        self._histograms: dict[Key, Histogram] = {}

    def count(self, name: str, amount: float = 1, /, **labels: str) -> None:
        self.count_key((name, labels_of(labels)), amount)

    def observe(self, name: str, value: float, /, **labels: str) -> None:
        self.observe_key((name, labels_of(labels)), value)

    def count_key(self, key: Key, amount: float = 1) -> None:
        """`count` with the key already made (`(name, labels_of(labels))`), for hot callers
        that remember their keys."""
        with self._lock:
            self._counters[key] = self._counters.get(key, 0) + amount

    def observe_key(self, key: Key, value: float) -> None:
        with self._lock:
            histogram = self._histograms.get(key)
            if histogram is None:
                histogram = self._histograms[key] = Histogram()
            histogram.add(value)

    def snapshot(self) -> Snapshot:
        with self._lock:
            histograms = {
                key: Histogram(list(h.buckets), h.total, h.count, list(h.samples))
                for key, h in self._histograms.items()
            }
            return Snapshot(dict(self._counters), histograms)

    def drain(self) -> Snapshot:
        """Everything since the last drain, and start again from zero (EMF sends deltas)."""
        with self._lock:
            taken = Snapshot(self._counters, self._histograms)
            self._counters, self._histograms = {}, {}
            return taken
