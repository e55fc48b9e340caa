"""Hypothesis settings for the differential suite.

CI runs a few hundred cases in all, the same ones every run (`derandomize`, no example
database), without per-example deadlines (a case makes several in-process HTTP requests and
a slow shared machine must not fail it). `DIFFERENTIAL_EXAMPLES=N` scales every test's count
to about N (the default is sized for N = 300). A failing case is reported as generated;
`DIFFERENTIAL_SHRINK=1` shrinks it to a minimal one first (minutes: every step runs the
requests again; hypothesis stops shrinking after 5 minutes).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

DEFAULT_EXAMPLES = 300


def examples(share: float) -> int:
    """This test's number of cases: `share` of `DIFFERENTIAL_EXAMPLES`."""
    wanted = int(os.environ.get("DIFFERENTIAL_EXAMPLES") or DEFAULT_EXAMPLES)
    return max(1, round(wanted * share))


CI = settings(
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    phases=(Phase.explicit, Phase.generate, Phase.shrink)
    if os.environ.get("DIFFERENTIAL_SHRINK", "0") == "1"
    else (Phase.explicit, Phase.generate),
)
