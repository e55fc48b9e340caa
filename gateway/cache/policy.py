"""HTTP cache policy, ETags and If-None-Match (pure).

    CachePolicy(public=True, max_age=30, s_maxage=300, swr=60, sie=600).header()
      -> "public, max-age=30, s-maxage=300, stale-while-revalidate=60, stale-if-error=600"
    PRIVATE.header() -> "private, no-store"

Anything private, any answer with errors, every mutation and every persisted-query miss is
PRIVATE (see `response_policy`). Combining policies keeps the most restrictive of each part.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class CachePolicy:
    public: bool
    max_age: int = 0
    s_maxage: int = 0
    swr: int = 0
    sie: int = 0

    PRIVATE: ClassVar[CachePolicy]

    def __post_init__(self) -> None:
        ages = (self.max_age, self.s_maxage, self.swr, self.sie)
        if min(ages) < 0:
            raise ValueError(f"cache ages must be >= 0 seconds, got {self}")
        if not self.public and any(ages):
            raise ValueError("a private policy is never stored, so it has no ages")

    def header(self) -> str:
        if not self.public:
            return "private, no-store"
        parts = ["public", f"max-age={self.max_age}", f"s-maxage={self.s_maxage}"]
        if self.swr:
            parts.append(f"stale-while-revalidate={self.swr}")
        if self.sie:
            parts.append(f"stale-if-error={self.sie}")
        return ", ".join(parts)

    @staticmethod
    def combine(a: CachePolicy, b: CachePolicy) -> CachePolicy:
        """The most restrictive of the two: private wins, else the smallest of each age."""
        if not (a.public and b.public):
            return PRIVATE
        return CachePolicy(
            public=True,
            max_age=min(a.max_age, b.max_age),
            s_maxage=min(a.s_maxage, b.s_maxage),
            swr=min(a.swr, b.swr),
            sie=min(a.sie, b.sie),
        )


PRIVATE = CachePolicy(public=False)
CachePolicy.PRIVATE = PRIVATE


def combine_all(policies: Iterable[CachePolicy]) -> CachePolicy:
    """Combine every policy that touched an answer; no policy at all means PRIVATE."""
    result: CachePolicy | None = None
    for policy in policies:
        result = policy if result is None else CachePolicy.combine(result, policy)
    return PRIVATE if result is None else result


def response_policy(
    policy: CachePolicy,
    *,
    is_mutation: bool,
    has_errors: bool,
    persisted_query_miss: bool = False,
) -> CachePolicy:
    """The policy to send: `policy` unless the answer must never be stored."""
    if is_mutation or has_errors or persisted_query_miss:
        return PRIVATE
    return policy


def etag_for(body: bytes) -> str:
    """A strong ETag: the quoted, unpadded base64url sha256 of the exact body bytes."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(body).digest()).rstrip(b"=")
    return f'"{digest.decode()}"'


# One list element: optional W/ then a quoted opaque tag (which may contain commas);
# empty elements (", ,") are allowed by the list syntax.
_ENTITY_TAG = re.compile(r'[\s,]*(?:W/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|$)')


def if_none_match(header: str | None, etag: str) -> bool:
    """Does If-None-Match match `etag`, so the answer may be 304? Weak comparison
    (RFC 9110 13.1.2): `W/` is ignored on both sides; `*` matches; garbage never does.

        if_none_match('W/"a", "b"', '"b"') -> True
    """
    if header is None:
        return False
    header = header.strip()
    if header == "*":
        return True
    ours = etag.removeprefix("W/")
    pos, tags = 0, []
    while pos < len(header):
        match = _ENTITY_TAG.match(header, pos)
        if match is None:
            return False
        tags.append(match.group(1))
        pos = match.end()
    return ours in tags
