"""The one path a passthrough request is decided on, and forwarded with (pure).

    decide_path(b"/api/trips/trip-1")         → "/api/trips/trip-1"
    decide_path(b"/api/%74rips/trip-1")       → "/api/trips/trip-1"
    decide_path(b"/api/../_stub/stats")       → PathRefused("a dot segment")
    decide_path(b"/api/flights%2F..%2Fx")     → PathRefused("an encoded slash")

The request line is percent-decoded once. Anything that a later hop could read differently
from how the gateway decided is refused rather than repaired: dot segments (`.`, `..`, and
their encodings), encoded slashes and backslashes, a backslash, NUL and other control
characters, empty segments, a `%` left after decoding (a second decode would change the
path), and bytes that are not UTF-8. What remains is re-encoded by `upstream_path` the same
way every time, so no HTTP library normalises it into another path on the way out.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote_to_bytes

API_PREFIX = "/api/"
_ENCODED_SEPARATOR = re.compile(rb"%(2f|5c)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Characters kept as they are when the decided path is written out again (RFC 3986 pchar
# minus "%"; everything else is percent-encoded).
_SAFE = "/-._~!$&'()*+,;=:@"


class PathRefused(ValueError):
    """`reason` is short and safe to show a client: "a dot segment", "an encoded slash"."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"path refused: {reason}")
        self.reason = reason


def decide_path(raw_path: bytes) -> str:
    """The percent-decoded path the gateway decides on, or PathRefused."""
    if _ENCODED_SEPARATOR.search(raw_path):
        raise PathRefused("an encoded slash or backslash")
    try:
        path = unquote_to_bytes(raw_path).decode("utf-8")
    except UnicodeDecodeError:
        raise PathRefused("bytes that are not UTF-8") from None
    if "\\" in path:
        raise PathRefused("a backslash")
    if _CONTROL.search(path):
        raise PathRefused("a control character")
    if "%" in path:
        raise PathRefused("a percent sign left after decoding")
    segments = path.split("/")[1:]
    if any(segment in (".", "..") for segment in segments):
        raise PathRefused("a dot segment")
    if not path.startswith("/") or "" in segments[:-1]:
        raise PathRefused("an empty segment")
    if not path.startswith(API_PREFIX):
        raise PathRefused("a path outside /api/")
    return path


def upstream_path(path: str) -> str:
    """The decided path as it goes on the wire: "/api/trips/trip 1" → "/api/trips/trip%201"."""
    return quote(path, safe=_SAFE)


def segment(value: str) -> str:
    """A caller's id as one path segment of a backend call the gateway makes itself:
    segment("trip-1") → "trip-1", segment("../_stub/reset") → "..%2F_stub%2Freset". Nothing
    in an id can add a segment, a query or a fragment to the path it is put in."""
    return quote(value, safe="")
