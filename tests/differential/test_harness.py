"""The comparison itself: two gateways that answer differently are caught."""

from __future__ import annotations

import asyncio

import pytest

from tests.differential.harness import COLD, Pair
from tests.differential.regressions import OWN_TRIP
from tests.differential.strategies import Case


def test_a_different_answer_is_reported_with_the_case(runner: asyncio.Runner) -> None:
    case = Case("web", f'{{ trip(id: "{OWN_TRIP}") {{ id flights {{ id }} }} }}', {}, None, "agent")

    async def run() -> None:
        pair = Pair(cache=COLD, separate_stubs=True)
        try:
            await pair.compare(case)
            # Only the planned gateway's stub fails: the answers must now differ.
            await pair.fault({"path_prefix": "/api/flights", "error_rate": 1.0, "status": 503})
            with pytest.raises(AssertionError, match=r"(?s)answers differ.*BACKEND_UNAVAILABLE"):
                await pair.compare(case)
        finally:
            await pair.aclose()

    runner.run(run())
