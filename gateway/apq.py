"""Automatic persisted queries, as Apollo Client's persisted-query link speaks them.

    {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}}
      hash only, known    → the registered query runs
      hash only, unknown  → PersistedQueryNotFound (the client retries with the query)
      hash and query      → checked (sha256 of the query must equal the hash), registered, run

The registry lives in both cache tiers, so one gateway's registration serves every other; only
documents that parse and validate, up to a size, for a TTL (docs/security.md). With trusted
documents (gateway/persisted.py) nothing is registered: only the manifest's operations run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.cache.keys import apq_key, query_hash
from gateway.cache.tiered import TieredCache
from gateway.graphql_http import GraphQLParams, RequestProblem
from gateway.persisted import NOT_IN_LIST

REGISTRY_TTL_S = 24 * 3600  # GATEWAY_APQ_TTL_S
REGISTRY_MAX_BYTES = 64 * 1024  # GATEWAY_APQ_MAX_BYTES
NOT_FOUND_MESSAGE = "PersistedQueryNotFound"


class PersistedQueryNotFound(Exception):
    def __init__(self, sha256_hash: str) -> None:
        super().__init__(NOT_FOUND_MESSAGE)
        self.sha256_hash = sha256_hash


@dataclass(frozen=True, slots=True)
class ResolvedQuery:
    query: str
    sha256_hash: str


@dataclass(frozen=True, slots=True)
class Rules:
    """What may be registered, for how long; `trusted`: the manifest's id → body, when only
    those operations may run (then nothing is registered at all)."""

    is_valid: Callable[[str], bool] = lambda _text: True
    ttl_s: int = REGISTRY_TTL_S
    max_bytes: int = REGISTRY_MAX_BYTES
    trusted: Mapping[str, str] | None = None


def persisted_hash(extensions: Mapping[str, Any] | None) -> str | None:
    """The APQ hash a request names, or None; a malformed one is a RequestProblem."""
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise RequestProblem("Unsupported persistedQuery: only version 1 is supported.")
    sha = persisted.get("sha256Hash")
    if not isinstance(sha, str) or len(sha) != 64 or not _is_hex(sha):
        raise RequestProblem("persistedQuery.sha256Hash must be 64 hex digits.")
    return sha.lower()


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def hash_or_none(extensions: Mapping[str, Any] | None) -> str | None:
    """The hash, or None when there is none or it is malformed (for a cache key: the
    endpoint answers the malformed one)."""
    try:
        return persisted_hash(extensions)
    except RequestProblem:
        return None


async def resolve(
    params: GraphQLParams, registry: TieredCache, rules: Rules | None = None
) -> ResolvedQuery | None:
    """The query to run, registering or looking it up; None when there is no query at all."""
    rules = rules or Rules()
    sha = persisted_hash(params.extensions)
    if rules.trusted is not None:
        return _trusted(params.query, sha, rules.trusted)
    if sha is None:
        return ResolvedQuery(params.query, query_hash(params.query)) if params.query else None
    if params.query:
        if query_hash(params.query) != sha:
            raise RequestProblem("provided sha does not match query", status=400)
        # Only a document that parses and validates is worth keeping (and never a big one):
        # anything else still runs once, with its own errors, and is forgotten.
        if len(params.query.encode()) <= rules.max_bytes and rules.is_valid(params.query):
            await registry.set_many(
                {apq_key(sha): params.query.encode()}, ttl_s=rules.ttl_s, stale_s=0
            )
        return ResolvedQuery(params.query, sha)
    hit = await registry.get(apq_key(sha))
    if hit is None:
        raise PersistedQueryNotFound(sha)
    return ResolvedQuery(hit.value.decode(), sha)


def _trusted(query: str | None, sha: str | None, trusted: Mapping[str, str]) -> ResolvedQuery:
    sha = sha or (query_hash(query) if query else None)
    if sha is None:
        raise RequestProblem("A GraphQL request needs a `query`.")
    if query is not None and query_hash(query) != sha:
        raise RequestProblem("provided sha does not match query", status=400)
    body = trusted.get(sha)
    if body is None:
        raise RequestProblem(
            "Only the operations of this gateway's trusted documents may run.",
            code=NOT_IN_LIST,
        )
    return ResolvedQuery(body, sha)


def not_found_body() -> dict[str, Any]:
    return {
        "errors": [
            {"message": NOT_FOUND_MESSAGE, "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
        ]
    }
