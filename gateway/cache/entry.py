"""The cached value shared by both tiers, and its Redis wire format.

An entry is fresh until `fresh_until` and still usable as a stale fallback until
`stale_until` (both wall-clock epoch seconds, so processes agree on them).

Redis stores `MAGIC + fresh_until + stale_until + value`:

    encode(Entry(b'{"a":1}', 100.0, 160.0)) -> b"B1" + <two big-endian doubles> + b'{"a":1}'
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

_MAGIC = b"B1"
_HEADER = struct.Struct(">dd")
_PREFIX_LEN = len(_MAGIC) + _HEADER.size


@dataclass(frozen=True, slots=True)
class Entry:
    value: bytes
    fresh_until: float
    stale_until: float

    @classmethod
    def create(cls, value: bytes, *, now: float, ttl_s: float, stale_s: float = 0.0) -> Entry:
        fresh_until = now + ttl_s
        return cls(value, fresh_until, fresh_until + max(stale_s, 0.0))

    def fresh(self, now: float) -> bool:
        return now < self.fresh_until

    def usable(self, now: float) -> bool:
        """Fresh, or within the stale window (serve only when the backend fails)."""
        return now < self.stale_until


def encode(entry: Entry) -> bytes:
    return _MAGIC + _HEADER.pack(entry.fresh_until, entry.stale_until) + entry.value


def decode(raw: bytes) -> Entry | None:
    """The entry, or None for anything this version did not write."""
    if len(raw) < _PREFIX_LEN or not raw.startswith(_MAGIC):
        return None
    fresh_until, stale_until = _HEADER.unpack_from(raw, len(_MAGIC))
    return Entry(raw[_PREFIX_LEN:], fresh_until, stale_until)
