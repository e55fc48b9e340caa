"""What one request's answer was made of, for `X-Cache` and the answer's cache policy.

trace.record("L1"); trace.record("load")  → x_cache() == "MISS"
trace.record("L2")                        → x_cache() == "HIT-L2"
trace.record("stale")                     → x_cache() == "STALE"
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from gateway.cache.policy import PRIVATE, CachePolicy, response_policy

_RANK = {"L1": 0, "L2": 1, "load": 2, "stale": 3}


@dataclass(slots=True)
class CacheTrace:
    private: bool = False  # a veto: touched anything that belongs to a traveler
    mutation: bool = False
    sources: set[str] = field(default_factory=set)  # "L1" | "L2" | "load" | "stale"
    public_ttls: list[int] = field(default_factory=list)  # TTLs of the public data touched
    stale_reason: str | None = None

    def record(self, source: str) -> None:
        self.sources.add(source)

    def touched_public(self, ttl: int) -> None:
        self.public_ttls.append(ttl)

    def served_stale(self, reason: str) -> None:
        self.sources.add("stale")
        self.stale_reason = reason

    def x_cache(self) -> str:
        worst = max(self.sources, key=_RANK.__getitem__, default="load")
        return {"L1": "HIT-L1", "L2": "HIT-L2", "load": "MISS", "stale": "STALE"}[worst]

    def policy(
        self,
        public: CachePolicy,
        *,
        has_errors: bool,
        declared_ttls: Sequence[int] | None,
        persisted_query_miss: bool = False,
    ) -> CachePolicy:
        """`public` capped by the shortest TTL touched, when the answer is proven public.

        `declared_ttls` are the TTLs of the public root fields the operation selects
        (gateway.privacy); None means something it selects is not declared public, and
        that alone makes the answer private (fail-closed). A data access that marked the
        trace private, stale data, a mutation or an error are each a veto too.
        """
        if declared_ttls is None or self.private or not public.public:
            return PRIVATE
        if "stale" in self.sources:
            return PRIVATE
        ttl = min([public.max_age, *declared_ttls, *self.public_ttls])
        if ttl <= 0:
            return PRIVATE
        capped = CachePolicy(
            public=True,
            max_age=ttl,
            s_maxage=min(public.s_maxage, ttl),
            swr=public.swr,
            sie=public.sie,
        )
        return response_policy(
            capped,
            is_mutation=self.mutation,
            has_errors=has_errors,
            persisted_query_miss=persisted_query_miss,
        )
