"""The first service extracted from the monolith (`services.flights.app:app`).

Serves only `GET /api/flights/{id}` and `GET /api/flights?ids=` with the same JSON as the
monolith, from the same seeded data (STUB_SEED, STUB_TRAVELERS, STUB_TRIPS must match the
monolith's for identical flights; STUB_LATENCY_MS as there). It has its own `/_stub/` admin
API (counts, faults, events, patch) as documented in `legacy_stub.app`; everything else is
404 `not_found`.
"""

from __future__ import annotations

import os

from starlette.applications import Starlette

from legacy_stub import factory
from legacy_stub.data import Dataset
from legacy_stub.store import Clock, utc_now


def create_app(
    dataset: Dataset | None = None, *, latency_ms: int | None = None, clock: Clock = utc_now
) -> Starlette:
    return factory.create_app(dataset, only_flights=True, latency_ms=latency_ms, clock=clock)


app = factory.create_app_from_env(os.environ, only_flights=True)
