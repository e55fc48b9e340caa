"""The REST passthrough as plain ASGI, ahead of FastAPI's router: `/api/...` per routes.yaml.

One request: decide its path (400 if it has anything a later hop could read differently),
verify the token once, make one route decision, clear it against the access rule (401,
403, 413 before anything is forwarded), forward it on the aiohttp transport, and stream the
answer back. Reads whose owner shows only in the answer are held and checked before a byte
is sent; writes are answered only after the cache has forgotten the trip they changed. A
shadow copy is compared off the request's path (`ShadowRunner`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

from gateway import access
from gateway.asgi import ASGIApp, Message, Receive, Scope, Send
from gateway.auth import Identity, identify
from gateway.errors import BackendError, GatewayError
from gateway.http_body import (
    BodyTooLarge,
    ClientGone,
    declared_length,
    read_body,
    stream_body,
)
from gateway.loaders import Loaders
from gateway.owners import Owners, forget_changed
from gateway.passthrough.clearance import Clearance, clear
from gateway.passthrough.headers import forward_headers, response_headers
from gateway.passthrough.incoming import Incoming, raw_path
from gateway.passthrough.replies import reply, reply_error
from gateway.routing.access_rules import AppliedRule, applied_rule
from gateway.routing.paths import API_PREFIX, PathRefused, decide_path, upstream_path
from gateway.routing.select import RouteDecision, RouteRequest
from gateway.runtime import Runtime

log = logging.getLogger("gateway.passthrough")
ANSWER_LIMIT = 16 * 2**20  # the most a held answer (an owner check, a write) may be


class PassthroughMiddleware:
    """Answers `/api/...` itself; everything else goes on to `app`."""

    def __init__(self, app: ASGIApp, *, runtime: Runtime) -> None:
        self.app = app
        self.passthrough = Passthrough(runtime)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(API_PREFIX):
            await self.passthrough(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class Passthrough:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.limit = runtime.settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            path = decide_path(raw_path(scope))
        except PathRefused as refused:
            await reply(send, 400, "bad_request", f"The path was refused: it has {refused.reason}.")
            return
        incoming = Incoming.from_scope(scope, path)
        identity = await identify(incoming.caller.authorization, self.runtime.verifier)
        incoming = incoming.identified(identity)
        table = self.runtime.routes.current()
        decision = table.select(RouteRequest(incoming.method, path, incoming.caller))
        route = decision.route
        applied = applied_rule(
            route.access if route else None,
            route.template if route else None,
            incoming.method,
            path,
        )
        try:
            await self._exchange(incoming, identity, decision, applied, receive, send)
        except GatewayError as error:
            await reply_error(send, error)
        except BodyTooLarge as error:
            await reply(send, 413, "payload_too_large", str(error))
        except ClientGone:
            return

    async def _exchange(
        self,
        incoming: Incoming,
        identity: Identity,
        decision: RouteDecision,
        applied: AppliedRule | None,
        receive: Receive,
        send: Send,
    ) -> None:
        length = declared_length(incoming.headers.get("content-length"), limit=self.limit)
        needs_body = applied is not None and applied.rule.where == "body"
        chunked = "transfer-encoding" in incoming.headers
        body = await read_body(receive, limit=self.limit) if needs_body or chunked else None

        def owners() -> Owners:
            table = self.runtime.routes.current()
            upstream = self.runtime.upstream_for(incoming.caller, table=table)
            return Owners(Loaders(upstream, self.runtime.request_cache()))

        clearance = await clear(
            identity,
            applied,
            method=incoming.method,
            path=incoming.path,
            query_string=incoming.query_string,
            body=body,
            owners=owners,
        )
        content: bytes | AsyncIterator[bytes] | None = body
        if body is None and length:
            content = stream_body(receive, limit=self.limit)
        await self._forward(incoming, identity, decision, applied, clearance, content, length, send)

    async def _forward(
        self,
        incoming: Incoming,
        identity: Identity,
        decision: RouteDecision,
        applied: AppliedRule | None,
        clearance: Clearance,
        content: bytes | AsyncIterator[bytes] | None,
        length: int | None,
        send: Send,
    ) -> None:
        client, backend = self.runtime.client, decision.backend
        headers = forward_headers(
            incoming.header_list,
            client_addr=incoming.caller.client_addr,
            scheme=incoming.scheme,
            request_id=incoming.request_id,
        )
        if length is not None and not isinstance(content, bytes):
            headers.append(("content-length", str(length)))
        try:
            answer = await client.exchange(
                backend, incoming.method, incoming.target, headers=headers, content=content
            )
        except BackendError:
            self.runtime.stats.record(decision.route_key, backend.name, ok=False)
            raise
        self.runtime.stats.record(decision.route_key, backend.name, ok=answer.status < 500)
        public = applied is not None and applied.rule.public
        start = {
            "type": "http.response.start",
            "status": answer.status,
            "headers": response_headers(answer.raw_headers, public=public),
        }
        held = clearance.answer_rule is not None or incoming.method not in ("GET", "HEAD")
        try:
            if held and 200 <= answer.status < 300:
                await self._send_held(incoming, identity, clearance, start, answer.chunks, send)
            else:
                await self._send_streamed(incoming, decision, start, answer.chunks, send)
        finally:
            await answer.aclose()

    async def _send_held(
        self,
        incoming: Incoming,
        identity: Identity,
        clearance: Clearance,
        start: Message,
        chunks: AsyncIterator[bytes],
        send: Send,
    ) -> None:
        """The whole answer, checked (or its change forgotten by the cache) before sending."""
        body = await _collect(chunks, limit=ANSWER_LIMIT)
        parsed = _json_or_none(body)
        if clearance.answer_rule is not None:
            access.check_answer(identity, clearance.answer_rule, parsed, owned=clearance.owned)
        else:
            await forget_changed(self.runtime.cache, parsed)
        start["headers"] = [h for h in start["headers"] if h[0] != b"content-length"]
        start["headers"].append((b"content-length", str(len(body)).encode()))
        await send(start)
        await send({"type": "http.response.body", "body": body})

    async def _send_streamed(
        self,
        incoming: Incoming,
        decision: RouteDecision,
        start: Message,
        chunks: AsyncIterator[bytes],
        send: Send,
    ) -> None:
        shadows = self.runtime.shadows
        copy: list[bytes] | None = [] if decision.shadow is not None else None
        size = 0
        await send(start)
        held: bytes | None = None  # one chunk behind, so the last one ends the answer
        try:
            async for chunk in chunks:
                size += len(chunk)
                if copy is not None and size <= shadows.max_body:
                    copy.append(chunk)
                if held is not None:
                    await send({"type": "http.response.body", "body": held, "more_body": True})
                held = chunk
        except BackendError as error:  # the status is sent: all that is left is to stop
            log.warning("%s %s: the answer broke off: %s", incoming.method, incoming.path, error)
            return
        await send({"type": "http.response.body", "body": held or b""})
        if copy is not None and size > shadows.max_body:
            shadows.skip(decision, outcome="too_large")
        elif copy is not None:
            params = dict(parse_qsl(incoming.query_string, keep_blank_values=True))
            shadows.start(decision, upstream_path(incoming.path), params, b"".join(copy))


async def _collect(chunks: AsyncIterator[bytes], *, limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise GatewayError("The backend's answer is too large to check.")
        parts.append(chunk)
    return b"".join(parts)


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None
