"""The limiter: Redis when configured, this process otherwise, and this process again
whenever Redis can't answer (counted in `fallbacks`, shown at `/_gateway/routes`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gateway.config import Settings
from gateway.ratelimit.bucket import Decision, Rate
from gateway.ratelimit.local_store import LocalBuckets

if TYPE_CHECKING:  # redis-py costs ~60 ms of a Lambda cold start
    from gateway.ratelimit.redis_store import RedisBuckets


class RateLimiter:
    def __init__(
        self, rate: Rate, *, redis: RedisBuckets | None = None, local: LocalBuckets | None = None
    ) -> None:
        self.rate = rate
        self._redis = redis
        self._local = local or LocalBuckets()
        self.fallbacks = 0  # decisions made in process because Redis couldn't answer
        self.refused = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter | None:
        """None when `GATEWAY_RATE_LIMIT` is off (the default in dev)."""
        if settings.rate_limit is None:
            return None
        redis = None
        if settings.redis_url:
            from gateway.ratelimit.redis_store import RedisBuckets  # redis-py only when used

            redis = RedisBuckets(settings.redis_url, cluster=settings.redis_cluster)
        return cls(settings.rate_limit, redis=redis)

    async def take(self, caller: str) -> Decision:
        decision = None
        if self._redis is not None:
            decision = await self._redis.take(caller, self.rate)
            if decision is None:
                self.fallbacks += 1
        if decision is None:
            decision = self._local.take(caller, self.rate)
        if not decision.allowed:
            self.refused += 1
        return decision

    def stats(self) -> dict[str, Any]:
        return {
            "rate": f"{self.rate.requests}/{self.rate.per_s:g}",
            "store": "redis" if self._redis is not None else "local",
            "redis": self._redis.state if self._redis is not None else None,
            "refused": self.refused,
            "fallbacks": self.fallbacks,
        }
