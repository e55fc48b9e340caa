"""End to end: the monolith stub and the gateway as real processes, answers checked against
what the monolith's REST API says, and backend requests counted with `/_stub/stats`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests import oracle
from tests.conftest import Stack

pytestmark = pytest.mark.e2e

MONEY = "{ amount currency formatted }"
WEB_TRIPS = f"""
query Trips($id: ID!, $first: Int!, $after: String) {{
  trips(travelerId: $id, first: $first, after: $after) {{
    nextCursor
    items {{
      id title startDate endDate status
      traveler {{ id name email loyaltyTier homeAirport currency }}
      flights {{ id carrier flightNumber origin destination departsAt arrivesAt cabin seat status
                price {MONEY} }}
      hotelStays {{ id hotel {{ id name city stars address }} checkIn checkOut nights roomType
                   price {MONEY} }}
      carRentals {{ id company pickupLocation dropoffLocation pickupAt dropoffAt vehicleClass
                   price {MONEY} }}
      totalCost {MONEY}
    }}
  }}
}}"""
ITINERARY = """
query It($id: ID!) {
  itinerary(tripId: $id) { id title dates status segments { kind startsAt endsAt title }
                           totalCost { amount currency } }
}"""


class Rest:
    """The monolith's own view of a trip, fetched entity by entity (the oracle's input)."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack

    def traveler(self, traveler_id: str) -> Any:
        return self.stack.rest(f"/api/travelers/{traveler_id}")

    def trips(self, traveler_id: str, limit: int = 100) -> list[Any]:
        items: list[Any] = self.stack.rest(f"/api/travelers/{traveler_id}/trips", limit=str(limit))[
            "items"
        ]
        return items

    def bookings(self, trip: Any) -> tuple[list[Any], list[Any], list[Any]]:
        get = self.stack.rest
        return (
            [get(f"/api/flights/{i}") for i in trip["flight_ids"]],
            [get(f"/api/hotel-stays/{i}") for i in trip["hotel_stay_ids"]],
            [get(f"/api/car-rentals/{i}") for i in trip["car_rental_ids"]],
        )

    def total(self, trip: Any, currency: str) -> int:
        flights, stays, cars = self.bookings(trip)
        rates = self.stack.rest("/api/fx", base=currency)["rates"]
        return sum(
            oracle.convert(b["price"]["amount"], b["price"]["currency"], currency, rates)
            for b in (*flights, *stays, *cars)
        )

    def web_trip(self, trip: Any) -> dict[str, Any]:
        traveler = self.traveler(trip["traveler_id"])
        flights, stays, cars = self.bookings(trip)
        total = self.total(trip, traveler["currency"])
        return {
            "id": trip["id"],
            "title": trip["title"],
            "startDate": trip["start_date"],
            "endDate": trip["end_date"],
            "status": trip["status"].upper(),
            "traveler": {
                "id": traveler["id"],
                "name": traveler["name"],
                "email": traveler["email"],
                "loyaltyTier": traveler["loyalty_tier"].upper(),
                "homeAirport": traveler["home_airport"],
                "currency": traveler["currency"],
            },
            "flights": [
                {
                    "id": f["id"],
                    "carrier": f["carrier"],
                    "flightNumber": f["flight_number"],
                    "origin": f["origin"],
                    "destination": f["destination"],
                    "departsAt": oracle.iso(f["departs_at"]),
                    "arrivesAt": oracle.iso(f["arrives_at"]),
                    "cabin": f["cabin"].upper(),
                    "seat": f["seat"],
                    "status": f["status"].upper(),
                    "price": money(f["price"]),
                }
                for f in flights
            ],
            "hotelStays": [
                {
                    "id": s["id"],
                    "hotel": s["hotel"],
                    "checkIn": s["check_in"],
                    "checkOut": s["check_out"],
                    "nights": oracle.nights(s),
                    "roomType": s["room_type"],
                    "price": money(s["price"]),
                }
                for s in stays
            ],
            "carRentals": [
                {
                    "id": c["id"],
                    "company": c["company"],
                    "pickupLocation": c["pickup_location"],
                    "dropoffLocation": c["dropoff_location"],
                    "pickupAt": oracle.iso(c["pickup_at"]),
                    "dropoffAt": oracle.iso(c["dropoff_at"]),
                    "vehicleClass": c["vehicle_class"],
                    "price": money(c["price"]),
                }
                for c in cars
            ],
            "totalCost": money({"amount": total, "currency": traveler["currency"]}),
        }

    def itinerary(self, trip: Any) -> dict[str, Any]:
        currency = self.traveler(trip["traveler_id"])["currency"]
        return {
            "id": trip["id"],
            "title": trip["title"],
            "dates": oracle.dates(trip["start_date"], trip["end_date"]),
            "status": trip["status"].upper(),
            "segments": oracle.segments(*self.bookings(trip)),
            "totalCost": {"amount": self.total(trip, currency), "currency": currency},
        }


def money(price: dict[str, Any]) -> dict[str, Any]:
    return {**price, "formatted": oracle.formatted(price["amount"], price["currency"])}


def data(response: httpx.Response) -> Any:
    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body
    return body["data"]


def error_codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json().get("errors", [])]


def traveler_with(stack: Stack, predicate: Any) -> str:
    rest = Rest(stack)
    for n in range(1, 200):
        if predicate(rest.trips(f"t-{n}")):
            return f"t-{n}"
    raise AssertionError("the seeded data has no such traveler")


def needs_fx(stack: Stack, traveler_id: str, trips: list[Any]) -> bool:
    currency = Rest(stack).traveler(traveler_id)["currency"]
    rest = Rest(stack)
    return any(
        b["price"]["currency"] != currency
        for t in trips
        for group in rest.bookings(t)
        for b in group
    )


# --- whole answers against the monolith ------------------------------------------------------


def test_web_trips_page_is_the_monolith_data_converted_and_batched(e2e: Stack) -> None:
    traveler = traveler_with(
        e2e, lambda trips: len(trips) >= 3 and any(t["flight_ids"] for t in trips)
    )
    rest = Rest(e2e)
    page = e2e.rest(f"/api/travelers/{traveler}/trips", limit="20")
    trips = page["items"]
    expected = {
        "trips": {"nextCursor": page["next_cursor"], "items": [rest.web_trip(t) for t in trips]}
    }
    kinds = {k: any(t[f"{k}_ids"] for t in trips) for k in ("flight", "hotel_stay", "car_rental")}
    fx = needs_fx(e2e, traveler, trips)
    e2e.reset()

    answer = data(
        e2e.gql("web", WEB_TRIPS, {"id": traveler, "first": 20}, token=e2e.token(traveler))
    )

    assert answer == expected
    minimum = {
        "GET /api/travelers/{id}/trips": 1,
        "GET /api/travelers": 1,
        **({"GET /api/flights": 1} if kinds["flight"] else {}),
        **({"GET /api/hotel-stays": 1} if kinds["hotel_stay"] else {}),
        **({"GET /api/car-rentals": 1} if kinds["car_rental"] else {}),
        **({"GET /api/fx": 1} if fx else {}),
    }
    assert e2e.stats() == minimum


def test_mobile_itinerary_aggregates_segments_dates_and_total(e2e: Stack) -> None:
    traveler = traveler_with(
        e2e,
        lambda trips: any(
            t["flight_ids"] and t["hotel_stay_ids"] and t["car_rental_ids"] for t in trips
        ),
    )
    rest = Rest(e2e)
    trip = next(
        t
        for t in rest.trips(traveler)
        if t["flight_ids"] and t["hotel_stay_ids"] and t["car_rental_ids"]
    )
    expected = {"itinerary": rest.itinerary(trip)}
    fx = needs_fx(e2e, traveler, [trip])
    e2e.reset()

    answer = data(e2e.gql("mobile", ITINERARY, {"id": trip["id"]}, token=e2e.token(traveler)))

    assert answer == expected
    assert e2e.stats() == {
        "GET /api/trips": 1,
        "GET /api/flights": 1,
        "GET /api/hotel-stays": 1,
        "GET /api/car-rentals": 1,
        "GET /api/travelers": 1,
        **({"GET /api/fx": 1} if fx else {}),
    }


def test_mobile_my_trips_cards_page_through_all_trips_newest_first(e2e: Stack) -> None:
    traveler = traveler_with(e2e, lambda trips: len(trips) >= 5)
    rest_trips = Rest(e2e).trips(traveler)
    query = """query($after: String) {
        myTrips(first: 2, after: $after) { items { id title dates status } nextCursor } }"""
    seen: list[Any] = []
    after = None
    for _ in range(50):
        page = data(e2e.gql("mobile", query, {"after": after}, token=e2e.token(traveler)))[
            "myTrips"
        ]
        seen += page["items"]
        after = page["nextCursor"]
        if after is None:
            break
    assert seen == [
        {
            "id": t["id"],
            "title": t["title"],
            "dates": oracle.dates(t["start_date"], t["end_date"]),
            "status": t["status"].upper(),
        }
        for t in rest_trips
    ]


def test_top_destinations_is_public_on_both_schemas(e2e: Stack) -> None:
    top = e2e.rest("/api/destinations/top", limit="3")["items"]
    web = data(
        e2e.gql("web", "{ topDestinations(limit: 3) { code name country imageUrl popularity } }")
    )
    mobile = data(e2e.gql("mobile", "{ topDestinations(limit: 3) { code name imageUrl } }"))
    assert web == {
        "topDestinations": [
            {
                "code": d["code"],
                "name": d["name"],
                "country": d["country"],
                "imageUrl": d["image_url"],
                "popularity": d["popularity"],
            }
            for d in top
        ]
    }
    assert mobile == {
        "topDestinations": [
            {"code": d["code"], "name": d["name"], "imageUrl": d["image_url"]} for d in top
        ]
    }


def test_the_same_entity_is_fetched_once_per_request(e2e: Stack) -> None:
    traveler = traveler_with(e2e, lambda trips: len(trips) >= 2)
    query = """query($id: ID!) { me { id trips(first: 5) { items { traveler { id } } } }
               traveler(id: $id) { id name } trips(travelerId: $id, first: 5) { items { id } } }"""
    e2e.reset()
    data(e2e.gql("web", query, {"id": traveler}, token=e2e.token(traveler)))
    assert e2e.stats() == {"GET /api/travelers": 1, "GET /api/travelers/{id}/trips": 1}


# --- identity and access ----------------------------------------------------------------------


def test_without_a_token_only_public_fields_answer(e2e: Stack) -> None:
    response = e2e.gql(
        "web", '{ me { id } topDestinations(limit: 1) { code } trip(id: "trip-1") { id } }'
    )
    body = response.json()
    assert body["data"]["me"] is None and body["data"]["trip"] is None
    assert len(body["data"]["topDestinations"]) == 1
    assert error_codes(response) == ["UNAUTHENTICATED"]
    assert error_codes(e2e.gql("mobile", "{ myTrips { items { id } } }")) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(
    "token", ["garbage", "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ0LTEifQ."]
)
def test_bad_tokens_are_unauthenticated(e2e: Stack, token: str) -> None:
    response = e2e.gql("web", '{ me { id } traveler(id: "t-1") { id } }', token=token)
    assert response.json()["data"] == {"me": None, "traveler": None}
    assert error_codes(response) == ["UNAUTHENTICATED"]


def test_expired_token_is_unauthenticated(e2e: Stack) -> None:
    from gateway.auth import issue_dev_token
    from tests.conftest import SECRET

    expired = issue_dev_token("t-1", secret=SECRET, ttl_s=60, now=1_000_000)
    assert error_codes(e2e.gql("web", '{ traveler(id: "t-1") { id } }', token=expired)) == [
        "UNAUTHENTICATED"
    ]


def test_a_traveler_reads_only_their_own_data(e2e: Stack) -> None:
    mine = e2e.token("t-1")
    other_trip = Rest(e2e).trips("t-2")[0]["id"]
    own_trip = Rest(e2e).trips("t-1")[0]["id"]
    response = e2e.gql(
        "web",
        f'{{ me {{ id }} own: traveler(id: "t-1") {{ id }} other: traveler(id: "t-2") {{ id }} '
        f'ownTrip: trip(id: "{own_trip}") {{ id }} otherTrip: trip(id: "{other_trip}") {{ id }} }}',
        token=mine,
    )
    assert response.json()["data"] == {
        "me": {"id": "t-1"},
        "own": {"id": "t-1"},
        "other": None,
        "ownTrip": {"id": own_trip},
        "otherTrip": None,
    }
    assert sorted(error_codes(response)) == ["FORBIDDEN", "FORBIDDEN"]
    listing = e2e.gql("web", '{ trips(travelerId: "t-2") { items { id } } }', token=mine)
    assert error_codes(listing) == ["FORBIDDEN"] and listing.json()["data"] is None
    mobile = e2e.gql("mobile", f'{{ itinerary(tripId: "{other_trip}") {{ id }} }}', token=mine)
    assert error_codes(mobile) == ["FORBIDDEN"] and mobile.json()["data"] == {"itinerary": None}


def test_an_agent_reads_anyone_and_unknown_ids_are_null(e2e: Stack) -> None:
    agent = e2e.token("agent-7", role="agent")
    other_trip = Rest(e2e).trips("t-2")[0]["id"]
    answer = data(
        e2e.gql(
            "web",
            f'{{ me {{ id }} t2: traveler(id: "t-2") {{ id }} trip(id: "{other_trip}") {{ id }} '
            '  nobody: traveler(id: "t-999999") { id } noTrip: trip(id: "trip-999999") { id } }',
            token=agent,
        )
    )
    assert answer == {
        "me": None,
        "t2": {"id": "t-2"},
        "trip": {"id": other_trip},
        "nobody": None,
        "noTrip": None,
    }


@pytest.mark.parametrize("first", [0, 101, -1])
def test_first_outside_1_to_100_is_bad_user_input(e2e: Stack, first: int) -> None:
    response = e2e.gql(
        "web",
        'query($f: Int!) { trips(travelerId: "t-1", first: $f) { items { id } } }',
        {"f": first},
        token=e2e.token("t-1"),
    )
    assert error_codes(response) == ["BAD_USER_INPUT"]
    assert e2e.stats() == {}


# --- mutations --------------------------------------------------------------------------------


def test_book_then_cancel_then_cancel_again(e2e: Stack) -> None:
    token = e2e.token("t-3")
    flight = Rest(e2e).trips("t-3")[0]["flight_ids"][:1]
    booked = data(
        e2e.gql(
            "web",
            """mutation($in: BookTripInput!) { bookTrip(input: $in) {
        id title startDate endDate status flights { id } totalCost { currency } } }""",
            {
                "in": {
                    "travelerId": "t-3",
                    "title": "Gateway test trip",
                    "startDate": "2027-03-01",
                    "endDate": "2027-03-04",
                    "flightIds": flight,
                }
            },
            token=token,
        )
    )["bookTrip"]
    trip_id = booked["id"]
    assert booked == {
        "id": trip_id,
        "title": "Gateway test trip",
        "startDate": "2027-03-01",
        "endDate": "2027-03-04",
        "status": "BOOKED",
        "flights": [{"id": i} for i in flight],
        "totalCost": {"currency": Rest(e2e).traveler("t-3")["currency"]},
    }
    assert e2e.rest(f"/api/trips/{trip_id}")["status"] == "booked"

    cancelled = data(
        e2e.gql(
            "mobile",
            "mutation($id: ID!) { cancelTrip(id: $id) { id status dates } }",
            {"id": trip_id},
            token=token,
        )
    )
    assert cancelled == {
        "cancelTrip": {"id": trip_id, "status": "CANCELLED", "dates": "1–4 Mar 2027"}
    }
    again = e2e.gql(
        "web", "mutation($id: ID!) { cancelTrip(id: $id) { id } }", {"id": trip_id}, token=token
    )
    assert error_codes(again) == ["CONFLICT"] and again.json()["data"] is None
    assert e2e.rest(f"/api/trips/{trip_id}")["status"] == "cancelled"


def test_mutations_obey_access_rules_and_monolith_refusals(e2e: Stack) -> None:
    token = e2e.token("t-4")
    booking = {
        "travelerId": "t-5",
        "title": "Not mine",
        "startDate": "2027-03-01",
        "endDate": "2027-03-02",
    }
    mutation = "mutation($in: BookTripInput!) { bookTrip(input: $in) { id } }"
    assert error_codes(e2e.gql("web", mutation, {"in": booking}, token=token)) == ["FORBIDDEN"]
    assert e2e.stats() == {}  # refused before anything reached the monolith
    backwards = {**booking, "travelerId": "t-4", "startDate": "2027-03-05"}
    refused = e2e.gql("web", mutation, {"in": backwards}, token=token)
    assert error_codes(refused) == ["BAD_USER_INPUT"]
    assert refused.json()["errors"][0]["message"]  # the monolith's message, passed on
    unknown = e2e.gql("web", 'mutation { cancelTrip(id: "trip-999999") { id } }', token=token)
    assert error_codes(unknown) == ["NOT_FOUND"]
    assert "POST /api/trips/{id}/cancel" not in e2e.stats()


# --- failures ---------------------------------------------------------------------------------


def _no_leaks(response: httpx.Response) -> None:
    text = response.text
    assert "Traceback" not in text and "127.0.0.1" not in text and "http://" not in text


def test_a_failing_backend_nulls_only_what_needed_it(e2e: Stack) -> None:
    traveler = traveler_with(e2e, lambda trips: any(t["flight_ids"] for t in trips))
    trip = next(t for t in Rest(e2e).trips(traveler) if t["flight_ids"])
    e2e.fault(path_prefix="/api/flights", error_rate=1.0, status=503)
    response = e2e.gql(
        "web",
        f'{{ me {{ id }} trip(id: "{trip["id"]}") {{ id flights {{ id }} }} '
        "topDestinations(limit: 1) { code } }",
        token=e2e.token(traveler),
    )
    body = response.json()
    assert body["data"]["me"] == {"id": traveler}
    assert body["data"]["trip"] is None
    assert len(body["data"]["topDestinations"]) == 1
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["trip", "flights"], "BACKEND_UNAVAILABLE")
    ]
    _no_leaks(response)


def test_a_hanging_backend_times_out_as_backend_timeout(e2e: Stack) -> None:
    e2e.fault(path_prefix="/api/destinations", hang=True)
    response = e2e.gql(
        "web", "{ me { id } topDestinations(limit: 1) { code } }", token=e2e.token("t-1")
    )
    assert response.status_code == 200
    assert response.json()["data"] is None  # topDestinations is non-null at the root
    assert error_codes(response) == ["BACKEND_TIMEOUT"]
    _no_leaks(response)
    mobile = e2e.gql("mobile", "{ topDestinations { code } }")
    assert error_codes(mobile) == ["BACKEND_TIMEOUT"]


# --- GraphQL over HTTP ------------------------------------------------------------------------


def test_malformed_requests_get_clear_errors(e2e: Stack) -> None:
    url = f"{e2e.gateway.url}/graphql/web"
    gql_json = {"accept": "application/graphql-response+json"}
    syntax = httpx.post(url, json={"query": "{ me { id "}, headers=gql_json)
    assert syntax.status_code == 400
    assert syntax.headers["content-type"].startswith("application/graphql-response+json")
    assert "data" not in syntax.json() and syntax.json()["errors"][0]["message"].startswith(
        "Syntax Error"
    )
    legacy = httpx.post(url, json={"query": "{ nope }"}, headers={"accept": "application/json"})
    assert (
        legacy.status_code == 200
        and "Cannot query field 'nope'" in legacy.json()["errors"][0]["message"]
    )
    not_json = httpx.post(url, content=b"{not json", headers={"content-type": "application/json"})
    assert (
        not_json.status_code == 400
        and not_json.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    )
    over_get = httpx.get(url, params={"query": 'mutation { cancelTrip(id: "trip-1") { id } }'})
    assert over_get.status_code == 405 and over_get.headers["allow"] == "POST"
    no_query = httpx.post(url, json={"variables": {}})
    assert no_query.status_code == 400
    for response in (syntax, legacy, not_json, over_get, no_query):
        _no_leaks(response)


def test_queries_over_get_and_graphiql_in_dev(e2e: Stack) -> None:
    url = f"{e2e.gateway.url}/graphql/mobile"
    response = httpx.get(
        url,
        params={
            "query": "query($n: Int!) { topDestinations(limit: $n) { code } }",
            "variables": '{"n": 2}',
        },
    )
    assert len(response.json()["data"]["topDestinations"]) == 2
    ide = httpx.get(url, headers={"accept": "text/html"})
    assert ide.status_code == 200 and "graphiql" in ide.text.lower()


def test_fields_not_asked_for_cost_no_backend_requests(e2e: Stack) -> None:
    trip = Rest(e2e).trips("t-1")[0]
    e2e.reset()
    answer = data(
        e2e.gql(
            "mobile",
            "query($id: ID!) { itinerary(tripId: $id) { id title dates } }",
            {"id": trip["id"]},
            token=e2e.token("t-1"),
        )
    )
    assert answer == {
        "itinerary": {
            "id": trip["id"],
            "title": trip["title"],
            "dates": oracle.dates(trip["start_date"], trip["end_date"]),
        }
    }
    assert e2e.stats() == {"GET /api/trips": 1}


def test_runaway_queries_are_refused_before_any_backend_call(e2e: Stack) -> None:
    nested = "trips { items { traveler { %s } } }"
    deep = "{ me { " + nested % (nested % (nested % (nested % "id"))) + " } }"  # depth 13
    aliases = (
        "{ " + " ".join(f"a{n}: topDestinations(limit: 1) {{ code }}" for n in range(40)) + " }"
    )
    # The deep one is over the cost budget (400, before parsing into the executor), the
    # aliased one over the alias limit (a validation error, 200 for application/json).
    for query, status, code in (
        (deep, 400, "QUERY_TOO_COMPLEX"),
        (aliases, 200, "GRAPHQL_VALIDATION_FAILED"),
    ):
        response = e2e.gql("web", query, token=e2e.token("t-1"))
        assert response.status_code == status and "data" not in response.json()
        assert response.json()["errors"][0]["message"]
        assert response.json()["errors"][0]["extensions"]["code"] == code
    assert e2e.stats() == {}
