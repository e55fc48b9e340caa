"""Fixed cases for what goes wrong when a fast executor drifts from the reference (the
classics of graphql-jit's issue tracker), run before the generated ones."""

from __future__ import annotations

from tests.differential.domain import (
    BENT,
    OTHER,
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

# Found by this suite: after a fallback from the planned run, the reference run's errors came
# in another order (the loads it reuses settle sooner than fresh ones).
ERROR_ORDER_AFTER_FALLBACK = Case(
    "web",
    f"""{{
  me {{ id }}
  trip(id: "{OWN_TRIP}") {{ traveler {{ trips(after: "bad") {{ nextCursor }} }} }}
  traveler(id: "{OWN}") {{ trips(after: "bad") {{ nextCursor }} }}
}}""",
    {},
    None,
    "agent",
)

# Found by this suite, with /api/destinations failing: two non-null root fields fail and
# the first error to arrive nulls `data`; the reference's is FORBIDDEN, the fallback's was
# the reused BACKEND_UNAVAILABLE.
FAILING_AND_FORBIDDEN = Case(
    "web",
    f'{{ topDestinations(limit: 4) {{ name }} trips(travelerId: "{OTHER}") {{ nextCursor }} }}',
    {},
    None,
    f"traveler:{OWN}",
)

# Found by this suite: `myTrips` fails and nulls `data`; the reference reports only that
# error, the fallback also the FORBIDDEN of `itinerary` (its trip load had already settled).
ONE_ERROR_OR_TWO = Case(
    "mobile",
    f"""{{
  itinerary(tripId: "{BENT_TRIPS.orphan}") {{ status }}
  myTrips(after: "bad") {{ nextCursor }}
}}""",
    {},
    None,
    f"traveler:{OWN}",
)

WEB = (
    ERROR_ORDER_AFTER_FALLBACK,
    SKIP_INCLUDE_IN_FRAGMENTS,
    MERGED_SUBSELECTIONS,
    ALIASES_WHEN_A_SIBLING_FAILS,
    NON_NULL_BUBBLES_TO_DATA,
    SAME_FIELD_DIFFERENT_ARGS,
)
MOBILE = (ONE_ERROR_OR_TWO, MOBILE_CLASSICS)

# An operationName the document doesn't have: strawberry raises CannotGetOperationTypeError
# out of `schema.execute` and the endpoint answers 500 (both executors).
UNKNOWN_OPERATION_NAME = Case(
    "web", "query A { me { id } } query B { __typename }", {}, "C", f"traveler:{OWN}"
)

# Answered without executing anything, or refused before execution: the same either way.
REQUESTS = (
    Case("web", "{ __typename }", {}, None, "anonymous"),
    Case("web", "{ __schema { queryType { name } } }", {}, None, "anonymous"),
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
