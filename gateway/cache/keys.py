"""Cache keys: namespaced, versioned, and built from plain values (pure).

    entity_key("trip", "T-1")                       -> "bff:v1:e:trip:T-1"
    traveler_generation_key("u 7")                  -> "bff:v1:{t:u%207}:gen"
    traveler_key("u7", generation="a1f", kind="trips", params={"first": 20})
                                                     -> "bff:v1:{t:u7}:g:a1f:trips:<sha256>"
    answer_key(schema="web", schema_version="3", query_hash=query_hash(q), variables={})
                                                     -> "bff:v1:q:web:3:<sha256 q>:-:<sha256 {}>"
    apq_key(sha)                                    -> "bff:v1:apq:<sha>"

Ids are percent-encoded, so no id can forge a separator or a `{hash tag}`. A traveler's
keys share the hash tag `{t:<id>}`, so on Redis Cluster they live in one slot.

Traveler-private data is keyed by a per-traveler *generation* token held in Redis (or in
L1 when there is no Redis): invalidating "the traveler's trip lists" replaces the token,
which orphans every key built with the old one (they expire by TTL). This works the same on
L1, a single Redis and a cluster, needs no key sets, and also retires the L1 copies that
other containers hold, because those containers read the token before building a key.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

NAMESPACE = "bff"
VERSION = "v1"
PREFIX = f"{NAMESPACE}:{VERSION}:"

_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_PLAIN_ID = re.compile(r"[A-Za-z0-9_.~-]+")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def canonical_json(value: Any) -> str:
    """One spelling per JSON value: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def query_hash(query: str) -> str:
    """sha256 hex of the query text: the same value an APQ client sends as `sha256Hash`."""
    return hashlib.sha256(query.encode()).hexdigest()


@functools.lru_cache(maxsize=65_536)  # a few MB at most; every entity read makes one
def entity_key(kind: str, entity_id: str) -> str:
    return f"{PREFIX}e:{_name(kind, 'kind')}:{_id(entity_id)}"


def traveler_generation_key(traveler_id: str) -> str:
    return f"{PREFIX}{_traveler_tag(traveler_id)}:gen"


def traveler_key(
    traveler_id: str, *, generation: str, kind: str, params: Mapping[str, Any] | None = None
) -> str:
    """A traveler-private key, e.g. one page of the traveler's trip list."""
    return (
        f"{PREFIX}{_traveler_tag(traveler_id)}:g:{_id(generation)}:{_name(kind, 'kind')}:"
        f"{_digest(params or {})}"
    )


def answer_key(
    *,
    schema: str,
    schema_version: str,
    query_hash: str,
    variables: Mapping[str, Any] | None,
    operation_name: str | None = None,
) -> str:
    """A whole public answer. The operation name matters: one document may hold several."""
    return (
        f"{PREFIX}q:{_name(schema, 'schema')}:{_name(schema_version, 'schema_version')}:"
        f"{_sha256(query_hash)}:{_id(operation_name) if operation_name else '-'}:"
        f"{_digest(variables or {})}"
    )


def apq_key(sha256_hash: str) -> str:
    return f"{PREFIX}apq:{_sha256(sha256_hash)}"


def lease_key(key: str) -> str:
    """The single-flight lease for `key` (same hash tag, so the same cluster slot)."""
    return f"{key}#lease"


def _traveler_tag(traveler_id: str) -> str:
    return "{t:" + _id(traveler_id) + "}"


def _digest(value: Any) -> str:
    if not value and isinstance(value, dict):  # the common case: a value with no params
        return _EMPTY_DIGEST
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


_EMPTY_DIGEST = hashlib.sha256(canonical_json({}).encode()).hexdigest()


def _id(value: str) -> str:
    if _PLAIN_ID.fullmatch(value):  # what quote() leaves as it is: skip it (hot: every entity)
        return value
    if not value:
        raise ValueError("cache key parts must not be empty")
    return quote(value, safe="-_.~")


def _name(value: str, role: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(f"cache key {role} must match [A-Za-z0-9_.-]{{1,64}}, got {value!r}")
    return value


def _sha256(value: str) -> str:
    if not _SHA256.fullmatch(value):
        raise ValueError(f"expected a lowercase hex sha256, got {value!r}")
    return value
