"""What the idempotency store holds per (caller, key): a running marker or a finished answer.

Both are bytes in Redis and in process alike (one codec, one size to bound):

    b"R" + {"fp": "<fingerprint>", "owner": "<claim token>"}           running
    b"F" + {"fp": ..., "status": 201, "headers": [[k, v], ...]} + b"\n" + body   finished

The body follows the JSON head raw (no base64), so a stored answer is its own size plus a
line. Anything that doesn't decode is treated as absent: a retry then runs again.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Answer:
    """A final answer as the client got it: status, the headers worth replaying, the body."""

    status: int
    headers: Headers
    body: bytes


@dataclass(frozen=True, slots=True)
class Running:
    """The first request with this key is still running; `owner` tells its claim apart."""

    fingerprint: str
    owner: str

    @classmethod
    def new(cls, fingerprint: str) -> Running:
        return cls(fingerprint, uuid.uuid4().hex)


@dataclass(frozen=True, slots=True)
class Finished:
    fingerprint: str
    answer: Answer


Record = Running | Finished


class Claimed:
    """A claim succeeded: this request now holds the key (a value of its own, so that a
    store can answer `None` for "couldn't say")."""


CLAIMED = Claimed()


def encode(record: Record) -> bytes:
    if isinstance(record, Running):
        return b"R" + _dump({"fp": record.fingerprint, "owner": record.owner})
    answer = record.answer
    head = {"fp": record.fingerprint, "status": answer.status, "headers": answer.headers}
    return b"F" + _dump(head) + b"\n" + answer.body


def decode(raw: bytes) -> Record | None:
    kind, rest = raw[:1], raw[1:]
    try:
        if kind == b"R":
            head = json.loads(rest)
            return Running(_text(head["fp"]), _text(head["owner"]))
        if kind == b"F":
            line, _, body = rest.partition(b"\n")
            head = json.loads(line)
            headers = tuple((_text(k), _text(v)) for k, v in head["headers"])
            status = head["status"]
            if not isinstance(status, int):
                return None
            return Finished(_text(head["fp"]), Answer(status, headers, body))
    except (ValueError, KeyError, TypeError):
        return None
    return None


def _dump(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value
