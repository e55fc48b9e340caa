"""The schema at /graphql/web: rich, for the desktop web app (contract: web.graphql).

The classes give the GraphQL shape only: every field resolves from its declaration in
`gateway.resolvers` (see `gateway.schemas.declared`, catalog `WEB`).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import strawberry

from gateway.resolvers.catalog import WEB
from gateway.schemas.common import TripStatus, build


@strawberry.enum
class LoyaltyTier(Enum):
    NONE = "none"
    SILVER = "silver"
    GOLD = "gold"


@strawberry.enum
class FlightStatus(Enum):
    SCHEDULED = "scheduled"
    DELAYED = "delayed"
    CANCELLED = "cancelled"


@strawberry.enum
class Cabin(Enum):
    ECONOMY = "economy"
    PREMIUM = "premium"
    BUSINESS = "business"
    FIRST = "first"


@strawberry.type
class Money:
    amount: int = strawberry.field(description="Minor units (cents).")
    currency: str
    formatted: str = strawberry.field(description='For display, e.g. "€1,234.50".')


@strawberry.type
class Flight:
    id: strawberry.ID
    carrier: str
    flight_number: str
    origin: str
    destination: str
    departs_at: datetime
    arrives_at: datetime
    cabin: Cabin
    seat: str | None
    status: FlightStatus
    price: Money


@strawberry.type
class Hotel:
    id: strawberry.ID
    name: str
    city: str
    stars: int
    address: str


@strawberry.type
class HotelStay:
    id: strawberry.ID
    hotel: Hotel
    check_in: date
    check_out: date
    nights: int
    room_type: str
    price: Money


@strawberry.type
class CarRental:
    id: strawberry.ID
    company: str
    pickup_location: str
    dropoff_location: str
    pickup_at: datetime
    dropoff_at: datetime
    vehicle_class: str
    price: Money


@strawberry.type
class Destination:
    code: str
    name: str
    country: str
    image_url: str
    popularity: float


@strawberry.type
class TripPage:
    items: list[Trip]
    next_cursor: str | None


@strawberry.type
class Trip:
    id: strawberry.ID
    title: str
    start_date: date
    end_date: date
    status: TripStatus
    traveler: Traveler
    flights: list[Flight]
    hotel_stays: list[HotelStay]
    car_rentals: list[CarRental]
    total_cost: Money = strawberry.field(
        description="Sum of all bookings, converted to the traveler's currency."
    )


@strawberry.type
class Traveler:
    id: strawberry.ID
    name: str
    email: str
    loyalty_tier: LoyaltyTier
    home_airport: str
    currency: str

    @strawberry.field
    def trips(
        self,
        status: TripStatus | None = strawberry.UNSET,
        first: int = 20,
        after: str | None = strawberry.UNSET,
    ) -> TripPage:
        raise NotImplementedError  # arguments only: resolved by its declaration


@strawberry.input
class BookTripInput:
    traveler_id: strawberry.ID
    title: str
    start_date: date
    end_date: date
    flight_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    hotel_stay_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    car_rental_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


# Root fields with arguments are methods for their signatures; their bodies never run.
@strawberry.type
class Query:
    me: Traveler | None = strawberry.field(
        description="The signed-in traveler; null when the request carries no valid token."
    )

    @strawberry.field(description="A traveler; travelers may read only themselves, agents anyone.")
    def traveler(self, id: strawberry.ID) -> Traveler | None:
        raise NotImplementedError

    @strawberry.field
    def trip(self, id: strawberry.ID) -> Trip | None:
        raise NotImplementedError

    @strawberry.field
    def trips(
        self,
        traveler_id: strawberry.ID,
        status: TripStatus | None = strawberry.UNSET,
        first: int = 20,
        after: str | None = strawberry.UNSET,
    ) -> TripPage:
        raise NotImplementedError

    @strawberry.field(description="Public: the same for every caller.")
    def top_destinations(self, limit: int = 10) -> list[Destination]:
        raise NotImplementedError


@strawberry.type
class Mutation:
    @strawberry.mutation
    def book_trip(self, input: BookTripInput) -> Trip:
        raise NotImplementedError

    @strawberry.mutation
    def cancel_trip(self, id: strawberry.ID) -> Trip:
        raise NotImplementedError


def build_web_schema(*, introspection: bool = True) -> strawberry.Schema:
    return build(Query, Mutation, catalog=WEB, introspection=introspection)
