"""How long each kind of data may be cached, and the process's one `TieredCache`.

TTLs come from the environment (`CACHE_TTL_<KIND>` in seconds, 0 = never cache), with
defaults: reference data for minutes, bookings for tens of seconds, trips shorter. The L1's
bounds: `CACHE_L1_ENTRIES` (20,000) and `CACHE_L1_BYTES` (64 MiB).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from gateway.cache.l1 import L1Cache
from gateway.cache.policy import CachePolicy
from gateway.cache.tiered import TieredCache

DEFAULT_TTLS: Mapping[str, int] = {
    "destinations": 300,
    "fx": 300,
    "traveler": 60,
    "flight": 30,
    "hotel_stay": 30,
    "car_rental": 30,
    "trip": 10,
    "trip_list": 10,
    "owned_bookings": 10,  # which bookings are on a traveler's trips (access checks)
    "answer": 60,
}


@dataclass(frozen=True, slots=True)
class CacheConfig:
    ttls: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_TTLS))
    stale_s: int = 600  # how long past its TTL an entry is kept for stale-if-error
    l1_entries: int = 20_000
    l1_bytes: int = 64 * 2**20
    redis_url: str | None = None
    redis_cluster: bool = False
    redis_timeout_s: float = 0.05
    # How long a process waits for another's load of the same key (its Redis lease) before
    # loading it too: a hot key's cold miss reaches the backend once across processes.
    lease_wait_s: float = 0.5

    def ttl(self, kind: str) -> int:
        return self.ttls.get(kind, 0)

    def answer_policy(self) -> CachePolicy:
        """What a CDN may do with a public answer."""
        ttl = self.ttl("answer")
        if ttl <= 0:
            return CachePolicy(public=False)
        return CachePolicy(public=True, max_age=ttl, s_maxage=ttl, swr=ttl, sie=self.stale_s)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> CacheConfig:
        env = os.environ if env is None else env
        ttls = {
            kind: _seconds(env, f"CACHE_TTL_{kind.upper()}", d) for kind, d in DEFAULT_TTLS.items()
        }
        return cls(
            ttls=ttls,
            stale_s=_seconds(env, "CACHE_STALE_S", 600),
            l1_entries=max(1, _seconds(env, "CACHE_L1_ENTRIES", 20_000)),
            l1_bytes=max(1, _seconds(env, "CACHE_L1_BYTES", 64 * 2**20)),
            redis_url=env.get("REDIS_URL") or None,
            redis_cluster=env.get("REDIS_CLUSTER", "0") in ("1", "true", "yes"),
            redis_timeout_s=_seconds(env, "REDIS_TIMEOUT_MS", 50) / 1000,
            lease_wait_s=_seconds(env, "CACHE_LEASE_WAIT_MS", 500) / 1000,
        )


def _seconds(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a whole number") from None
    if value < 0:
        raise ValueError(f"{name}={value} must be 0 or more")
    return value


def build_cache(config: CacheConfig, *, write_behind: bool = True) -> TieredCache:
    """L1 always; Redis when `REDIS_URL` is set (redis-py imported only then: cold start)."""
    l2 = None
    if config.redis_url:
        from gateway.cache.redis_store import RedisStore

        l2 = RedisStore(
            config.redis_url, cluster=config.redis_cluster, timeout_s=config.redis_timeout_s
        )
    l1 = L1Cache(max_entries=config.l1_entries, max_bytes=config.l1_bytes)
    return TieredCache(l1, l2, write_behind=write_behind, lease_wait_s=config.lease_wait_s)
