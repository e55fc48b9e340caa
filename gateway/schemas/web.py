"""The schema at /graphql/web: rich, for the desktop web app (contract: web.graphql)."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry

from gateway.context import viewer_of
from gateway.resolvers.bookings import cars_of, flights_of, stays_of
from gateway.resolvers.money import formatted, total_costs
from gateway.resolvers.travelers import travelers_of
from gateway.resolvers.trips import page_of
from gateway.schemas.common import GqlInfo, TripStatus, build, status_filter
from gateway.segments import stay_nights


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

    @strawberry.field(description='For display, e.g. "€1,234.50".')
    def formatted(self) -> str:
        return formatted({"amount": self.amount, "currency": self.currency})

    @classmethod
    def from_backend(cls, data: dict[str, Any]) -> Money:
        return cls(amount=data["amount"], currency=data["currency"])


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

    @classmethod
    def from_backend(cls, d: dict[str, Any]) -> Flight:
        return cls(
            id=strawberry.ID(d["id"]),
            carrier=d["carrier"],
            flight_number=d["flight_number"],
            origin=d["origin"],
            destination=d["destination"],
            departs_at=datetime.fromisoformat(d["departs_at"]),
            arrives_at=datetime.fromisoformat(d["arrives_at"]),
            cabin=Cabin(d["cabin"]),
            seat=d["seat"],
            status=FlightStatus(d["status"]),
            price=Money.from_backend(d["price"]),
        )


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

    @classmethod
    def from_backend(cls, d: dict[str, Any]) -> HotelStay:
        h = d["hotel"]
        return cls(
            id=strawberry.ID(d["id"]),
            hotel=Hotel(
                id=strawberry.ID(h["id"]),
                name=h["name"],
                city=h["city"],
                stars=h["stars"],
                address=h["address"],
            ),
            check_in=date.fromisoformat(d["check_in"]),
            check_out=date.fromisoformat(d["check_out"]),
            nights=stay_nights(d),
            room_type=d["room_type"],
            price=Money.from_backend(d["price"]),
        )


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

    @classmethod
    def from_backend(cls, d: dict[str, Any]) -> CarRental:
        return cls(
            id=strawberry.ID(d["id"]),
            company=d["company"],
            pickup_location=d["pickup_location"],
            dropoff_location=d["dropoff_location"],
            pickup_at=datetime.fromisoformat(d["pickup_at"]),
            dropoff_at=datetime.fromisoformat(d["dropoff_at"]),
            vehicle_class=d["vehicle_class"],
            price=Money.from_backend(d["price"]),
        )


@strawberry.type
class Destination:
    code: str
    name: str
    country: str
    image_url: str
    popularity: float

    @classmethod
    def from_backend(cls, d: dict[str, Any]) -> Destination:
        return cls(
            code=d["code"],
            name=d["name"],
            country=d["country"],
            image_url=d["image_url"],
            popularity=d["popularity"],
        )


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
    data: strawberry.Private[dict[str, Any]]

    @classmethod
    def from_backend(cls, d: dict[str, Any]) -> Trip:
        return cls(
            id=strawberry.ID(d["id"]),
            title=d["title"],
            start_date=date.fromisoformat(d["start_date"]),
            end_date=date.fromisoformat(d["end_date"]),
            status=TripStatus(d["status"]),
            data=d,
        )

    # One trip at a time through the same batch functions the planner calls with a level.
    @strawberry.field
    async def traveler(self, info: GqlInfo) -> Traveler:
        return Traveler.from_backend((await travelers_of(viewer_of(info), [self.data]))[0])

    @strawberry.field
    async def flights(self, info: GqlInfo) -> list[Flight]:
        found = (await flights_of(viewer_of(info), [self.data]))[0]
        return [Flight.from_backend(d) for d in found]

    @strawberry.field
    async def hotel_stays(self, info: GqlInfo) -> list[HotelStay]:
        found = (await stays_of(viewer_of(info), [self.data]))[0]
        return [HotelStay.from_backend(d) for d in found]

    @strawberry.field
    async def car_rentals(self, info: GqlInfo) -> list[CarRental]:
        found = (await cars_of(viewer_of(info), [self.data]))[0]
        return [CarRental.from_backend(d) for d in found]

    @strawberry.field(description="Sum of all bookings, converted to the traveler's currency.")
    async def total_cost(self, info: GqlInfo) -> Money:
        return Money.from_backend((await total_costs(viewer_of(info), [self.data]))[0])


@strawberry.type
class Traveler:
    id: strawberry.ID
    name: str
    email: str
    loyalty_tier: LoyaltyTier
    home_airport: str
    currency: str

    @classmethod
    def from_backend(cls, d: dict[str, Any]) -> Traveler:
        return cls(
            id=strawberry.ID(d["id"]),
            name=d["name"],
            email=d["email"],
            loyalty_tier=LoyaltyTier(d["loyalty_tier"]),
            home_airport=d["home_airport"],
            currency=d["currency"],
        )

    @strawberry.field
    async def trips(
        self,
        info: GqlInfo,
        status: TripStatus | None = strawberry.UNSET,
        first: int = 20,
        after: str | None = strawberry.UNSET,
    ) -> TripPage:
        return await trip_page(info, str(self.id), status, first, after)


async def trip_page(
    info: GqlInfo, traveler_id: str, status: TripStatus | None, first: int, after: str | None
) -> TripPage:
    page = await page_of(
        viewer_of(info), traveler_id, status=status_filter(status), first=first, after=after
    )
    return TripPage(items=[Trip.from_backend(t) for t in page.items], next_cursor=page.next_cursor)


@strawberry.input
class BookTripInput:
    traveler_id: strawberry.ID
    title: str
    start_date: date
    end_date: date
    flight_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    hotel_stay_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    car_rental_ids: list[strawberry.ID] = strawberry.field(default_factory=list)

    def to_backend(self) -> dict[str, Any]:
        return {
            "traveler_id": str(self.traveler_id),
            "title": self.title,
            "start_date": self.start_date.isoformat(),
            "end_date": self.end_date.isoformat(),
            "flight_ids": [str(i) for i in self.flight_ids],
            "hotel_stay_ids": [str(i) for i in self.hotel_stay_ids],
            "car_rental_ids": [str(i) for i in self.car_rental_ids],
        }


@strawberry.type
class Query:
    @strawberry.field(
        description="The signed-in traveler; null when the request carries no valid token."
    )
    async def me(self, info: GqlInfo) -> Traveler | None:
        found = await viewer_of(info).me()
        return Traveler.from_backend(found) if found else None

    @strawberry.field(description="A traveler; travelers may read only themselves, agents anyone.")
    async def traveler(self, info: GqlInfo, id: strawberry.ID) -> Traveler | None:
        found = await viewer_of(info).traveler(str(id))
        return Traveler.from_backend(found) if found else None

    @strawberry.field
    async def trip(self, info: GqlInfo, id: strawberry.ID) -> Trip | None:
        found = await viewer_of(info).trip(str(id))
        return Trip.from_backend(found) if found else None

    @strawberry.field
    async def trips(
        self,
        info: GqlInfo,
        traveler_id: strawberry.ID,
        status: TripStatus | None = strawberry.UNSET,
        first: int = 20,
        after: str | None = strawberry.UNSET,
    ) -> TripPage:
        return await trip_page(info, str(traveler_id), status, first, after)

    @strawberry.field(description="Public: the same for every caller.")
    async def top_destinations(self, info: GqlInfo, limit: int = 10) -> list[Destination]:
        return [Destination.from_backend(d) for d in await viewer_of(info).top_destinations(limit)]


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def book_trip(self, info: GqlInfo, input: BookTripInput) -> Trip:
        return Trip.from_backend(await viewer_of(info).book_trip(input.to_backend()))

    @strawberry.mutation
    async def cancel_trip(self, info: GqlInfo, id: strawberry.ID) -> Trip:
        return Trip.from_backend(await viewer_of(info).cancel_trip(str(id)))


def build_web_schema(*, introspection: bool = True) -> strawberry.Schema:
    return build(Query, Mutation, introspection=introspection)
