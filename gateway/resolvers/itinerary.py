"""The mobile aggregation: one trip's bookings as time-ordered segments, human dates."""

from __future__ import annotations

from datetime import date
from typing import Any

from gateway.dates import format_date_range
from gateway.segments import Segment, build_segments
from gateway.viewer import Viewer


def trip_dates(trip: dict[str, Any]) -> str:
    """{"start_date": "2026-12-01", "end_date": "2026-12-05"} → "1–5 Dec 2026"."""
    return format_date_range(
        date.fromisoformat(trip["start_date"]), date.fromisoformat(trip["end_date"])
    )


async def trip_segments(viewer: Viewer, trip: dict[str, Any]) -> list[Segment]:
    bookings = await viewer.bookings(trip)
    return build_segments(bookings.flights, bookings.stays, bookings.cars)
