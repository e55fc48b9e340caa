"""Query-string parsing: raw strings in, checked values out, `InvalidError` otherwise.

parse_ids("fl-1,fl-2,,fl-1")  → ["fl-1", "fl-2", "fl-1"]
parse_limit("5", default=20, maximum=100) → 5
"""

from __future__ import annotations

import zlib

from legacy_stub.errors import InvalidError

MAX_BATCH = 100
TRIP_STATUSES = ("booked", "cancelled")


def parse_ids(raw: str | None) -> list[str]:
    if raw is None:
        raise InvalidError("query parameter 'ids' is required, e.g. ?ids=a,b,c")
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    if len(ids) > MAX_BATCH:
        raise InvalidError(f"at most {MAX_BATCH} ids per request, got {len(ids)}")
    return ids


def parse_limit(raw: str | None, *, default: int, maximum: int) -> int:
    if raw is None or raw == "":
        return default
    if not _is_natural(raw) or not 1 <= int(raw) <= maximum:
        raise InvalidError(f"limit must be an integer from 1 to {maximum}, got {raw!r}")
    return int(raw)


def parse_status(raw: str | None) -> str | None:
    if raw is None or raw == "":
        return None
    if raw not in TRIP_STATUSES:
        raise InvalidError(f"status must be one of {', '.join(TRIP_STATUSES)}, got {raw!r}")
    return raw


def parse_after(raw: str | None) -> int:
    if raw is None or raw == "":
        return 0
    if not _is_natural(raw):
        raise InvalidError(f"after must be a non-negative integer, got {raw!r}")
    return int(raw)


def scramble(ids: list[str]) -> list[str]:
    """The order a batch answers in: each id once, deliberately not the order asked.

    scramble(["a", "b"]) → ["b", "a"] (never ["a", "b"])
    """
    unique = list(dict.fromkeys(ids))
    shuffled = sorted(unique, key=lambda id: (zlib.crc32(id.encode()), id))
    return shuffled[::-1] if shuffled == unique else shuffled


def _is_natural(raw: str) -> bool:
    return raw.isascii() and raw.isdigit() and len(raw) <= 9
