"""The planned executor answers byte for byte what strawberry answers: two gateways over one
stub in this process, one planning (executor="auto"), one always on strawberry."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette

from bench.fixtures import MOBILE_ITINERARY, WEB_TRIPS
from legacy_stub.app import create_app as create_stub
from legacy_stub.data import build_dataset
from tests.support.inprocess import Gateway, gateway, token

ME = "t-1"
OTHER = "t-2"
TRIPS = list(build_dataset().trips.values())
MY_TRIP = next(  # one with every kind of booking
    t["id"]
    for t in TRIPS
    if t["traveler_id"] == ME and t["flight_ids"] and t["hotel_stay_ids"] and t["car_rental_ids"]
)
OTHER_TRIP = next(t["id"] for t in TRIPS if t["traveler_id"] == OTHER)

FRAGMENTS = """
query Trips($me: ID!, $withFlights: Boolean!, $skipCost: Boolean = false) {
  page: trips(travelerId: $me, first: 5) {
    ...Page
    items { id ... on Trip { title startDate } }
  }
  again: trips(travelerId: $me, first: 2, status: BOOKED) { items { id status } }
}
fragment Page on TripPage {
  __typename
  nextCursor
  items {
    __typename
    myId: id
    flights @include(if: $withFlights) { flightNumber cabin seat status departsAt }
    totalCost @skip(if: $skipCost) { ...Cost }
    traveler { ...Who trips(first: 1) { items { title } } }
  }
}
fragment Cost on Money { amount currency formatted }
fragment Who on Traveler { name loyaltyTier homeAirport }
"""

CASES: list[tuple[str, str, dict[str, Any], str | None]] = [
    ("web", WEB_TRIPS, {"traveler": ME}, ME),
    ("web", FRAGMENTS, {"me": ME, "withFlights": True}, ME),
    ("web", FRAGMENTS, {"me": ME, "withFlights": False, "skipCost": True}, ME),
    ("web", "{ me { id name email loyaltyTier homeAirport currency __typename } }", {}, ME),
    ("web", "{ me { id } }", {}, None),
    ("web", f'{{ traveler(id: "{ME}") {{ name trips {{ nextCursor }} }} }}', {}, ME),
    ("web", f'{{ traveler(id: "{OTHER}") {{ name }} }}', {}, "agent"),
    (
        "web",
        "query T($id: ID!) { trip(id: $id) { id title endDate status hotelStays "
        "{ id hotel { id name city stars address } checkIn checkOut nights roomType "
        "price { amount currency formatted } } carRentals { id company pickupLocation "
        "dropoffLocation pickupAt dropoffAt vehicleClass price { formatted } } } }",
        {"id": MY_TRIP},
        ME,
    ),
    ("web", '{ trip(id: "trip-unknown") { id } }', {}, ME),
    ("web", "{ topDestinations(limit: 4) { code name country imageUrl popularity } }", {}, None),
    ("web", "{ a: topDestinations { code } b: topDestinations(limit: 2) { name } }", {}, None),
    ("web", "{ __typename }", {}, None),
    ("mobile", MOBILE_ITINERARY, {"trip": MY_TRIP}, ME),
    ("mobile", "{ myTrips(first: 3) { items { id title dates status } nextCursor } }", {}, ME),
    ("mobile", "{ topDestinations { code name imageUrl __typename } }", {}, None),
    (
        "mobile",
        "query I($t: ID!) { itinerary(tripId: $t) { dates totalCost { amount } "
        "segments { ... on Segment { kind title } startsAt } } }",
        {"t": MY_TRIP},
        ME,
    ),
]


def _token(who: str | None) -> str | None:
    if who is None:
        return None
    return token(ME, role="agent") if who == "agent" else token(who)


@pytest.fixture
def pair() -> tuple[Gateway, Gateway]:
    stub = create_stub()
    return gateway(stub, executor="auto"), gateway(stub, executor="reference")


async def answers(
    pair: tuple[Gateway, Gateway], schema: str, query: str, variables: dict[str, Any], who: Any
) -> tuple[Any, Any]:
    planned = await pair[0].gql(schema, query, variables, token=_token(who))
    reference = await pair[1].gql(schema, query, variables, token=_token(who))
    assert reference.headers["x-gateway-executor"] == "reference"
    assert planned.status_code == reference.status_code
    assert planned.content == reference.content
    return planned, reference


@pytest.mark.parametrize(("schema", "query", "variables", "who"), CASES)
async def test_covered_operations_are_planned_and_answer_the_same_bytes(
    pair: tuple[Gateway, Gateway], schema: str, query: str, variables: dict[str, Any], who: Any
) -> None:
    planned, _ = await answers(pair, schema, query, variables, who)
    assert planned.headers["x-gateway-executor"] == "planned"
    assert "errors" not in planned.json()


@pytest.mark.parametrize(
    ("schema", "query", "variables", "who"),
    [
        ("web", f'{{ traveler(id: "{OTHER}") {{ name }} }}', {}, ME),  # forbidden
        ("web", "{ trip(id: $id) { id } }", {}, ME),  # invalid
        ("web", "query T($id: ID!) { trip(id: $id) { id } }", {}, ME),  # variable missing
        ("web", "query T($id: ID!) { trip(id: $id) { id title } }", {"id": OTHER_TRIP}, ME),
        ("web", '{ trips(travelerId: "t-1", first: 500) { nextCursor } }', {}, ME),
        ("web", "{ __schema { queryType { name } } }", {}, None),  # introspection
        ("mobile", "{ myTrips { nextCursor } }", {}, None),  # unauthenticated
        ("web", "query A { me { id } } query B { __typename }", {}, ME),  # which operation?
        (  # refused by its arguments alone, deep down: decided before anything is loaded
            "web",
            "{ me { trips(first: 3) { items { id totalCost { amount } "
            "traveler { again: trips(first: 101) { nextCursor } } } } } }",
            {},
            ME,
        ),
    ],
)
async def test_refusals_errors_and_uncovered_operations_are_the_references(
    pair: tuple[Gateway, Gateway], schema: str, query: str, variables: dict[str, Any], who: Any
) -> None:
    planned, _ = await answers(pair, schema, query, variables, who)
    assert planned.headers["x-gateway-executor"] == "reference"


async def test_a_mutation_runs_on_strawberry() -> None:
    mutation = f'mutation {{ cancelTrip(id: "{MY_TRIP}") {{ id status }} }}'
    answered = []
    for executor in ("auto", "reference"):
        gw = gateway(executor=executor)
        answered.append(await gw.gql("web", mutation, token=token(ME)))
    assert answered[0].headers["x-gateway-executor"] == "reference"
    assert answered[0].content == answered[1].content


@pytest.mark.parametrize("prefix", ["/api/flights", "/api/fx", "/api/travelers"])
async def test_a_backend_fault_falls_back_without_asking_the_backend_twice(prefix: str) -> None:
    stubs: list[Starlette] = []
    answered = []
    for executor in ("auto", "reference"):
        stub = create_stub()
        stubs.append(stub)
        gw = gateway(stub, executor=executor)
        fault = {"path_prefix": prefix, "error_rate": 1.0, "status": 503}
        assert (await gw.stub_post("/_stub/faults", fault)).status_code == 200
        answered.append(await gw.gql("web", WEB_TRIPS, {"traveler": ME}, token=token(ME)))
        answered.append(await gw.stub_stats())  # type: ignore[arg-type]
    planned, planned_calls, reference, reference_calls = answered
    assert planned.headers["x-gateway-executor"] == "reference"
    assert planned.content == reference.content
    assert "errors" in planned.json()
    assert planned_calls == reference_calls


async def test_backend_requests_per_query_are_the_references() -> None:
    counts = []
    for executor in ("auto", "reference"):
        gw = gateway(executor=executor)
        await gw.gql("web", WEB_TRIPS, {"traveler": ME}, token=token(ME))
        await gw.gql("mobile", MOBILE_ITINERARY, {"trip": MY_TRIP}, token=token(ME))
        counts.append(await gw.stub_stats())
    assert counts[0] == counts[1]
    assert sum(counts[0].values()) == 6 + 6


async def test_the_routes_page_counts_each_executor() -> None:
    gw = gateway()
    await gw.gql("web", "{ me { id } }", token=token(ME))
    await gw.gql("web", f'{{ traveler(id: "{OTHER}") {{ id }} }}', token=token(ME))
    routes = (await gw.client.get("/_gateway/routes")).json()
    assert routes["executors"] == {"planned": 1, "reference": 1}


@pytest.mark.parametrize(
    "fields",
    [{"status": "boarding"}, {"departs_at": None}, {"departs_at": "soon"}, {"price": {}}],
)
async def test_a_bad_value_in_a_field_nobody_asked_for_is_the_references_error(
    fields: dict[str, Any],
) -> None:
    """strawberry builds the whole Flight from the entity, so the reference fails on it even
    when the query asks only for the id; the planner must not answer in its place."""
    stub = create_stub()
    flight = next(t for t in TRIPS if t["id"] == MY_TRIP)["flight_ids"][0]
    planned, reference = gateway(stub, executor="auto"), gateway(stub, executor="reference")
    patched = await planned.stub_post("/_stub/patch", {"id": flight, "fields": fields})
    assert patched.status_code == 200
    query = "query T($id: ID!) { trip(id: $id) { id flights { id } } }"
    answered = await answers((planned, reference), "web", query, {"id": MY_TRIP}, ME)
    assert answered[0].headers["x-gateway-executor"] == "reference"
    assert "errors" in answered[0].json()
