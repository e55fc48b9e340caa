"""Whole GraphQL answers on the way out: cache headers, ETag and 304, X-Cache, and the
public-answer cache that serves repeated public operations before anything is parsed."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.responses import Response

from gateway.apq import hash_or_none
from gateway.asgi import ASGIApp, Receive, Scope, Send
from gateway.cache.keys import answer_key, query_hash
from gateway.cache.policy import CachePolicy, etag_for, if_none_match
from gateway.cache.tiered import TieredCache
from gateway.graphql_http import (
    JSON,
    GraphQLParams,
    RequestProblem,
    negotiate,
    params_from_get,
    params_from_post,
)
from gateway.http_body import BodyTooLarge, ClientGone, declared_length, read_body, replay_body
from gateway.limits import json_depth

SCHEMAS = Path(__file__).parent / "schemas"
KEYABLE_DEPTH = 64


@functools.cache
def schema_version(name: str) -> str:
    """Short hash of the committed SDL (a test keeps it equal to what the code serves)."""
    return hashlib.sha256((SCHEMAS / f"{name}.graphql").read_bytes()).hexdigest()[:12]


def public_answer_key(
    schema: str, params: GraphQLParams, sha256_hash: str | None = None
) -> str | None:
    """Where a public answer to these params is stored; None when there is nothing to key on."""
    if json_depth(params.variables, cap=KEYABLE_DEPTH) > KEYABLE_DEPTH:
        return None  # too deep to key (orjson stops at 1024); the endpoint refuses it
    # apq's parser, the only one: a malformed hash keys nothing and the endpoint answers 400.
    sha = sha256_hash or hash_or_none(params.extensions)
    if sha is None:
        sha = query_hash(params.query) if params.query else None
    if sha is None:
        return None
    return answer_key(
        schema=schema,
        schema_version=schema_version(schema),
        query_hash=sha.lower(),
        variables=params.variables,
        operation_name=params.operation_name,
    )


def answer_response(
    content: bytes,
    *,
    status: int,
    media_type: str,
    policy: CachePolicy,
    x_cache: str,
    if_none_match_header: str | None,
) -> Response:
    headers = {
        "cache-control": policy.header(),
        "x-cache": x_cache,
        "vary": "Accept" if policy.public else "Accept, Authorization",
    }
    if policy.public and status == 200:
        etag = etag_for(content)
        headers["etag"] = etag
        if if_none_match(if_none_match_header, etag):
            return Response(status_code=304, headers=headers)
    return Response(content, status_code=status, media_type=media_type, headers=headers)


def dump(body: Mapping[str, Any]) -> bytes:
    """Every JSON answer of the gateway goes through here: compact UTF-8, keys in the order
    given (the selection order), orjson (about 10x json.dumps on a 16 KB answer)."""
    return orjson.dumps(body)


def json_response(body: Mapping[str, Any], *, status: int = 200) -> Response:
    return Response(dump(body), status_code=status, media_type="application/json")


class PublicAnswerCache:
    """ASGI middleware: a fresh stored public answer is sent without reaching FastAPI's
    routing, strawberry's parser or any resolver. Everything else goes on untouched."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        cache: TieredCache,
        policy: Callable[[], CachePolicy],
        paths: Mapping[str, str],
        max_body_bytes: int,
    ) -> None:
        self.app = app
        self.cache = cache
        self.policy = policy
        self.paths = paths  # "/graphql/web" → "web"
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        schema = self.paths.get(scope.get("path", "")) if scope["type"] == "http" else None
        if schema is None or scope["method"] not in ("GET", "POST"):
            return await self.app(scope, receive, send)
        try:
            body = await self._body(scope, receive)
        except BodyTooLarge as error:
            return await _too_large(error)(scope, receive, send)
        except ClientGone:
            return None
        response = await self._hit(scope, schema, body)
        if response is not None:
            return await response(scope, receive, send)
        await self.app(scope, replay_body(body, receive), send)

    async def _body(self, scope: Scope, receive: Receive) -> bytes:
        """The POST body, refused past the cap before it is all read (GET has none)."""
        if scope["method"] != "POST":
            return b""
        length = dict(scope["headers"]).get(b"content-length")
        declared_length(length.decode("latin-1") if length else None, limit=self.max_body_bytes)
        return await read_body(receive, limit=self.max_body_bytes)

    async def _hit(self, scope: Scope, schema: str, body: bytes) -> Response | None:
        headers = {
            k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"] if k in _READ
        }
        method: str = scope["method"]
        raw: bytes = scope.get("query_string", b"") if method == "GET" else body
        try:
            media_type = _negotiate(headers.get("accept"))
            if len(raw) <= MAX_REMEMBERED_REQUEST:
                key = _remembered_key(schema, method, raw, headers.get("content-type"))
            else:
                key = _request_key(schema, method, raw, headers.get("content-type"))
        except RequestProblem:
            return None  # the endpoint answers that properly
        hit = await self.cache.get(key) if key else None
        if hit is None or not hit.fresh:
            return None
        return answer_response(
            hit.value,
            status=200,
            media_type=media_type,
            policy=self.policy(),
            x_cache=f"HIT-{hit.tier}",
            if_none_match_header=headers.get("if-none-match"),
        )


# The request headers a lookup reads; requests (a GET's query string, a POST's body) up to
# this size have their key remembered: clients send the same few public requests over and
# over, and parsing and hashing one again cost a third of a hit.
_READ = frozenset({b"accept", b"content-type", b"if-none-match"})
MAX_REMEMBERED_REQUEST = 4096
_negotiate = functools.lru_cache(maxsize=64)(negotiate)


def _request_key(schema: str, method: str, raw: bytes, content_type: str | None) -> str | None:
    if method == "GET":
        return public_answer_key(schema, params_from_get(dict(parse_qsl(raw.decode("latin-1")))))
    return public_answer_key(schema, params_from_post(raw, content_type))


# Bounded: 1024 requests of at most 4 KiB. A RequestProblem is raised, never remembered.
_remembered_key = functools.lru_cache(maxsize=1024)(_request_key)


def _too_large(error: BodyTooLarge) -> Response:
    body = {"errors": [{"message": str(error), "extensions": {"code": "PAYLOAD_TOO_LARGE"}}]}
    headers = {"cache-control": "private, no-store"}
    return Response(dump(body), status_code=413, media_type=JSON, headers=headers)
