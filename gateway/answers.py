"""Whole GraphQL answers on the way out: cache headers, ETag and 304, X-Cache, and the
public-answer cache that serves repeated public operations before anything is parsed."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from pathlib import Path
from typing import Any

import orjson
from starlette.responses import Response

from gateway.cache.keys import answer_key, query_hash
from gateway.cache.policy import CachePolicy, etag_for, if_none_match
from gateway.cache.tiered import TieredCache
from gateway.graphql_http import (
    GraphQLParams,
    RequestProblem,
    negotiate,
    params_from_get,
    params_from_post,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
SCHEMAS = Path(__file__).parent / "schemas"


@functools.cache
def schema_version(name: str) -> str:
    """Short hash of the committed SDL (a test keeps it equal to what the code serves)."""
    return hashlib.sha256((SCHEMAS / f"{name}.graphql").read_bytes()).hexdigest()[:12]


def public_answer_key(
    schema: str, params: GraphQLParams, sha256_hash: str | None = None
) -> str | None:
    """Where a public answer to these params is stored; None when there is nothing to key on."""
    persisted = (params.extensions or {}).get("persistedQuery")
    sha = sha256_hash or (persisted.get("sha256Hash") if isinstance(persisted, dict) else None)
    if not isinstance(sha, str):
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
    ) -> None:
        self.app = app
        self.cache = cache
        self.policy = policy
        self.paths = paths  # "/graphql/web" → "web"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        schema = self.paths.get(scope.get("path", "")) if scope["type"] == "http" else None
        if schema is None or scope["method"] not in ("GET", "POST"):
            return await self.app(scope, receive, send)
        body = await _read_body(receive) if scope["method"] == "POST" else b""
        response = await self._hit(scope, schema, body)
        if response is not None:
            return await response(scope, receive, send)
        await self.app(scope, _replay(body, receive), send)

    async def _hit(self, scope: Scope, schema: str, body: bytes) -> Response | None:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            media_type = negotiate(headers.get("accept"))
            params = _params(scope, body, headers.get("content-type"))
        except RequestProblem:
            return None  # the endpoint answers that properly
        key = public_answer_key(schema, params)
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


def _params(scope: Scope, body: bytes, content_type: str | None) -> GraphQLParams:
    if scope["method"] == "GET":
        from urllib.parse import parse_qsl

        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        return params_from_get(query)
    return params_from_post(body, content_type)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
