"""Builds the stub as a Starlette app: the monolith, or an extracted service's slice of it.
The admin API it carries is described in `legacy_stub.app`."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Route

from legacy_stub.admin import StubAdmin
from legacy_stub.api import LegacyApi
from legacy_stub.data import Dataset, build_dataset
from legacy_stub.errors import StubError
from legacy_stub.faults import FaultTable
from legacy_stub.instrument import Instrument
from legacy_stub.responses import no_route_response, stub_error_response
from legacy_stub.settings import StubSettings
from legacy_stub.stats import RequestStats
from legacy_stub.store import Clock, Store, utc_now

FLIGHTS_ONLY = ("flights",)


def create_app(
    dataset: Dataset | None = None,
    *,
    only_flights: bool = False,
    latency_ms: int | None = None,
    clock: Clock = utc_now,
) -> Starlette:
    """The monolith over `dataset` (default: `build_dataset()`); `only_flights` keeps just
    the flight endpoints, as the extracted flights service serves them."""
    only = FLIGHTS_ONLY if only_flights else None
    store = Store(dataset if dataset is not None else build_dataset(), clock=clock)
    instrument = Instrument(stats=RequestStats(), faults=FaultTable(), latency_ms=latency_ms or 0)
    api_routes: list[BaseRoute] = [
        Route(template, instrument.wrap(method, template, endpoint), methods=[method])
        for method, template, endpoint in LegacyApi(store).routes(only=only)
    ]
    return Starlette(
        routes=[*api_routes, *StubAdmin(store, instrument).routes()],
        exception_handlers={StubError: stub_error_response, HTTPException: no_route_response},
    )


def create_app_from_env(environ: Mapping[str, str], *, only_flights: bool = False) -> Starlette:
    """Raises `SettingsError` naming the variable when one is malformed."""
    settings = StubSettings.from_env(environ)
    dataset = build_dataset(settings.seed, settings.travelers, settings.trips)
    return create_app(dataset, only_flights=only_flights, latency_ms=settings.latency_ms)
