"""Where a trip sits in its traveler's list (newest `start_date` first, then highest trip
number first) and the opaque cursor that names that place.

    position({"id": "trip-42", "start_date": "2026-12-01", ...}) → (-739951, -42)
    encode_cursor((-739951, -42)) → "MjAyNi0xMi0wMX50cmlwLTQy"
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import date
from typing import Any

from legacy_stub.errors import InvalidError

# Ascending order of positions is the list's newest-first order.
Position = tuple[int, int]

_CURSOR_TEXT = re.compile(r"(\d{4}-\d{2}-\d{2})~trip-(\d{1,9})")


def position(trip: dict[str, Any]) -> Position:
    day = date.fromisoformat(trip["start_date"]).toordinal()
    return (-day, -trip_number(trip["id"]))


def trip_number(trip_id: str) -> int:
    """`"trip-42"` → 42."""
    return int(trip_id.removeprefix("trip-"))


def encode_cursor(at: Position) -> str:
    text = f"{date.fromordinal(-at[0]).isoformat()}~trip-{-at[1]}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        match = _CURSOR_TEXT.fullmatch(text)
        if match is None:
            raise ValueError(text)
        return (-date.fromisoformat(match[1]).toordinal(), -int(match[2]))
    except (ValueError, binascii.Error) as error:
        raise InvalidError(f"cursor {cursor!r} is not one this API gave out") from error
