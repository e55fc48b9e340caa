"""Trips: one by id, pages of a traveler's trips, and the trip's own relations."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any

from gateway import access, eager
from gateway.loaders import Entity
from gateway.resolvers.bookings import TRIP_BOOKINGS
from gateway.resolvers.fields import Args, Attr, Load, TypeFields
from gateway.resolvers.money import total_costs
from gateway.resolvers.travelers import travelers_of
from gateway.viewer import Page, Viewer


async def trip(viewer: Viewer, roots: Sequence[Any], args: Args) -> list[Entity | None]:
    return [await viewer.trip(str(args["id"]))]


async def page_of(
    viewer: Viewer, traveler_id: str, *, status: str | None, first: int, after: str | None
) -> Page:
    """`status` is the backend's value ("booked"); an empty `after` means the first page."""
    return await viewer.trips_of(traveler_id, status=status, first=first, after=after or None)


async def trips(viewer: Viewer, roots: Sequence[Any], args: Args) -> list[Page]:
    return [await _page(viewer, str(args["traveler_id"]), args)]


async def pages_of(viewer: Viewer, travelers: Sequence[Entity], args: Args) -> list[Page]:
    """`Traveler.trips(...)` of every traveler of one level (each page is cached per request)."""
    return await eager.gather(*(_page(viewer, t["id"], args) for t in travelers))


async def my_trips(viewer: Viewer, roots: Sequence[Any], args: Args) -> list[Page]:
    return [await viewer.my_trips(first=args["first"], after=args.get("after") or None)]


async def book_trip(viewer: Viewer, roots: Sequence[Any], args: Args) -> list[Entity]:
    return [await viewer.book_trip(booking(args["input"]))]


async def cancel_trip(viewer: Viewer, roots: Sequence[Any], args: Args) -> list[Entity]:
    return [await viewer.cancel_trip(str(args["id"]))]


def booking(given: Any) -> Entity:
    """`bookTrip`'s input (the schema's `BookTripInput`, Python names) as the backend's body."""
    return {
        "traveler_id": str(given.traveler_id),
        "title": given.title,
        "start_date": given.start_date.isoformat(),
        "end_date": given.end_date.isoformat(),
        "flight_ids": [str(i) for i in given.flight_ids],
        "hotel_stay_ids": [str(i) for i in given.hotel_stay_ids],
        "car_rental_ids": [str(i) for i in given.car_rental_ids],
    }


def _page(viewer: Viewer, traveler_id: str, args: Args) -> Any:
    return page_of(
        viewer,
        traveler_id,
        status=_backend_value(args.get("status")),
        first=args["first"],
        after=args.get("after"),
    )


def _backend_value(status: Any) -> str | None:
    """The planner hands enum arguments over as strawberry's enum members (TripStatus.BOOKED)."""
    if isinstance(status, Enum):
        return str(status.value)
    return status or None


def may_read_page(viewer: Viewer, roots: Sequence[Any], args: Args) -> None:
    access.check_traveler(viewer.identity, str(args["traveler_id"]))
    access.check_first(args["first"])


def may_read_pages(viewer: Viewer, travelers: Sequence[Entity], args: Args) -> None:
    for traveler in travelers:
        access.check_traveler(viewer.identity, traveler["id"])
    access.check_first(args["first"])


def first_in_range(args: Args) -> None:
    access.check_first(args["first"])


def may_read_own_pages(viewer: Viewer, roots: Sequence[Any], args: Args) -> None:
    access.require_signed_in(viewer.identity)
    access.check_first(args["first"])


def signed_in(viewer: Viewer, roots: Sequence[Any], args: Args) -> None:
    access.require_signed_in(viewer.identity)


PAGE: TypeFields = {"items": Attr("items"), "next_cursor": Attr("next_cursor")}
TRIP: TypeFields = {
    **TRIP_BOOKINGS,
    "traveler": Load(travelers_of),
    "total_cost": Load(total_costs),
}
TRAVELER: TypeFields = {"trips": Load(pages_of, check=may_read_pages, check_args=first_in_range)}
ROOTS: dict[str, Load] = {
    "trip": Load(trip, check=signed_in),
    "trips": Load(trips, check=may_read_page),
    "my_trips": Load(my_trips, check=may_read_own_pages),
}
# The viewer decides who may change what (and marks the answer a mutation's).
CANCEL_TRIP = Load(cancel_trip)
MUTATIONS: dict[str, Load] = {"book_trip": Load(book_trip), "cancel_trip": CANCEL_TRIP}
