"""The garbage collector, tuned for a long-lived async server.

Under load a gateway holds tens of thousands of live objects (in-flight coroutines,
futures, per-request loaders), and CPython's default thresholds (700, 10, 10) made full
collections over all of them take 40-60% of the CPU in the benchmark (docs/benchmarks.md).
Objects alive after start-up (modules, both schemas, the app) live as long as the process,
so they are frozen out of the collector's way, and young objects are collected less often.
"""

from __future__ import annotations

import gc

THRESHOLDS = (20_000, 20, 50)


def settle_after_startup() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
