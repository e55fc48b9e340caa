"""Automatic persisted queries, as Apollo Client's persisted-query link speaks them.

    {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}}
      hash only, known    → the registered query runs
      hash only, unknown  → PersistedQueryNotFound (the client retries with the query)
      hash and query      → checked (sha256 of the query must equal the hash), registered, run

The registry lives in both cache tiers, so one gateway's registration serves every other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.cache.keys import apq_key, query_hash
from gateway.cache.tiered import TieredCache
from gateway.graphql_http import GraphQLParams, RequestProblem

REGISTRY_TTL_S = 7 * 24 * 3600
NOT_FOUND_MESSAGE = "PersistedQueryNotFound"


class PersistedQueryNotFound(Exception):
    def __init__(self, sha256_hash: str) -> None:
        super().__init__(NOT_FOUND_MESSAGE)
        self.sha256_hash = sha256_hash


@dataclass(frozen=True, slots=True)
class ResolvedQuery:
    query: str
    sha256_hash: str


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


async def resolve(params: GraphQLParams, registry: TieredCache) -> ResolvedQuery | None:
    """The query to run, registering or looking it up; None when there is no query at all."""
    sha = persisted_hash(params.extensions)
    if sha is None:
        return ResolvedQuery(params.query, query_hash(params.query)) if params.query else None
    if params.query:
        if query_hash(params.query) != sha:
            raise RequestProblem("provided sha does not match query", status=400)
        await registry.set_many(
            {apq_key(sha): params.query.encode()}, ttl_s=REGISTRY_TTL_S, stale_s=0
        )
        return ResolvedQuery(params.query, sha)
    hit = await registry.get(apq_key(sha))
    if hit is None:
        raise PersistedQueryNotFound(sha)
    return ResolvedQuery(hit.value.decode(), sha)


def not_found_body() -> dict[str, Any]:
    return {
        "errors": [
            {"message": NOT_FOUND_MESSAGE, "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
        ]
    }
