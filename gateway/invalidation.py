"""Event-driven cache invalidation: apply the monolith's trip events to the cache.

Two ways in, one way to act (`TieredCache.invalidate`, awaited):

- `apply_delivery(payload, cache)`: an AWS delivery (SQS, SNS or EventBridge) handed to
  the `cache-events` Lambda function (see `gateway.events_handler`);
- `FeedFollower`: polls the monolith's event feed (`GET /_stub/events?after=N`) from a
  long-running process (uvicorn, local development), where no queue exists.

What an event invalidates is decided in `gateway.trip_events` (pure); this module only
reads, acts and reports. httpx is imported only by the follower: the Lambda function that
uses `apply_delivery` never needs it (cold start).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from gateway.cache.tiered import TieredCache
from gateway.trip_events import (
    Invalidation,
    MalformedEventError,
    TripEvent,
    parse_delivery,
    parse_event,
    plan_invalidation,
)

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger("gateway.invalidation")

Source = Literal["sqs", "sns", "eventbridge"]


class InvalidationFailed(RuntimeError):
    """Redis could not confirm an invalidation: the delivery must be retried."""

    def __init__(self, *, source: str, keys: int, generations: int) -> None:
        super().__init__(
            f"Redis could not confirm the invalidation of {keys} key(s) and {generations} "
            f"traveler generation(s) from {source}; failing the delivery so it is retried"
        )
        self.source = source
        self.keys = keys
        self.generations = generations


# -- AWS deliveries ------------------------------------------------------------------------


async def apply_delivery(payload: Any, cache: TieredCache) -> dict[str, Any]:
    """Invalidate what a delivery's trip events name.

    SQS: returns the partial batch response, `{"batchItemFailures": [{"itemIdentifier":
    <messageId>}]}` listing the malformed records (the others are applied); when Redis
    could not confirm, every record is listed, so SQS redelivers the whole batch.
    SNS and EventBridge: returns `{}`; raises `InvalidationFailed` when Redis could not
    confirm (Lambda then retries the asynchronous invocation). Malformed SNS/EventBridge
    messages are logged and dropped: retrying would not mend them.
    A payload of none of the three shapes raises `UnknownDeliveryError`.
    """
    parsed = parse_delivery(payload)
    source = delivery_source(payload)
    if parsed.failures:
        logger.error("malformed %s record(s) skipped: %s", source, ", ".join(parsed.failures))
    plan = plan_invalidation(parsed.events)
    confirmed = await cache.invalidate(plan.keys, generations=plan.generations)
    _log_outcome(source, parsed.events, plan, confirmed=confirmed)
    if source != "sqs":
        if not confirmed:
            raise InvalidationFailed(
                source=source, keys=len(plan.keys), generations=len(plan.generations)
            )
        return {}
    if not confirmed:
        return _all_failed(payload["Records"])
    return parsed.batch_response()


def delivery_source(payload: Any) -> Source:
    """Which service delivered `payload` (already accepted by `parse_delivery`).

    {"Records": [{"eventSource": "aws:sqs", ...}]}  -> "sqs"
    {"Records": [{"EventSource": "aws:sns", ...}]}  -> "sns"
    {"detail-type": ..., "detail": ...}             -> "eventbridge"
    """
    records = payload.get("Records") if isinstance(payload, dict) else None
    if not isinstance(records, list):
        return "eventbridge"
    if all(isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in records):
        return "sqs"
    return "sns"


def _all_failed(records: Sequence[Any]) -> dict[str, Any]:
    ids = [str(r.get("messageId", "")) for r in records if isinstance(r, dict)]
    return {"batchItemFailures": [{"itemIdentifier": i} for i in ids]}


def _log_outcome(
    source: str, events: Sequence[TripEvent], plan: Invalidation, *, confirmed: bool
) -> None:
    described = ", ".join(f"{e.type} {e.id} (traveler {e.traveler_id})" for e in events)
    if confirmed:
        logger.info(
            "invalidated %d trip event(s) from %s: %d key(s), %d generation(s)%s",
            len(events),
            source,
            len(plan.keys),
            len(plan.generations),
            f": {described}" if described else "",
        )
    else:
        logger.warning(
            "Redis could not confirm invalidating %d trip event(s) from %s: %s",
            len(events),
            source,
            described or "(none)",
        )


# -- the monolith's event feed -------------------------------------------------------------


class FeedFollower:
    """Follows `GET <feed_url>?after=<seq>` and invalidates what each new event names.

    The cursor starts at seq 0, not at the feed's current `last_seq`: the Redis cache
    outlives this process, so events that happened while no follower ran (a restart, a
    deploy) may still name cached entries. Replaying them costs one batched delete and one
    generation bump per traveler, all idempotent; skipping them could serve a cancelled
    trip until its TTL. For the same reason a feed whose `last_seq` went below the cursor
    (the stub restarted and numbers from 1 again) is replayed from 0.

    The cursor only moves once Redis confirmed the invalidation; a failed poll (feed down,
    bad JSON, Redis down) is logged and the same events are fetched again next time.
    """

    def __init__(
        self,
        feed_url: str,
        cache: TieredCache,
        *,
        interval_s: float = 1.0,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_s: float = 5.0,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, got {interval_s}")
        self.feed_url = feed_url
        self.cache = cache
        self.interval_s = interval_s
        self.cursor = 0  # the last seq applied
        self._transport = transport
        self._timeout_s = timeout_s
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None

    async def poll_once(self) -> int:
        """Fetch the events after the cursor and invalidate them; how many were applied
        (0 when the poll failed: the failure is logged, never raised)."""
        import httpx  # only processes that follow a feed pay for importing it

        try:
            events, last_seq = await self._fetch(self.cursor)
            if last_seq < self.cursor:
                logger.warning("event feed restarted (last_seq %d < %d)", last_seq, self.cursor)
                events, last_seq = await self._fetch(0)
        except (httpx.HTTPError, ValueError) as exc:
            logger.warning("event feed %s unavailable: %r; retrying", self.feed_url, exc)
            return 0
        plan = plan_invalidation(events)
        confirmed = await self.cache.invalidate(plan.keys, generations=plan.generations)
        _log_outcome("the event feed", events, plan, confirmed=confirmed)
        if not confirmed:
            return 0
        self.cursor = max([last_seq, *(e.seq for e in events)])
        return len(events)

    async def run(self) -> None:
        """Poll every `interval_s` until cancelled; no error ends the loop."""
        while True:
            try:
                await self.poll_once()
            except Exception:
                logger.exception("event feed poll failed; retrying in %.1f s", self.interval_s)
            await asyncio.sleep(self.interval_s)

    def start(self) -> None:
        """Run in a background task on the running loop (call from async code, e.g. the
        app's lifespan). Starting a running follower does nothing."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.run(), name="feed-follower")

    async def stop(self) -> None:
        """Cancel the background task, wait for it to end, and close the HTTP client."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait([task])  # our own cancellation still propagates
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _fetch(self, after: int) -> tuple[list[TripEvent], int]:
        response = await self._http().get(self.feed_url, params={"after": after})
        response.raise_for_status()
        return read_feed(response.json())

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(
                transport=self._transport,
                timeout=httpx.Timeout(self._timeout_s),
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            )
        return self._client


def read_feed(body: Any) -> tuple[list[TripEvent], int]:
    """The trip events and `last_seq` of a feed page; `ValueError` if it isn't one.

    {"events": [{"seq": 1, "type": "TripBooked", ...}], "last_seq": 1}
        -> ([TripEvent(seq=1, type="TripBooked", ...)], 1)

    A malformed event is logged and skipped (refetching it would not mend it); events of
    other types are ignored.
    """
    if not isinstance(body, dict) or not isinstance(body.get("events"), list):
        raise ValueError('an event feed page must be {"events": [...], "last_seq": N}')
    last_seq = body.get("last_seq")
    if not isinstance(last_seq, int) or isinstance(last_seq, bool):
        raise ValueError(f"last_seq must be an integer, got {last_seq!r}")
    events = []
    for raw in body["events"]:
        try:
            event = parse_event(raw)
        except MalformedEventError as exc:
            logger.error("malformed event in the feed skipped: %s (%r)", exc.reason, raw)
            continue
        if event is not None:
            events.append(event)
    return events, last_seq
