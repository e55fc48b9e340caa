"""The baseline of issue 9: the BFF a frontend team would write by hand instead of the gateway.

FastAPI, one `httpx.AsyncClient` per process on the aiohttp transport
(`httpx_aiohttp.AiohttpTransport`), orjson in and out. Two endpoints answer the same JSON
bytes as the gateway does for the bench's two private queries, from the same backend calls:

- `POST /web/trips`: the web trips page (bench.fixtures.WEB_TRIPS, `first: 20`). Calls:
  the traveler's trip page; then at once the trips' travelers, flights, hotel stays and car
  rentals (one batch endpoint each, `?ids=`); then the fx rates of each traveler currency a
  total needs converting to → 6 for one traveler.
- `POST /mobile/itinerary`: the mobile itinerary (bench.fixtures.MOBILE_ITINERARY). Calls:
  the trip (`/api/trips?ids=`); then its traveler, flights, stays and cars; then fx → 6.

Both take the gateway's request as it is (bearer token, GraphQL JSON body) and read only
`variables` from the body; the query text is what the endpoint hard-codes. The token is
verified (HS256, `BFF_JWT_SECRET`) and a traveler may read only their own trips, as in the
gateway. Errors are plain HTTP statuses, not GraphQL errors: only the happy path is compared.

Money, segments and dates follow /work/shared/contract/README.md; the rules are exact enough
(decimal conversion, rounding per item, en dashes) that this baseline reuses the gateway's
pure functions for them (gateway.money, gateway.segments, gateway.dates) rather than a copy
that could drift: they are plain functions over the backend's dicts, no framework involved,
and a hand-written BFF would need the same code.

    BFF_BACKEND_URL=http://127.0.0.1:8001 BFF_JWT_SECRET=... uvicorn bench.handwritten_bff:app
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import jwt
import orjson
from fastapi import FastAPI, HTTPException, Request
from starlette.responses import Response

from gateway.dates import format_date_range
from gateway.money import format_money, total_minor
from gateway.segments import build_segments

Entity = dict[str, Any]
BATCH_LIMIT = 100  # the monolith's largest batch
PAGE_SIZE = 20  # `trips(first: 20)`


class Backend:
    """The monolith's REST API through one client: JSON by path, batches by id."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def get(self, path: str, params: Mapping[str, str]) -> bytes:
        response = await self.client.get(path, params=params)
        if response.status_code == 404:
            raise HTTPException(404)
        response.raise_for_status()
        return response.content

    async def batch(self, path: str, ids: Sequence[str]) -> dict[str, Entity]:
        """Every entity of `ids` that exists, by id (batches answer in any order)."""
        if not ids:
            return {}
        chunks = [ids[i : i + BATCH_LIMIT] for i in range(0, len(ids), BATCH_LIMIT)]
        bodies = await asyncio.gather(*(self.get(path, {"ids": ",".join(c)}) for c in chunks))
        return {item["id"]: item for body in bodies for item in orjson.loads(body)["items"]}

    async def rates(self, bases: Iterable[str]) -> dict[str, Mapping[str, Decimal]]:
        """fx rates by base currency, kept exactly as written (Decimal, not float)."""
        wanted = list(bases)
        bodies = await asyncio.gather(*(self.get("/api/fx", {"base": b}) for b in wanted))
        return {
            base: json.loads(body, parse_float=Decimal)["rates"]
            for base, body in zip(wanted, bodies, strict=True)
        }


class Caller:
    def __init__(self, sub: str, role: str) -> None:
        self.sub = sub
        self.role = role

    def check(self, traveler_id: str) -> None:
        if self.role != "agent" and self.sub != traveler_id:
            raise HTTPException(403)


def caller_of(request: Request, secret: str) -> Caller:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401)
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]}
        )
    except jwt.PyJWTError:
        raise HTTPException(401) from None
    return Caller(str(claims["sub"]), str(claims.get("role", "traveler")))


async def variables_of(request: Request) -> dict[str, Any]:
    variables: dict[str, Any] = orjson.loads(await request.body()).get("variables") or {}
    return variables


def unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def present(ids: Iterable[str], found: Mapping[str, Entity]) -> list[Entity]:
    """The entities of `ids` that exist, in the order of `ids`."""
    return [found[i] for i in ids if i in found]


class Bookings:
    """The flights, stays and cars of a set of trips, their travelers, and the fx rates every
    trip's total needs: two levels of batch calls after the trips themselves."""

    def __init__(
        self,
        travelers: Mapping[str, Entity],
        flights: Mapping[str, Entity],
        stays: Mapping[str, Entity],
        cars: Mapping[str, Entity],
    ) -> None:
        self.travelers = travelers
        self.flights = flights
        self.stays = stays
        self.cars = cars
        self.rates: Mapping[str, Mapping[str, Decimal]] = {}

    @classmethod
    async def of(cls, backend: Backend, trips: Sequence[Entity]) -> Bookings:
        travelers, flights, stays, cars = await asyncio.gather(
            backend.batch("/api/travelers", unique(t["traveler_id"] for t in trips)),
            backend.batch("/api/flights", unique(i for t in trips for i in t["flight_ids"])),
            backend.batch(
                "/api/hotel-stays", unique(i for t in trips for i in t["hotel_stay_ids"])
            ),
            backend.batch(
                "/api/car-rentals", unique(i for t in trips for i in t["car_rental_ids"])
            ),
        )
        bookings = cls(travelers, flights, stays, cars)
        bases = unique(
            bookings.traveler(t)["currency"]
            for t in trips
            if any(c != bookings.traveler(t)["currency"] for _, c in bookings.prices(t))
        )
        if bases:
            bookings.rates = await backend.rates(bases)
        return bookings

    def traveler(self, trip: Entity) -> Entity:
        return self.travelers[trip["traveler_id"]]

    def of_trip(self, trip: Entity) -> tuple[list[Entity], list[Entity], list[Entity]]:
        return (
            present(trip["flight_ids"], self.flights),
            present(trip["hotel_stay_ids"], self.stays),
            present(trip["car_rental_ids"], self.cars),
        )

    def prices(self, trip: Entity) -> list[tuple[int, str]]:
        flights, stays, cars = self.of_trip(trip)
        return [(b["price"]["amount"], b["price"]["currency"]) for b in (*flights, *stays, *cars)]

    def total(self, trip: Entity) -> tuple[int, str]:
        currency: str = self.traveler(trip)["currency"]
        rates = self.rates.get(currency, {})
        return total_minor(self.prices(trip), to=currency, rates=rates), currency


def money(price: Mapping[str, Any]) -> dict[str, Any]:
    return {"amount": price["amount"], "currency": price["currency"]}


def formatted(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency, "formatted": format_money(amount, currency)}


def nights(stay: Mapping[str, Any]) -> int:
    return (date.fromisoformat(stay["check_out"]) - date.fromisoformat(stay["check_in"])).days


def web_trip(trip: Entity, bookings: Bookings) -> dict[str, Any]:
    traveler = bookings.traveler(trip)
    flights, stays, cars = bookings.of_trip(trip)
    return {
        "id": trip["id"],
        "title": trip["title"],
        "startDate": trip["start_date"],
        "endDate": trip["end_date"],
        "status": trip["status"].upper(),
        "traveler": {
            "id": traveler["id"],
            "name": traveler["name"],
            "currency": traveler["currency"],
        },
        "flights": [
            {
                "id": f["id"],
                "flightNumber": f["flight_number"],
                "departsAt": f["departs_at"],
                "price": formatted(f["price"]["amount"], f["price"]["currency"]),
            }
            for f in flights
        ],
        "hotelStays": [
            {
                "id": s["id"],
                "hotel": {"name": s["hotel"]["name"]},
                "checkIn": s["check_in"],
                "checkOut": s["check_out"],
                "nights": nights(s),
                "price": money(s["price"]),
            }
            for s in stays
        ],
        "carRentals": [
            {"id": c["id"], "company": c["company"], "price": money(c["price"])} for c in cars
        ],
        "totalCost": formatted(*bookings.total(trip)),
    }


def itinerary(trip: Entity, bookings: Bookings) -> dict[str, Any]:
    amount, currency = bookings.total(trip)
    segments = build_segments(*bookings.of_trip(trip))
    return {
        "id": trip["id"],
        "title": trip["title"],
        "dates": format_date_range(
            date.fromisoformat(trip["start_date"]), date.fromisoformat(trip["end_date"])
        ),
        "status": trip["status"].upper(),
        "segments": [
            {
                "kind": s.kind.value,
                "startsAt": s.starts_at.isoformat(),
                "endsAt": s.ends_at.isoformat(),
                "title": s.title,
            }
            for s in segments
        ],
        "totalCost": {"amount": amount, "currency": currency},
    }


def answer(data: Mapping[str, Any]) -> Response:
    return Response(orjson.dumps({"data": data}), media_type="application/json")


def create_app(backend_url: str, secret: str) -> FastAPI:
    backends: list[Backend] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from httpx_aiohttp import AiohttpTransport

        limits = httpx.Limits(max_connections=256, max_keepalive_connections=128)
        transport = AiohttpTransport(limits=limits, trust_env=False)
        async with httpx.AsyncClient(
            base_url=backend_url, transport=transport, timeout=httpx.Timeout(3.0)
        ) as client:
            backends.append(Backend(client))
            yield
            backends.clear()

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)

    @app.post("/web/trips")
    async def web_trips(request: Request) -> Response:
        caller = caller_of(request, secret)
        traveler_id = str((await variables_of(request))["traveler"])
        caller.check(traveler_id)
        backend = backends[0]
        raw = await backend.get(f"/api/travelers/{traveler_id}/trips", {"limit": str(PAGE_SIZE)})
        page = orjson.loads(raw)
        bookings = await Bookings.of(backend, page["items"])
        items = [web_trip(trip, bookings) for trip in page["items"]]
        return answer({"trips": {"items": items, "nextCursor": page.get("next_cursor")}})

    @app.post("/mobile/itinerary")
    async def mobile_itinerary(request: Request) -> Response:
        caller = caller_of(request, secret)
        trip_id = str((await variables_of(request))["trip"])
        backend = backends[0]
        trip = (await backend.batch("/api/trips", [trip_id])).get(trip_id)
        if trip is None:
            return answer({"itinerary": None})
        caller.check(trip["traveler_id"])
        bookings = await Bookings.of(backend, [trip])
        return answer({"itinerary": itinerary(trip, bookings)})

    @app.get("/healthz")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def app_from_env() -> FastAPI:
    return create_app(os.environ.get("BFF_BACKEND_URL", ""), os.environ.get("BFF_JWT_SECRET", ""))


app = app_from_env()
