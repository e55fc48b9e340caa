"""The idempotency decisions, pure: which requests take part, what identifies a request, and
what a stored record means for a new one.

    parse_key('"8e03978e"')                          → "8e03978e"  (sf-string quotes dropped)
    rest_intent("POST", "/api/trips", "", ct, body)   → Intent("rest", "<sha256>")
    graphql_intent("/graphql/web", body, ct)          → Intent("graphql", ...) for a mutation,
                                                        None for a query
    decide(None, fp)                                  → PROCEED
    decide(Running(fp, owner), fp)                    → IN_USE        (409)
    decide(Finished(fp, answer), fp)                  → Replay(answer)
    decide(<any record with another fp>, fp)          → REUSED        (422)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse

from gateway.graphql_http import GraphQLParams, RequestProblem, params_from_post
from gateway.idempotency.records import Answer, Finished, Headers, Record, Running

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_KEY_LENGTH = 255
MAX_QUERY_TOKENS = 5_000  # only enough parsing to find the operation; the endpoint judges
# Headers that are part of the answer itself; the rest (date, server, x-request-id, ...)
# belong to the hop that carried it.
REPLAYED_HEADERS = frozenset(
    {
        "content-type",
        "content-language",
        "content-location",
        "location",
        "cache-control",
        "etag",
        "last-modified",
        "vary",
        "www-authenticate",
        "allow",
        "link",
    }
)
# GraphQL errors that are a final answer to the operation as sent; anything else (a backend
# down or slow, a masked crash, a rate limit, an unknown persisted hash) may go otherwise on
# a retry, so such an answer is not kept and the retry runs.
FINAL_GRAPHQL_CODES = frozenset(
    {
        "BAD_USER_INPUT",
        "CONFLICT",
        "NOT_FOUND",
        "FORBIDDEN",
        "UNAUTHENTICATED",
        "BAD_REQUEST",
        "GRAPHQL_PARSE_FAILED",
        "GRAPHQL_VALIDATION_FAILED",
        "QUERY_TOO_COMPLEX",
        "PAYLOAD_TOO_LARGE",
    }
)
NOT_FINAL_STATUSES = frozenset({408, 425, 429})  # 4xx that say "try again later"

Kind = Literal["rest", "graphql"]


class KeyRefused(ValueError):
    """The Idempotency-Key header is malformed (answered 400)."""


class Verdict(Enum):
    PROCEED = "proceed"  # this request now holds the key: run it
    IN_USE = "in_use"  # the first request with this key is still running: 409
    REUSED = "reused"  # the key was used for a different request: 422


@dataclass(frozen=True, slots=True)
class Replay:
    answer: Answer


Decision = Verdict | Replay


@dataclass(frozen=True, slots=True)
class Intent:
    """A request that takes part: its kind (for the shape of refusals) and its fingerprint."""

    kind: Kind
    fingerprint: str


def parse_key(values: list[str]) -> str:
    """The key from the header's values: 1-255 visible ASCII characters. The IETF draft
    writes it as a structured-field string (`"abc"`); the quotes are dropped if present."""
    if len(values) != 1:
        raise KeyRefused("Send exactly one Idempotency-Key header.")
    key = values[0].strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all("!" <= c <= "~" for c in key):
        raise KeyRefused(
            f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} visible ASCII characters (no spaces)."
        )
    return key


def store_key(*, subject: str, role: str, key: str) -> str:
    """Where (caller, key) lives: the caller is the token's `sub` and role, so a refreshed
    token keeps its keys and two callers never share one."""
    digest = hashlib.sha256("\0".join((role, subject, key)).encode()).hexdigest()
    return f"idem:v1:{digest}"


def covered(method: str, path: str, *, graphql_prefix: str = "/graphql/") -> Kind | None:
    """Which requests may carry a key, decided before the body is read."""
    if path.startswith("/api/") and method in WRITE_METHODS:
        return "rest"
    if path.startswith(graphql_prefix) and method == "POST":
        return "graphql"
    return None


def rest_intent(
    method: str, path: str, query_string: str, content_type: str | None, body: bytes
) -> Intent:
    """A REST write is the same request when method, path, query, media type and body are."""
    digest = hashlib.sha256()
    for part in (method, path, query_string, (content_type or "").lower()):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    digest.update(body)
    return Intent("rest", digest.hexdigest())


def graphql_intent(path: str, body: bytes, content_type: str | None) -> Intent | None:
    """An Intent for a mutation; None for anything else (a query, or a request the endpoint
    will refuse anyway). A persisted-query request naming only a hash is taken to be a
    mutation: the gateway can't see its operation without the registry, and clients send the
    header only with mutations. The fingerprint covers the document's hash, so a hash-only
    request and its retry with the query text (the APQ dance) are the same request."""
    try:
        params = params_from_post(body, content_type)
    except RequestProblem:
        return None
    persisted = _persisted_hash(params)
    if persisted is None:
        if params.query is None or not _is_mutation(params.query, params.operation_name):
            return None
    elif params.query is not None and not _is_mutation(params.query, params.operation_name):
        return None
    document = persisted or hashlib.sha256((params.query or "").encode()).hexdigest()
    canonical = json.dumps(
        [path, document, params.operation_name, params.variables],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return Intent("graphql", hashlib.sha256(canonical.encode()).hexdigest())


def decide(record: Record | None, fingerprint: str) -> Decision:
    if record is None:
        return Verdict.PROCEED
    if record.fingerprint != fingerprint:
        return Verdict.REUSED
    if isinstance(record, Running):
        return Verdict.IN_USE
    return Replay(record.answer)


def finished(kind: Kind, answer: Answer, *, fingerprint: str) -> Finished | None:
    """The record to keep for this answer, or None when a retry should run again."""
    if not (200 <= answer.status < 500) or answer.status in NOT_FINAL_STATUSES:
        return None
    if kind == "graphql" and not _final_graphql(answer.body):
        return None
    return Finished(fingerprint, answer)


def replayed_headers(headers: list[tuple[bytes, bytes]]) -> Headers:
    decoded = ((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in headers)
    return tuple((k, v) for k, v in decoded if k in REPLAYED_HEADERS)


def _persisted_hash(params: GraphQLParams) -> str | None:
    persisted = (params.extensions or {}).get("persistedQuery")
    sha = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
    return sha.lower() if isinstance(sha, str) else None


def _is_mutation(query: str, operation_name: str | None) -> bool:
    try:
        document = parse(query, no_location=True, max_tokens=MAX_QUERY_TOKENS)
    except GraphQLError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [op for op in operations if op.name and op.name.value == operation_name]
    return len(operations) == 1 and operations[0].operation == OperationType.MUTATION


def _final_graphql(body: bytes) -> bool:
    try:
        payload: Any = json.loads(body)
    except ValueError:
        return False
    errors = payload.get("errors") if isinstance(payload, dict) else None
    if errors is None:
        return isinstance(payload, dict)
    return isinstance(errors, list) and all(_final_error(error) for error in errors)


def _final_error(error: Any) -> bool:
    if not isinstance(error, dict):
        return False
    extensions = error.get("extensions")
    code = extensions.get("code") if isinstance(extensions, dict) else None
    if code is None:
        return error.get("path") is None  # a parse or validation error: the same next time
    return code in FINAL_GRAPHQL_CODES
