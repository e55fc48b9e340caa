"""The mobile aggregation: a trip's bookings as time-ordered segments, human dates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from gateway import access
from gateway.dates import format_date_range
from gateway.loaders import Entity
from gateway.resolvers.bookings import bookings_of
from gateway.resolvers.fields import NO_ARGS, Args, Attr, Compute, Load, TypeFields
from gateway.resolvers.money import total_costs
from gateway.segments import Segment, build_segments
from gateway.viewer import Viewer


def trip_dates(trip: dict[str, Any]) -> str:
    """{"start_date": "2026-12-01", "end_date": "2026-12-05"} → "1–5 Dec 2026"."""
    return format_date_range(
        date.fromisoformat(trip["start_date"]), date.fromisoformat(trip["end_date"])
    )


async def segments_of(
    viewer: Viewer, trips: Sequence[Entity], args: Args = NO_ARGS
) -> list[list[Segment]]:
    return [build_segments(b.flights, b.stays, b.cars) for b in await bookings_of(viewer, trips)]


async def itinerary(viewer: Viewer, roots: Sequence[Any], args: Args) -> list[Entity | None]:
    return [await viewer.trip(str(args["trip_id"]))]


TRIP_CARD: TypeFields = {"dates": Compute(trip_dates)}
ITINERARY: TypeFields = {
    "dates": Compute(trip_dates),
    "segments": Load(segments_of),
    "total_cost": Load(total_costs),
}
SEGMENT: TypeFields = {
    "kind": Attr("kind"),
    "starts_at": Attr("starts_at"),
    "ends_at": Attr("ends_at"),
    "title": Attr("title"),
}


def signed_in(viewer: Viewer, roots: Sequence[Any], args: Args) -> None:
    access.require_signed_in(viewer.identity)


ROOTS: dict[str, Load] = {"itinerary": Load(itinerary, check=signed_in)}
