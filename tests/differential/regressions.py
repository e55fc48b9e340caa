"""Fixed cases for what goes wrong when a fast executor drifts from the reference (the
classics of graphql-jit's issue tracker), run before the generated ones."""

from __future__ import annotations

from tests.differential.domain import (
    BENT,
    OWN,
    STRANGER,
    UNKNOWN_TRIP,
    bent_trips,
    pools,
)
from tests.differential.strategies import Case

OWN_TRIP = pools().trip_ids[0]
BENT_TRIPS = bent_trips()

SKIP_INCLUDE_IN_FRAGMENTS = Case(
    "web",
    """query Q($yes: Boolean!, $no: Boolean!) {
  me {
    ...Core @include(if: $yes)
    ...Mail @skip(if: $yes)
    ... @include(if: $no) { homeAirport }
    ... on Traveler @skip(if: $no) { currency }
    loyaltyTier @include(if: $yes) @skip(if: $no)
    homeAirport @skip(if: $no) @include(if: $no)
  }
}
fragment Core on Traveler {
  id
  name @skip(if: $yes)
  trips(first: 2) { items { id @include(if: $no) title @include(if: $yes) } }
}
fragment Mail on Traveler { email }""",
    {"yes": True, "no": False},
    "Q",
    f"traveler:{OWN}",
)

MERGED_SUBSELECTIONS = Case(
    "web",
    """{
  me {
    trips(first: 2) { items { id flights { id } } }
    ...More
    trips(first: 2) @skip(if: true) { nextCursor }
  }
}
fragment More on Traveler {
  trips(first: 2) {
    nextCursor
    items { flights { price { amount } id } totalCost { amount } id }
  }
}""",
    {},
    None,
    f"traveler:{OWN}",
)

ALIASES_WHEN_A_SIBLING_FAILS = Case(
    "web",
    f"""{{
  ok: trip(id: "{OWN_TRIP}") {{ id title traveler {{ id }} }}
  orphan: trip(id: "{BENT_TRIPS.orphan}") {{ id t1: traveler {{ id }} t2: traveler {{ name }} }}
  noRate: trip(id: "{BENT_TRIPS.no_rate}") {{
    x: totalCost {{ amount }} y: totalCost {{ currency }} id
  }}
  badEnum: trip(id: "{BENT_TRIPS.bad_enum}") {{ id flights {{ status }} }}
  unknownFlight: trip(id: "{BENT_TRIPS.unknown_flight}") {{ flights {{ id }} }}
  unknown: trip(id: "{UNKNOWN_TRIP}") {{ id }}
  stranger: traveler(id: "{STRANGER}") {{ id }}
}}""",
    {},
    None,
    "agent",
)

NON_NULL_BUBBLES_TO_DATA = Case(
    "web",
    f"""{{
  a: topDestinations(limit: 2) {{ code }}
  b: trips(travelerId: "{BENT}", first: 20) {{ items {{ id totalCost {{ amount }} }} }}
}}""",
    {},
    None,
    "agent",
)

SAME_FIELD_DIFFERENT_ARGS = Case(
    "web",
    f"""query Q($first: Int!) {{
  first: trips(travelerId: "{OWN}", first: $first) {{ nextCursor items {{ id }} }}
  cancelled: trips(travelerId: "{OWN}", status: CANCELLED, first: 2) {{ items {{ id status }} }}
  tooMany: trips(travelerId: "{OWN}", first: 101) {{ nextCursor }}
  none: trips(travelerId: "{OWN}", first: 0) {{ nextCursor }}
  me {{ __typename id x: __typename }}
}}""",
    {"first": 3},
    "Q",
    f"traveler:{OWN}",
)

MOBILE_CLASSICS = Case(
    "mobile",
    f"""query Q($yes: Boolean!) {{
  myTrips(first: 3) {{ ...Cards nextCursor }}
  itinerary(tripId: "{OWN_TRIP}") {{
    ... on Itinerary @include(if: $yes) {{ segments {{ kind title startsAt }} }}
    segments {{ endsAt kind }}
    id: title
    title: id
    totalCost {{ amount currency __typename }}
  }}
  bad: myTrips(first: 101) {{ nextCursor }}
}}
fragment Cards on TripCardPage {{ items {{ id dates status __typename }} }}""",
    {"yes": True},
    "Q",
    f"traveler:{OWN}",
)

# Scalars as the schema's serialisers write them, not as the backend did (`Z`, offsets and
# microseconds; 12 → "12" for a String; 4.0 → 4 for an Int; 1 → 1.0 for a Float).
SCALARS_AS_SERIALISED = Case(
    "web",
    f"""{{
  topDestinations(limit: 3) {{ code popularity }}
  trip(id: "{BENT_TRIPS.odd_scalars}") {{
    title startDate endDate status
    flights {{ departsAt arrivesAt seat status cabin price {{ amount formatted }} }}
    hotelStays {{ checkIn checkOut nights hotel {{ name stars }} }}
    carRentals {{ pickupAt dropoffAt }}
    totalCost {{ amount currency formatted }}
  }}
}}""",
    {},
    None,
    "agent",
)
SEGMENTS_AS_SERIALISED = Case(
    "mobile",
    f"""{{
  itinerary(tripId: "{BENT_TRIPS.odd_scalars}") {{
    title dates segments {{ kind startsAt endsAt title }} totalCost {{ amount }}
  }}
}}""",
    {},
    None,
    "agent",
)

# The page the benchmark measures: every field of 20 trips.
FULL_TRIPS_PAGE = Case(
    "web",
    """query Page($traveler: ID!, $first: Int!) {
  trips(travelerId: $traveler, first: $first) {
    nextCursor
    items {
      id title startDate endDate status
      traveler { id name email loyaltyTier homeAirport currency }
      flights {
        id carrier flightNumber origin destination departsAt arrivesAt cabin seat status
        price { amount currency formatted }
      }
      hotelStays {
        id checkIn checkOut nights roomType
        hotel { id name city stars address }
        price { amount currency formatted }
      }
      carRentals {
        id company pickupLocation dropoffLocation pickupAt dropoffAt vehicleClass
        price { amount currency formatted }
      }
      totalCost { amount currency formatted }
    }
  }
}""",
    {"traveler": OWN, "first": 20},
    "Page",
    f"traveler:{OWN}",
)
FULL_MOBILE_PAGE = Case(
    "mobile",
    f"""{{
  myTrips {{ nextCursor items {{ id title dates status }} }}
  itinerary(tripId: "{OWN_TRIP}") {{
    id title dates status
    segments {{ kind startsAt endsAt title }}
    totalCost {{ amount currency }}
  }}
  topDestinations {{ code name imageUrl }}
}}""",
    {},
    None,
    f"traveler:{OWN}",
)

WEB = (
    FULL_TRIPS_PAGE,
    SCALARS_AS_SERIALISED,
    SKIP_INCLUDE_IN_FRAGMENTS,
    MERGED_SUBSELECTIONS,
    ALIASES_WHEN_A_SIBLING_FAILS,
    NON_NULL_BUBBLES_TO_DATA,
    SAME_FIELD_DIFFERENT_ARGS,
)
MOBILE = (FULL_MOBILE_PAGE, SEGMENTS_AS_SERIALISED, MOBILE_CLASSICS)

# An operationName the document doesn't have: strawberry raises CannotGetOperationTypeError
# out of `schema.execute` and the endpoint answers 500 (both executors).
UNKNOWN_OPERATION_NAME = Case(
    "web", "query A { me { id } } query B { __typename }", {}, "C", f"traveler:{OWN}"
)

# Each reads through the backend path its hang stops (see test_with_a_hanging_backend).
HUNG: tuple[tuple[str, Case], ...] = (
    (
        "/api/flights",
        Case(
            "web",
            f'{{ trip(id: "{OWN_TRIP}") {{ id flights {{ id }} }} me {{ name }} }}',
            {},
            None,
            f"traveler:{OWN}",
        ),
    ),
    (
        "/api/fx",
        Case(
            "web",
            f'{{ trip(id: "{BENT_TRIPS.odd_scalars}") {{ title totalCost {{ amount }} }} }}',
            {},
            None,
            "agent",
        ),
    ),
    ("/api/travelers", Case("mobile", "{ myTrips { items { id dates } } }", {}, None, "agent")),
    (
        "/api/trips",
        Case(
            "mobile",
            f'{{ itinerary(tripId: "{OWN_TRIP}") {{ segments {{ title }} }} '
            "topDestinations { code } }",
            {},
            None,
            f"traveler:{OWN}",
        ),
    ),
)

# Answered without executing anything, or refused before execution: the same either way.
REQUESTS = (
    Case("web", "{ __typename }", {}, None, "anonymous"),
    Case("web", "{ __schema { queryType { name } } }", {}, None, "anonymous"),
    Case("web", '{ me { id } __type(name: "Trip") { fields { name } } }', {}, None, "agent"),
    Case("web", "{ me { nope } }", {}, None, f"traveler:{OWN}"),
    Case("web", "{ me { id }", {}, None, f"traveler:{OWN}"),
    Case(
        "web",
        "query Q($n: Int!) { topDestinations(limit: $n) { code } }",
        {"n": "x"},
        None,
        "anonymous",
    ),
    Case("web", 'mutation { cancelTrip(id: "trip-1") { id } }', {}, None, "agent", method="GET"),
    Case(
        "mobile",
        "{ myTrips { items { id } } }",
        {},
        None,
        "bad-token",
        accept="application/graphql-response+json",
    ),
    Case(
        "web",
        "{ me { trips { items { traveler { trips { items { traveler { trips { items "
        "{ traveler { trips { items { id } } } } } } } } } } } } }",
        {},
        None,
        f"traveler:{OWN}",
    ),
)
