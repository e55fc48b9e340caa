"""The monolith's REST endpoints (`/api/...`), one small handler each, over a `Store`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from legacy_stub.booking import NewTrip
from legacy_stub.errors import InvalidError
from legacy_stub.paging import decode_cursor, encode_cursor
from legacy_stub.params import parse_ids, parse_limit, parse_status, scramble
from legacy_stub.responses import JsonResponse, read_json
from legacy_stub.store import Store

Endpoint = Callable[[Request], Awaitable[Response]]
RouteSpec = tuple[str, str, Endpoint]  # (method, path template, endpoint)

# Path segment → kind, for the entities served as "one, or batch".
ENTITY_PATHS = {
    "travelers": "traveler",
    "trips": "trip",
    "flights": "flight",
    "hotel-stays": "hotel stay",
    "car-rentals": "car rental",
}


class LegacyApi:
    def __init__(self, store: Store) -> None:
        self.store = store

    def routes(self, *, only: tuple[str, ...] | None = None) -> list[RouteSpec]:
        """Every endpoint of the contract, or only the entity paths in `only`
        (`only=("flights",)` is the flights service)."""
        specs: list[RouteSpec] = []
        for segment, kind in ENTITY_PATHS.items():
            if only is None or segment in only:
                specs.append(("GET", f"/api/{segment}/{{id}}", self._one(kind)))
                specs.append(("GET", f"/api/{segment}", self._batch(kind)))
        if only is None:
            specs += [
                ("GET", "/api/travelers/{id}/trips", self.traveler_trips),
                ("POST", "/api/trips", self.book_trip),
                ("POST", "/api/trips/{id}/cancel", self.cancel_trip),
                ("GET", "/api/destinations/top", self.top_destinations),
                ("GET", "/api/fx", self.fx),
            ]
        return specs

    def _one(self, kind: str) -> Endpoint:
        async def one(request: Request) -> Response:
            return JsonResponse(self.store.get(kind, request.path_params["id"]))

        return one

    def _batch(self, kind: str) -> Endpoint:
        async def batch(request: Request) -> Response:
            ids = scramble(parse_ids(request.query_params.get("ids")))
            return JsonResponse({"items": self.store.batch(kind, ids)})

        return batch

    async def traveler_trips(self, request: Request) -> Response:
        query = request.query_params
        cursor = query.get("cursor") or None
        page = self.store.trips_of(
            request.path_params["id"],
            status=parse_status(query.get("status")),
            limit=parse_limit(query.get("limit"), default=20, maximum=100),
            after=None if cursor is None else decode_cursor(cursor),
        )
        next_cursor = None if page.last is None else encode_cursor(page.last)
        return JsonResponse({"items": page.items, "next_cursor": next_cursor})

    async def book_trip(self, request: Request) -> Response:
        new = NewTrip.from_json(await read_json(request))
        return JsonResponse(self.store.book(new), status_code=201)

    async def cancel_trip(self, request: Request) -> Response:
        return JsonResponse(self.store.cancel(request.path_params["id"]))

    async def top_destinations(self, request: Request) -> Response:
        limit = parse_limit(request.query_params.get("limit"), default=10, maximum=50)
        return JsonResponse({"items": self.store.top_destinations(limit)})

    async def fx(self, request: Request) -> Response:
        base = request.query_params.get("base", "")
        rates = self.store.dataset.fx_rates.get(base)
        if rates is None:
            known = ", ".join(self.store.dataset.fx_rates)
            raise InvalidError(f"base must be one of {known}, got {base!r}")
        return JsonResponse({"base": base, "rates": rates, "as_of": self.store.dataset.fx_as_of})
