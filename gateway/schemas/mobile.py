"""The schema at /graphql/mobile: lean answers for the phone (contract: mobile.graphql).

The gateway aggregates on the server: a trip's flights, stays and cars become one list of
segments in time order, money is already converted, dates are already human-readable. The
classes give the GraphQL shape only: every field resolves from its declaration in
`gateway.resolvers` (see `gateway.schemas.declared`, catalog `MOBILE`).
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.resolvers.catalog import MOBILE
from gateway.schemas.common import TripStatus, build
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


@strawberry.type
class Itinerary:
    id: strawberry.ID
    title: str
    dates: str
    status: TripStatus
    segments: list[Segment] = strawberry.field(
        description="Every flight, stay and car rental of the trip as one list, in time order."
    )
    total_cost: Money = strawberry.field(
        description="Sum of all bookings, converted to the traveler's currency."
    )


@strawberry.type
class DestinationCard:
    code: str
    name: str
    image_url: str


# Root fields with arguments are methods for their signatures; their bodies never run.
@strawberry.type
class Query:
    @strawberry.field(
        description="The signed-in traveler's trips, newest first; an error without a valid token."
    )
    def my_trips(self, first: int = 10, after: str | None = strawberry.UNSET) -> TripCardPage:
        raise NotImplementedError

    @strawberry.field
    def itinerary(self, trip_id: strawberry.ID) -> Itinerary | None:
        raise NotImplementedError

    @strawberry.field(description="Public: the same for every caller.")
    def top_destinations(self, limit: int = 5) -> list[DestinationCard]:
        raise NotImplementedError


@strawberry.type
class Mutation:
    @strawberry.mutation
    def cancel_trip(self, id: strawberry.ID) -> Itinerary:
        raise NotImplementedError


def build_mobile_schema(*, introspection: bool = True) -> strawberry.Schema:
    return build(Query, Mutation, catalog=MOBILE, introspection=introspection)
