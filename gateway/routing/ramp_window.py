"""A ramped canary's numbers since the process started, from which the driver takes windows.

    latencies = Latencies(METRICS)
    counts = route_counts(route, stats.snapshot()["routes"][route.key], latencies)
    window = counts.minus(start)  → ramp.Window(canary=..., primary=..., shadow_...)

Requests, errors and shadow outcomes come from RouteStats (counted since start, never
reset). Latencies come from the backend histograms of the metrics registry, which the
Lambda handler drains after every invocation (EMF sends deltas): `Latencies.absorb` keeps
what each drain took, so a window that spans invocations still has all its samples.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from gateway.observability.metrics import BUCKETS, Key, Metrics, Snapshot, labels_of
from gateway.routing.ramp import BackendWindow, Window
from gateway.routing.routes import Route

LATENCY = "gateway_backend_seconds"
_EMPTY = (0,) * len(BUCKETS)


@dataclass(frozen=True)
class Calls:
    requests: int = 0
    errors: int = 0
    buckets: tuple[int, ...] = _EMPTY
    observed: int = 0  # latency samples, including those over the last bucket

    def minus(self, other: Calls) -> Calls:
        """A window; never below 0 (a counter that went down counts from 0)."""
        return Calls(
            max(0, self.requests - other.requests),
            max(0, self.errors - other.errors),
            tuple(max(0, a - b) for a, b in zip(self.buckets, other.buckets, strict=True)),
            max(0, self.observed - other.observed),
        )

    def window(self) -> BackendWindow:
        return BackendWindow(
            self.requests, self.errors, bucket_quantile(self.buckets, self.observed, 0.99)
        )


@dataclass(frozen=True)
class Counts:
    canary: Calls
    primary: Calls
    matched: int
    compared: int

    def minus(self, other: Counts) -> Window:
        return Window(
            self.canary.minus(other.canary).window(),
            self.primary.minus(other.primary).window(),
            shadow_compared=max(0, self.compared - other.compared),
            shadow_matched=max(0, self.matched - other.matched),
        )


class Latencies:
    """The backend latency histograms since the process started, across drains."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._lock = threading.Lock()
        self._drained: dict[Key, tuple[tuple[int, ...], int]] = {}

    def absorb(self, drained: Snapshot) -> None:
        """Keep the latency part of what `Metrics.drain()` took (the Lambda handler's EMF)."""
        with self._lock:
            for key, histogram in drained.histograms.items():
                if key[0] != LATENCY:
                    continue
                buckets, observed = self._drained.get(key, (_EMPTY, 0))
                added = tuple(a + b for a, b in zip(buckets, histogram.buckets, strict=True))
                self._drained[key] = (added, observed + histogram.count)

    def totals(self) -> dict[Key, tuple[tuple[int, ...], int]]:
        """(per-bucket counts, samples) per series: drained so far plus what is live now."""
        live = self._metrics.snapshot().histograms
        with self._lock:
            totals = dict(self._drained)
        for key, histogram in live.items():
            if key[0] == LATENCY:
                buckets, observed = totals.get(key, (_EMPTY, 0))
                added = tuple(a + b for a, b in zip(buckets, histogram.buckets, strict=True))
                totals[key] = (added, observed + histogram.count)
        return totals


def route_counts(
    route: Route, stats: dict[str, Any], latencies: dict[Key, tuple[tuple[int, ...], int]]
) -> Counts:
    """`stats`: the route's RouteStats snapshot; `latencies`: `Latencies.totals()`."""
    assert route.canary is not None
    by_backend = stats.get("by_backend", {})
    shadow = stats.get("shadow", {})

    def calls(backend: str) -> Calls:
        counted = by_backend.get(backend, {})
        key = (LATENCY, labels_of({"backend": backend, "route": route.key}))
        buckets, observed = latencies.get(key, (_EMPTY, 0))
        return Calls(counted.get("requests", 0), counted.get("errors", 0), buckets, observed)

    matched = int(shadow.get("match", 0))
    return Counts(
        calls(route.canary.target),
        calls(route.target),
        matched,
        matched + shadow.get("mismatch", 0),
    )


def bucket_quantile(buckets: tuple[int, ...], observed: int, q: float) -> float | None:
    """Quantile `q` from per-bucket counts (as metrics.Histogram keeps them), interpolated
    linearly inside the bucket that holds it, as Prometheus' histogram_quantile does; over
    the last bucket: infinity. None without samples."""
    if not observed:
        return None
    needed, running, lower = q * observed, 0, 0.0
    for bound, count in zip(BUCKETS, buckets, strict=True):
        if count and running + count >= needed:
            return lower + (bound - lower) * max(0.0, needed - running) / count
        running += count
        lower = bound
    return float("inf")
