"""A planned level's loads share what they work out from the same parents
(gateway.batching.Level): `flights` and `totalCost` of twenty trips split the flights
batch once. Outside a level (strawberry's resolvers) nothing is shared."""

from __future__ import annotations

import httpx

from gateway import batching
from gateway.auth import issue_dev_token
from gateway.cache.setup import CacheConfig
from gateway.loaders import Entity
from gateway.resolvers.bookings import bookings_of, flights_of
from gateway.routing.table import Caller
from gateway.runtime import Runtime
from gateway.viewer import Viewer
from legacy_stub.app import create_app as create_stub
from tests.support import inprocess


async def _viewer_and_trips() -> tuple[Viewer, list[Entity]]:
    runtime = Runtime(
        inprocess.settings(),
        transport=httpx.ASGITransport(app=create_stub()),
        cache_config=CacheConfig.from_env({}),
    )
    token = issue_dev_token("t-1", secret=inprocess.SECRET)
    request = Caller(authorization=f"Bearer {token}")
    viewer = (await runtime.context_for(request)).viewer
    page = await viewer.trips_of("t-1", status=None, first=5, after=None)
    return viewer, list(page.items)


async def test_in_a_level_the_same_trips_flights_are_worked_out_once() -> None:
    viewer, trips = await _viewer_and_trips()
    token = batching.planned_level.set(batching.Level())
    try:
        first = await flights_of(viewer, trips)
        bookings = await bookings_of(viewer, trips)
        assert all(b.flights is part for b, part in zip(bookings, first, strict=True))
        other = await flights_of(viewer, list(trips))
        assert other == first and other is not first  # another list of parents: its own
    finally:
        batching.planned_level.reset(token)
    outside = await flights_of(viewer, trips)
    assert outside == first and outside is not first
    assert sum(len(part) for part in first) > 0
