"""The queries of the issue and the values a run derives once from the live stack:
tokens, the answers to (a) and to the public query (whose sizes the baselines copy) and
the trip that (b) asks for.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx

from bench.request import HttpRequest
from bench.services import Stack
from gateway.auth import issue_dev_token

TRAVELER = "t-1"  # 40 trips: a full page of 20

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


def web_trips_request(stack: Stack) -> HttpRequest:
    variables = {"traveler": TRAVELER}
    return HttpRequest.graphql("/graphql/web", WEB_TRIPS, variables=variables, token=token(stack))


def mobile_itinerary_request(stack: Stack) -> HttpRequest:
    variables = {"trip": itinerary_trip_id(stack)}
    return HttpRequest.graphql(
        "/graphql/mobile", MOBILE_ITINERARY, variables=variables, token=token(stack)
    )


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


def first_full_trip(answer: Any) -> str:
    """The first trip on the page with flights, hotel stays and car rentals all booked.

    {"data": {"trips": {"items": [{"id": "x", "flights": [], …}, {"id": "y", …all three}]}}}
    → "y"
    """
    for trip in answer["data"]["trips"]["items"]:
        if trip["flights"] and trip["hotelStays"] and trip["carRentals"]:
            found: str = trip["id"]
            return found
    raise LookupError("no trip of the page has flights, hotel stays and car rentals")


def itinerary_trip_id(stack: Stack) -> str:
    trip: str = stack.memo(
        "itinerary_trip", lambda: first_full_trip(json.loads(web_trips_answer(stack)))
    )
    return trip


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
