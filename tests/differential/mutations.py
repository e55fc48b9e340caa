"""Scripts of mutations and the reads after them. Mutations run on the reference executor
in both gateways; each gateway runs a script against its own fresh stub, so the answers
(new ids, statuses, what a read sees afterwards) must be the same."""

from __future__ import annotations

from tests.differential.domain import OTHER, OWN, UNKNOWN_TRIP, next_trip_id, own_trips
from tests.differential.strategies import Case

NEW = next_trip_id()
MINE = own_trips(OWN)
THEIRS = own_trips(OTHER)
TRIP_FIELDS = (
    "id title startDate endDate status traveler { id } flights { id price { amount } } "
    "totalCost { amount currency formatted }"
)
ITINERARY_FIELDS = (
    "id title dates status segments { kind title startsAt endsAt } totalCost { amount currency }"
)


def booking(traveler: str, **changes: object) -> dict[str, object]:
    source = MINE[0] if traveler == OWN else THEIRS[0]
    return {
        "travelerId": traveler,
        "title": "Differential trip",
        "startDate": "2027-03-01",
        "endDate": "2027-03-04",
        "flightIds": source["flight_ids"],
        "hotelStayIds": source["hotel_stay_ids"],
        **changes,
    }


def web(
    document: str, variables: dict[str, object] | None = None, caller: str = f"traveler:{OWN}"
) -> Case:
    return Case("web", document, variables or {}, None, caller)


def mobile(document: str, caller: str = f"traveler:{OWN}") -> Case:
    return Case("mobile", document, {}, None, caller)


READ_BACK = web(
    f'{{ trip(id: "{NEW}") {{ {TRIP_FIELDS} }} '
    "me { trips(first: 3) { items { id status } } } }"
)

SCRIPTS: dict[str, tuple[Case, ...]] = {
    # Root mutation fields run one after another, in document order.
    "book-cancel-cancel-in-order": (
        web(
            f"""mutation M($input: BookTripInput!) {{
  booked: bookTrip(input: $input) {{ {TRIP_FIELDS} }}
  cancelled: cancelTrip(id: "{NEW}") {{ id status }}
}}""",
            {"input": booking(OWN)},
        ),
        web(f'mutation {{ again: cancelTrip(id: "{NEW}") {{ id status }} }}'),
        READ_BACK,
    ),
    "refusals": (
        web(f'mutation {{ a: cancelTrip(id: "{THEIRS[0]["id"]}") {{ id }} }}'),
        web(f'mutation {{ b: cancelTrip(id: "{UNKNOWN_TRIP}") {{ id }} }}'),
        web(
            "mutation M($input: BookTripInput!) { bookTrip(input: $input) { id } }",
            {"input": booking(OWN, endDate="2027-02-01")},
        ),
        web(
            "mutation M($input: BookTripInput!) { bookTrip(input: $input) { id } }",
            {"input": booking(OTHER)},
        ),
        web(f'mutation {{ cancelTrip(id: "{MINE[1]["id"]}") {{ id }} }}', caller="anonymous"),
        READ_BACK,
    ),
    "agent-books-for-someone": (
        web(
            f"mutation M($input: BookTripInput!) {{ bookTrip(input: $input) {{ {TRIP_FIELDS} }} }}",
            {"input": booking(OTHER)},
            caller="agent",
        ),
        web(f'{{ trip(id: "{NEW}") {{ {TRIP_FIELDS} }} }}', caller="agent"),
    ),
    "mobile-cancel-then-read": (
        mobile("{ myTrips(first: 3) { items { id status } } }"),
        mobile(f'mutation {{ first: cancelTrip(id: "{MINE[0]["id"]}") {{ {ITINERARY_FIELDS} }} }}'),
        mobile(f'mutation {{ second: cancelTrip(id: "{MINE[0]["id"]}") {{ id }} }}'),
        mobile(
            "{ myTrips(first: 3) { items { id status } } "
            f'itinerary(tripId: "{MINE[0]["id"]}") {{ status }} }}'
        ),
    ),
}
