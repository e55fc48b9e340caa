"""The p99s the canary ramp compares come from the backend latency histograms: read there
(interpolated inside a bucket), each lies in the bucket of the samples' own p99, and they
are close enough that the 1.5x gate almost always rolls back a canary twice as slow and
leaves one a fifth slower alone."""

from __future__ import annotations

import itertools
import math
import random

from hypothesis import given
from hypothesis import strategies as st

from gateway.observability.metrics import BUCKETS, Histogram
from gateway.routing.policies import Auto
from gateway.routing.ramp import BackendWindow, RampState, Window, next_step
from gateway.routing.ramp_window import bucket_quantile

WIDEST = max(upper / lower for lower, upper in itertools.pairwise(BUCKETS))


def histogram_of(samples: list[float]) -> Histogram:
    histogram = Histogram()
    for value in samples:
        histogram.add(value)
    return histogram


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[math.ceil(0.99 * len(ordered)) - 1]


def estimated_p99(samples: list[float]) -> float:
    histogram = histogram_of(samples)
    found = bucket_quantile(tuple(histogram.buckets), histogram.count, 0.99)
    assert found is not None
    return found


def test_neighbouring_bounds_are_at_most_a_third_apart() -> None:
    assert list(BUCKETS) == sorted(BUCKETS) and BUCKETS[-1] == 30.0
    assert WIDEST <= 4 / 3 + 1e-9


@given(st.lists(st.floats(0.0011, 29.0), min_size=1, max_size=400))
def test_the_estimate_lies_in_the_bucket_of_the_true_p99(samples: list[float]) -> None:
    true, estimate = p99(samples), estimated_p99(samples)
    assert true / WIDEST <= estimate * (1 + 1e-9) and estimate <= true * WIDEST * (1 + 1e-9)


def latencies(seed: int, base_s: float, factor: float, n: int = 400) -> list[float]:
    """A backend's latencies: most near `base_s`, a slow tail to 3x (times `factor`)."""
    rng = random.Random(seed)
    body = [rng.uniform(0.6, 1.4) * base_s for _ in range(int(n * 0.95))]
    tail = [rng.uniform(1.4, 3.0) * base_s for _ in range(n - len(body))]
    return [value * factor for value in body + tail]


BASES_S = (0.003, 0.0137, 0.05, 0.21, 0.9375, 1.7)
SEEDS = range(300)


def test_the_gate_almost_always_tells_a_fifth_slower_from_twice_as_slow() -> None:
    """At 400 calls a window, neither the samples' own p99 (set by a handful of calls) nor
    its estimate (within a bucket a third wide) is exact: over 1,800 windows each, a canary
    a fifth slower is rolled back in at most 1 % of them and one twice as slow kept in at
    most 1 %. (Measured: 5 and 1 of 1,800.) Fixed seeds: the same windows every run."""
    auto = Auto(step=10, every_s=60, max_p99_ratio=1.5, min_requests=1)
    state = RampState(percent=20, changed_at=0.0)
    wrong = {1.2: 0, 2.0: 0}
    for base_s, seed in itertools.product(BASES_S, SEEDS):
        primary = latencies(seed, base_s, 1.0)
        for factor in wrong:
            canary = latencies(seed + 1, base_s, factor)
            window = Window(
                BackendWindow(len(canary), 0, estimated_p99(canary)),
                BackendWindow(len(primary), 0, estimated_p99(primary)),
            )
            rolled_back = next_step(auto, state, window, now=0.0).action == "rollback"
            wrong[factor] += rolled_back if factor < 1.5 else not rolled_back
    windows = len(BASES_S) * len(SEEDS)
    assert wrong[1.2] <= windows // 100 and wrong[2.0] <= windows // 100, wrong
