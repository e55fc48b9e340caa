"""The monolith's trip events, out of AWS deliveries, and what they invalidate (pure).

Accepted deliveries (as AWS documents them):

- SQS: `{"Records": [{"messageId", "eventSource": "aws:sqs", "body": <event JSON>}]}`; the
  body may itself be an SNS notification envelope (`{"Type": "Notification", "Message"}`)
  or an EventBridge event (`{"detail-type", "detail"}`).
- SNS: `{"Records": [{"EventSource": "aws:sns", "Sns": {"MessageId", "Message"}}]}`
- EventBridge: `{"id", "detail-type", "source", "detail": <event object>}`

An event is `{"seq": 12, "type": "TripBooked", "id": "T-1", "traveler_id": "U-7",
"at": "2025-05-01T10:00:00Z"}`. Malformed records are reported by their id (SQS
`messageId`) for a partial batch response; events of other types are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

from gateway.cache.keys import entity_key, traveler_generation_key

EventType = Literal["TripBooked", "TripCancelled"]
EVENT_TYPES: tuple[EventType, ...] = ("TripBooked", "TripCancelled")
TRIP_KIND = "trip"

T = TypeVar("T")
Reader = Callable[[], "TripEvent | None"]


class MalformedEventError(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"malformed trip event: {reason}")
        self.reason = reason


class UnknownDeliveryError(ValueError):
    def __init__(self) -> None:
        super().__init__(
            "not an SQS, SNS or EventBridge delivery: expected Records[] with eventSource "
            "aws:sqs or EventSource aws:sns, or an EventBridge event with detail-type and detail"
        )


@dataclass(frozen=True, slots=True)
class TripEvent:
    seq: int
    type: EventType
    id: str
    traveler_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ParsedDelivery:
    events: tuple[TripEvent, ...]
    failures: tuple[str, ...]  # ids of the records that could not be read

    def batch_response(self) -> dict[str, list[dict[str, str]]]:
        """The SQS partial batch response (needs ReportBatchItemFailures on the mapping)."""
        return {"batchItemFailures": [{"itemIdentifier": i} for i in self.failures]}


@dataclass(frozen=True, slots=True)
class Invalidation:
    keys: tuple[str, ...]  # delete these
    generations: tuple[str, ...]  # replace these traveler generation tokens


def parse_delivery(payload: Any) -> ParsedDelivery:
    if isinstance(payload, dict) and isinstance(payload.get("Records"), list):
        return _parse_records(payload["Records"])
    if isinstance(payload, dict) and "detail-type" in payload and "detail" in payload:
        return _collect([(str(payload.get("id", "")), lambda: parse_event(payload["detail"]))])
    raise UnknownDeliveryError()


def parse_event(document: Any) -> TripEvent | None:
    """The trip event in `document` (an object or its JSON text); None for other types."""
    doc = _loads(document) if isinstance(document, str | bytes) else document
    if not isinstance(doc, dict):
        raise MalformedEventError("not a JSON object")
    if doc.get("Type") == "Notification" and "Message" in doc:  # an SNS envelope
        return parse_event(doc["Message"])
    if "detail-type" in doc and "detail" in doc:  # an EventBridge event
        return parse_event(doc["detail"])
    kind = doc.get("type")
    if not isinstance(kind, str):
        raise MalformedEventError("no type")
    if kind not in EVENT_TYPES:
        return None
    return TripEvent(
        seq=_field(doc, "seq", int),
        type=kind,
        id=_field(doc, "id", str),
        traveler_id=_field(doc, "traveler_id", str),
        at=_timestamp(_field(doc, "at", str)),
    )


def invalidation_for(event: TripEvent) -> Invalidation:
    """Booking or cancelling changes the trip and the traveler's trip lists."""
    return Invalidation(
        keys=(entity_key(TRIP_KIND, event.id),),
        generations=(traveler_generation_key(event.traveler_id),),
    )


def plan_invalidation(events: Iterable[TripEvent]) -> Invalidation:
    """Everything a batch invalidates, each key once (idempotent, so order and
    redelivery don't matter)."""
    keys: dict[str, None] = {}
    generations: dict[str, None] = {}
    for event in events:
        plan = invalidation_for(event)
        keys.update(dict.fromkeys(plan.keys))
        generations.update(dict.fromkeys(plan.generations))
    return Invalidation(tuple(keys), tuple(generations))


def _parse_records(records: list[Any]) -> ParsedDelivery:
    jobs: list[tuple[str, Reader]] = []
    for record in records:
        if not isinstance(record, dict):
            raise UnknownDeliveryError()
        if record.get("eventSource") == "aws:sqs":
            jobs.append((str(record.get("messageId", "")), _reader(record.get("body"))))
        elif record.get("EventSource") == "aws:sns" and isinstance(record.get("Sns"), dict):
            sns = record["Sns"]
            jobs.append((str(sns.get("MessageId", "")), _reader(sns.get("Message"))))
        else:
            raise UnknownDeliveryError()
    return _collect(jobs)


def _reader(document: Any) -> Reader:
    return lambda: parse_event(document)


def _collect(jobs: Iterable[tuple[str, Reader]]) -> ParsedDelivery:
    events, failures = [], []
    for record_id, read in jobs:
        try:
            event = read()
        except MalformedEventError:
            failures.append(record_id)
            continue
        if event is not None:
            events.append(event)
    return ParsedDelivery(tuple(events), tuple(failures))


def _loads(text: str | bytes) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise MalformedEventError("not JSON") from exc


def _field(doc: dict[str, Any], name: str, kind: type[T]) -> T:
    value = doc.get(name)
    if not isinstance(value, kind) or isinstance(value, bool) or value == "":
        raise MalformedEventError(f"{name} must be a non-empty {kind.__name__}")
    return value


def _timestamp(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise MalformedEventError(f"at is not an ISO 8601 timestamp: {text!r}") from exc
