"""The queries of the issue and the values a run derives once from the live stack:
tokens, the answers to (a) and to the public query (whose sizes the baselines copy), the
rotation of travelers and trips that (a) and (b) ask for, and the travelers and flights of
the flights-batch scenarios.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.request import HttpRequest
from bench.services import REPOSITORY_ROUTES, Stack
from gateway.auth import issue_dev_token
from gateway.routing.select import Caller, RouteDecision, RouteRequest, sticky_bucket
from gateway.routing.table import load_table
from legacy_stub.data import Dataset, Json, build_dataset
from legacy_stub.settings import StubSettings

TRAVELER = "t-1"  # 40 trips: a full page of 20
ROTATION = 64  # travelers (a) and (b) rotate through: twice the 32 connections

WEB_TRIPS = """query WebTrips($traveler: ID!) {
  trips(travelerId: $traveler, first: 20) {
    items {
      id title startDate endDate status
      traveler { id name currency }
      flights { id flightNumber departsAt price { amount currency formatted } }
      hotelStays { id hotel { name } checkIn checkOut nights price { amount currency } }
      carRentals { id company price { amount currency } }
      totalCost { amount currency formatted }
    }
    nextCursor
  }
}"""

MOBILE_ITINERARY = """query MobileItinerary($trip: ID!) {
  itinerary(tripId: $trip) {
    id title dates status
    segments { kind startsAt endsAt title }
    totalCost { amount currency }
  }
}"""

TOP_DESTINATIONS = "{ topDestinations { code } }"

# The public query of the whole-answer scenarios: no token, the same answer for everybody.
PUBLIC_QUERY = "{ topDestinations(limit: 10) { code name country imageUrl popularity } }"


def token(stack: Stack, traveler: str = TRAVELER) -> str:
    key = f"token:{traveler}"
    issued: str = stack.memo(key, lambda: issue_dev_token(traveler, secret=stack.secret))
    return issued


def web_trips_request(stack: Stack, traveler: str = TRAVELER) -> HttpRequest:
    variables = {"traveler": traveler}
    return HttpRequest.graphql(
        "/graphql/web", WEB_TRIPS, variables=variables, token=token(stack, traveler)
    )


def mobile_itinerary_request(stack: Stack, pick: Pick) -> HttpRequest:
    variables = {"trip": pick.trip}
    return HttpRequest.graphql(
        "/graphql/mobile", MOBILE_ITINERARY, variables=variables, token=token(stack, pick.traveler)
    )


def web_trips_rotation(stack: Stack) -> list[HttpRequest]:
    """(a) for each traveler of the rotation, with their own token."""
    return [web_trips_request(stack, pick.traveler) for pick in rotation(stack)]


def mobile_itinerary_rotation(stack: Stack) -> list[HttpRequest]:
    """(b) for each traveler's trip of the rotation, with the traveler's own token."""
    return [mobile_itinerary_request(stack, pick) for pick in rotation(stack)]


@dataclass(frozen=True)
class Pick:
    """One traveler of the rotation and the trip of theirs that (b) asks for."""

    traveler: str
    trip: str


def rotation(stack: Stack) -> list[Pick]:
    """The rotation, chosen from the dataset the stub builds (same seed and sizes)."""

    def choose() -> list[Pick]:
        settings = StubSettings.from_env(os.environ)
        dataset = build_dataset(settings.seed, settings.travelers, settings.trips)
        return choose_rotation(dataset, ROTATION)

    picks: list[Pick] = stack.memo("rotation", choose)
    return picks


def choose_rotation(dataset: Dataset, count: int) -> list[Pick]:
    """The `count` travelers with the most trips (t-1 first: 40) among those with a trip
    that has flights, hotel stays and car rentals, at least one priced in another currency
    than theirs; each with their first such trip. So (b) always makes its 6 backend calls,
    fx included, and (a)'s pages almost surely do too (with the stub's default dataset and
    64 travelers: 9-40 trips each, pages of 12 trips on average).
    """
    trips_of: dict[str, list[Json]] = {}
    for trip in sorted(dataset.trips.values(), key=lambda trip: _number(trip["id"])):
        trips_of.setdefault(trip["traveler_id"], []).append(trip)
    busiest = sorted(trips_of, key=lambda traveler: (-len(trips_of[traveler]), _number(traveler)))
    picks: list[Pick] = []
    for traveler in busiest:
        currency = dataset.travelers[traveler]["currency"]
        full = (trip for trip in trips_of[traveler] if _needs_fx(dataset, trip, currency))
        chosen = next(full, None)
        if chosen is not None:
            picks.append(Pick(traveler, chosen["id"]))
        if len(picks) == count:
            return picks
    raise LookupError(f"only {len(picks)} travelers have a full trip priced in two currencies")


def _needs_fx(dataset: Dataset, trip: Json, currency: str) -> bool:
    """Flights, stays and cars all booked, and one of them priced in another currency."""
    kinds = (
        (dataset.flights, trip["flight_ids"]),
        (dataset.hotel_stays, trip["hotel_stay_ids"]),
        (dataset.car_rentals, trip["car_rental_ids"]),
    )
    if not all(ids for _, ids in kinds):
        return False
    prices: Iterable[str] = (table[i]["price"]["currency"] for table, ids in kinds for i in ids)
    return any(price != currency for price in prices)


def _number(entity_id: str) -> int:
    """_number("trip-12") → 12"""
    return int(entity_id.rpartition("-")[2])


def public_request(stack: Stack | None = None) -> HttpRequest:
    """The public query as a POST of JSON, without a token."""
    return HttpRequest.graphql("/graphql/web", PUBLIC_QUERY)


def public_variant_bodies(count: int) -> list[bytes]:
    """`count` POST bodies of the public query, each a different document only by its
    operation name, so each has its own whole-answer key but the same answer bytes.

    public_variant_bodies(1) → [b'{"query": "query Top00000 { topDestinations(...) ... }"}']
    """
    return [
        json.dumps({"query": f"query Top{index:05d} {PUBLIC_QUERY}"}).encode()
        for index in range(count)
    ]


def web_trips_answer(stack: Stack) -> bytes:
    """The gateway's answer to (a), fetched once per run (it sizes the baseline's body)."""

    def fetch() -> bytes:
        response = web_trips_request(stack).send(stack.url("gateway-aiohttp"))
        response.raise_for_status()
        if "errors" in response.json():
            raise RuntimeError(f"query (a) answered errors: {response.text[:500]}")
        return response.content

    answer: bytes = stack.memo("web_trips_answer", fetch)
    return answer


def public_answer(stack: Stack) -> bytes:
    """The gateway's answer to the public query (executed: that gateway caches nothing)."""

    def fetch() -> bytes:
        response = public_request(stack).send(stack.url("gateway-aiohttp"))
        response.raise_for_status()
        if "errors" in response.json():
            raise RuntimeError(f"the public query answered errors: {response.text[:500]}")
        return response.content

    answer: bytes = stack.memo("public_answer", fetch)
    return answer


def baseline_body_file(stack: Stack) -> Path:
    path = stack.workdir / "baseline-body.json"
    if not path.exists():
        path.write_bytes(web_trips_answer(stack))
    return path


def baseline_public_body_file(stack: Stack) -> Path:
    path = stack.workdir / "baseline-public-body.json"
    if not path.exists():
        path.write_bytes(public_answer(stack))
    return path


def trip_owner(stack: Stack, trip_id: str) -> str:
    """Who may read the trip through the passthrough (asked of the stub directly)."""

    def fetch() -> str:
        response = httpx.get(f"{stack.url('stub')}/api/trips/{trip_id}", timeout=10)
        response.raise_for_status()
        owner: str = response.json()["traveler_id"]
        return owner

    owner: str = stack.memo(f"owner:{trip_id}", fetch)
    return owner


def reset_stub(stack: Stack) -> None:
    httpx.post(stack.url("stub") + "/_stub/reset", timeout=10).raise_for_status()


def stub_stats(stack: Stack) -> dict[str, Any]:
    response = httpx.get(stack.url("stub") + "/_stub/stats", timeout=10)
    response.raise_for_status()
    stats: dict[str, Any] = response.json()
    return stats


def wait_until_stub_idle(stack: Stack, *, quiet_s: float = 0.3, limit_s: float = 15) -> None:
    """Wait until the stub's counter stops moving: a timed run leaves the gateway finishing
    the requests wrk abandoned, and their backend calls must not land in the next count."""
    deadline = time.monotonic() + limit_s
    last = stub_stats(stack)["total"]
    while time.monotonic() < deadline:
        time.sleep(quiet_s)
        now = stub_stats(stack)["total"]
        if now == last:
            return
        last = now


# --- issue 8: the REST passthrough -------------------------------------------------------

AGENT = "agent-bench"  # an agent may read anything: the passthrough decides no ownership
FLIGHT_BATCH = 5  # ids in the flights batch request: "a handful"


def agent_token(stack: Stack) -> str:
    issued: str = stack.memo(
        "token:agent", lambda: issue_dev_token(AGENT, role="agent", secret=stack.secret)
    )
    return issued


def route_of_flights_batch(traveler: str) -> RouteDecision:
    """What the repository's routes.yaml decides for this traveler's `GET /api/flights`
    (its canary is sticky by traveler, so the decision is the same on every request)."""
    table = load_table(REPOSITORY_ROUTES, env={"LEGACY_URL": "http://a", "FLIGHTS_URL": "http://b"})
    caller = Caller(traveler_id=traveler, role="traveler")
    return table.select(RouteRequest("GET", "/api/flights", caller))


def canaried(decision: RouteDecision) -> bool:
    """The flights service answers (so nothing is shadowed)."""
    return decision.backend.name != "legacy"


def flights_of(stack: Stack, traveler: str) -> list[str]:
    """The flight ids booked on the traveler's trips (the bookings they may read)."""
    response = httpx.get(
        f"{stack.url('stub')}/api/travelers/{traveler}/trips", params={"limit": "100"}, timeout=10
    )
    response.raise_for_status()
    ids = [flight for trip in response.json()["items"] for flight in trip["flight_ids"]]
    return list(dict.fromkeys(ids))


def flights_traveler(stack: Stack, *, canary: bool) -> tuple[str, list[str]]:
    """The first traveler (t-1, t-2, ...) the repository's canary moves to the flights service
    (`canary`) or leaves on legacy with a shadow copy, with FLIGHT_BATCH flights of their own.
    """

    def find() -> tuple[str, list[str]]:
        for number in range(1, 1001):
            traveler = f"t-{number}"
            if canaried(route_of_flights_batch(traveler)) != canary:
                continue
            flights = flights_of(stack, traveler)
            if len(flights) >= FLIGHT_BATCH:
                return traveler, flights[:FLIGHT_BATCH]
        kind = "canaried" if canary else "shadowed"
        raise LookupError(f"no {kind} traveler among t-1..t-1000 has {FLIGHT_BATCH} flights")

    found: tuple[str, list[str]] = stack.memo(f"flights_traveler:{canary}", find)
    return found


def flights_request(stack: Stack, *, canary: bool) -> HttpRequest:
    traveler, flights = flights_traveler(stack, canary=canary)
    headers = {"Authorization": f"Bearer {token(stack, traveler)}"}
    return HttpRequest("GET", f"/api/flights?ids={','.join(flights)}", headers)


def flights_note(stack: Stack, answer: httpx.Response, *, canary: bool) -> str:
    """Who asks, what the route table decides for them, and what came back."""
    traveler, flights = flights_traveler(stack, canary=canary)
    decision = route_of_flights_batch(traveler)
    items = answer.json().get("items", [])
    got = sorted(item.get("id") for item in items)
    verdict = "all of them" if got == sorted(flights) else f"NOT THOSE: {got}"
    return (
        f"traveler {traveler} (sticky bucket {sticky_bucket(traveler)}), "
        f"{len(flights)} flights of their own trips, answered: {verdict}; "
        f"routing: {decision.reason}"
    )


# --- issue 9: the hand-written BFF --------------------------------------------------------


def gateway_answer(stack: Stack, request: HttpRequest) -> bytes:
    """The gateway's answer to one of its requests, fetched once per run (the hand-written
    BFF's answer to the same request must match it)."""

    def fetch() -> bytes:
        response = request.send(stack.url("gateway-aiohttp"))
        response.raise_for_status()
        return response.content

    key = f"gateway_answer:{request.path}:{request.headers.get('Authorization')}:{request.body!r}"
    answer: bytes = stack.memo(key, fetch)
    return answer


def same_bytes_note(mine: bytes, gateway: bytes) -> str:
    """same_bytes_note(b'{"a":1}', b'{"a":1}') → "answer byte-identical to the gateway's (7 bytes)"
    same_bytes_note(b'{"a":1}', b'{"a":2}') → "ANSWER NOT BYTE-IDENTICAL to the gateway's:
    7 vs 7 bytes, first difference at byte 5"
    """
    if mine == gateway:
        return f"answer byte-identical to the gateway's ({len(mine):,} bytes)"
    at = next((i for i, (a, b) in enumerate(zip(mine, gateway, strict=False)) if a != b), None)
    where = min(len(mine), len(gateway)) if at is None else at
    return (
        f"ANSWER NOT BYTE-IDENTICAL to the gateway's: {len(mine):,} vs {len(gateway):,} bytes, "
        f"first difference at byte {where}"
    )


def gateway_comparison_note(answer: bytes, gateway: Callable[[], bytes]) -> str:
    try:
        theirs = gateway()
    except (httpx.HTTPError, RuntimeError) as error:
        return f"not compared with the gateway's answer: {type(error).__name__}: {error}"[:300]
    return same_bytes_note(answer, theirs)
