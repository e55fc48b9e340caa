"""The schema at /graphql/mobile: lean answers for the phone (contract: mobile.graphql).

The gateway aggregates on the server: a trip's flights, stays and cars become one list of
segments in time order, money is already converted, dates are already human-readable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from gateway.context import viewer_of
from gateway.resolvers.itinerary import segments_of, trip_dates
from gateway.resolvers.money import total_costs
from gateway.schemas.common import GqlInfo, TripStatus, build
from gateway.segments import Segment as SegmentData
from gateway.segments import SegmentKind

SegmentKindEnum = strawberry.enum(SegmentKind, name="SegmentKind")


@strawberry.type
class Money:
    amount: int
    currency: str


@strawberry.type
class TripCard:
    id: strawberry.ID
    title: str
    dates: str = strawberry.field(description='Human-readable range, e.g. "1–5 Dec 2026".')
    status: TripStatus

    @classmethod
    def from_backend(cls, d: dict[str, Any]) -> TripCard:
        return cls(
            id=strawberry.ID(d["id"]),
            title=d["title"],
            dates=trip_dates(d),
            status=TripStatus(d["status"]),
        )


@strawberry.type
class TripCardPage:
    items: list[TripCard]
    next_cursor: str | None


@strawberry.type
class Segment:
    kind: SegmentKindEnum  # type: ignore[valid-type]
    starts_at: datetime
    ends_at: datetime
    title: str = strawberry.field(
        description='e.g. "BA117 LHR → JFK", "Hotel Arts Barcelona", "Hertz, compact".'
    )

    @classmethod
    def from_data(cls, s: SegmentData) -> Segment:
        return cls(kind=s.kind, starts_at=s.starts_at, ends_at=s.ends_at, title=s.title)


@strawberry.type
class Itinerary:
    id: strawberry.ID
    title: str
    dates: str
    status: TripStatus
    data: strawberry.Private[dict[str, Any]]

    @classmethod
    def from_backend(cls, trip: dict[str, Any]) -> Itinerary:
        return cls(
            id=strawberry.ID(trip["id"]),
            title=trip["title"],
            dates=trip_dates(trip),
            status=TripStatus(trip["status"]),
            data=trip,
        )

    @strawberry.field(
        description="Every flight, stay and car rental of the trip as one list, in time order."
    )
    async def segments(self, info: GqlInfo) -> list[Segment]:
        found = (await segments_of(viewer_of(info), [self.data]))[0]
        return [Segment.from_data(s) for s in found]

    @strawberry.field(description="Sum of all bookings, converted to the traveler's currency.")
    async def total_cost(self, info: GqlInfo) -> Money:
        total = (await total_costs(viewer_of(info), [self.data]))[0]
        return Money(amount=total["amount"], currency=total["currency"])


@strawberry.type
class DestinationCard:
    code: str
    name: str
    image_url: str


@strawberry.type
class Query:
    @strawberry.field(
        description="The signed-in traveler's trips, newest first; an error without a valid token."
    )
    async def my_trips(
        self, info: GqlInfo, first: int = 10, after: str | None = strawberry.UNSET
    ) -> TripCardPage:
        page = await viewer_of(info).my_trips(first=first, after=after or None)
        return TripCardPage(
            items=[TripCard.from_backend(t) for t in page.items], next_cursor=page.next_cursor
        )

    @strawberry.field
    async def itinerary(self, info: GqlInfo, trip_id: strawberry.ID) -> Itinerary | None:
        trip = await viewer_of(info).trip(str(trip_id))
        return Itinerary.from_backend(trip) if trip else None

    @strawberry.field(description="Public: the same for every caller.")
    async def top_destinations(self, info: GqlInfo, limit: int = 5) -> list[DestinationCard]:
        found = await viewer_of(info).top_destinations(limit)
        return [
            DestinationCard(code=d["code"], name=d["name"], image_url=d["image_url"]) for d in found
        ]


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def cancel_trip(self, info: GqlInfo, id: strawberry.ID) -> Itinerary:
        return Itinerary.from_backend(await viewer_of(info).cancel_trip(str(id)))


def build_mobile_schema(*, introspection: bool = True) -> strawberry.Schema:
    return build(Query, Mutation, introspection=introspection)
