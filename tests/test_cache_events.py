import json
from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.trip_events import (
    Invalidation,
    ParsedDelivery,
    TripEvent,
    UnknownDeliveryError,
    invalidation_for,
    parse_delivery,
    parse_event,
    plan_invalidation,
)

BOOKED = {
    "seq": 7,
    "type": "TripBooked",
    "id": "T-1",
    "traveler_id": "U-7",
    "at": "2025-05-01T10:00:00Z",
}
CANCELLED = {**BOOKED, "seq": 8, "type": "TripCancelled", "id": "T-2"}
AT = datetime(2025, 5, 1, 10, 0, tzinfo=UTC)
BOOKED_EVENT = TripEvent(seq=7, type="TripBooked", id="T-1", traveler_id="U-7", at=AT)
CANCELLED_EVENT = TripEvent(seq=8, type="TripCancelled", id="T-2", traveler_id="U-7", at=AT)


def sqs_record(message_id: str, body: str) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": "AQEB...",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1714557600000"},
        "messageAttributes": {},
        "md5OfBody": "0" * 32,
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:trip-events",
        "awsRegion": "eu-west-1",
    }


def sns_envelope(message: str) -> dict[str, Any]:
    return {
        "Type": "Notification",
        "MessageId": "sns-1",
        "TopicArn": "arn:aws:sns:eu-west-1:123456789012:trips",
        "Message": message,
        "Timestamp": "2025-05-01T10:00:01.000Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
        "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/cert.pem",
        "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe",
    }


def eventbridge(detail: Any, event_id: str = "eb-1") -> dict[str, Any]:
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "TripBooked",
        "source": "legacy.monolith",
        "account": "123456789012",
        "time": "2025-05-01T10:00:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": detail,
    }


def test_sqs_batch_with_plain_sns_wrapped_eventbridge_wrapped_and_malformed_records() -> None:
    delivery = {
        "Records": [
            sqs_record("m-1", json.dumps(BOOKED)),
            sqs_record("m-2", json.dumps(sns_envelope(json.dumps(CANCELLED)))),
            sqs_record("m-3", json.dumps(eventbridge(BOOKED))),
            sqs_record("m-4", "{not json"),
            sqs_record("m-5", json.dumps({**BOOKED, "seq": "7"})),
            sqs_record("m-6", json.dumps({**BOOKED, "type": "TripRenamed"})),
        ]
    }
    parsed = parse_delivery(delivery)
    assert parsed == ParsedDelivery(
        events=(BOOKED_EVENT, CANCELLED_EVENT, BOOKED_EVENT), failures=("m-4", "m-5")
    )
    assert parsed.batch_response() == {
        "batchItemFailures": [{"itemIdentifier": "m-4"}, {"itemIdentifier": "m-5"}]
    }


def test_sns_delivery() -> None:
    record = {
        "EventVersion": "1.0",
        "EventSubscriptionArn": "arn:aws:sns:eu-west-1:123456789012:trips:sub",
        "EventSource": "aws:sns",
        "Sns": {**sns_envelope(json.dumps(BOOKED)), "MessageAttributes": {}},
    }
    bad = {**record, "Sns": {**sns_envelope("[]"), "MessageId": "sns-bad"}}
    assert parse_delivery({"Records": [record, bad]}) == ParsedDelivery(
        events=(BOOKED_EVENT,), failures=("sns-bad",)
    )


def test_eventbridge_delivery() -> None:
    assert parse_delivery(eventbridge(CANCELLED)) == ParsedDelivery((CANCELLED_EVENT,), ())
    assert parse_delivery(eventbridge({"type": 1}, "eb-9")) == ParsedDelivery((), ("eb-9",))


def test_an_empty_batch_has_no_failures() -> None:
    assert parse_delivery({"Records": []}).batch_response() == {"batchItemFailures": []}


@pytest.mark.parametrize("payload", [{}, {"Records": [{"eventSource": "aws:kinesis"}]}, [], "x"])
def test_unknown_deliveries_are_refused_whole(payload: Any) -> None:
    with pytest.raises(UnknownDeliveryError, match="SQS, SNS or EventBridge"):
        parse_delivery(payload)


@pytest.mark.parametrize(
    "document",
    [
        {**BOOKED, "id": ""},
        {**BOOKED, "seq": True},
        {**BOOKED, "at": "yesterday"},
        {k: v for k, v in BOOKED.items() if k != "traveler_id"},
        {"seq": 1},
    ],
)
def test_malformed_events(document: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="malformed trip event"):
        parse_event(document)


def test_invalidation_of_one_event_and_of_a_batch() -> None:
    assert invalidation_for(BOOKED_EVENT) == Invalidation(
        keys=("bff:v1:e:trip:T-1",), generations=("bff:v1:{t:U-7}:gen",)
    )
    assert plan_invalidation([BOOKED_EVENT, CANCELLED_EVENT, BOOKED_EVENT]) == Invalidation(
        keys=("bff:v1:e:trip:T-1", "bff:v1:e:trip:T-2"), generations=("bff:v1:{t:U-7}:gen",)
    )
