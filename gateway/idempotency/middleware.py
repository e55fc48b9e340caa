"""`Idempotency-Key` as plain ASGI, outermost, ahead of the passthrough and the GraphQL app.

Requests without the header pass untouched (nothing read, nothing stored). With it:

    key malformed                          → 400
    anonymous or refused token             → untouched (the app refuses it: 401, UNAUTHENTICATED)
    not a write (a GraphQL query)          → untouched, the body handed on as read
    claim (caller, key) in the store
      nothing there                        → run it; keep the answer if it is final
      same request, still running          → 409  idempotency_key_in_use
      same request, answered               → the first answer again, Idempotent-Replayed: true
      another request with this key        → 422  idempotency_key_reused

The answer streams to the client as it comes; only its last chunk waits until the answer
is stored (or the key released), so a client that retries the moment it has an answer
finds it stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson

from gateway.asgi import ASGIApp, Message, Receive, Scope, Send
from gateway.auth import TokenVerifier, identify
from gateway.http_body import BodyTooLarge, ClientGone, declared_length, read_body, replay_body
from gateway.idempotency.decisions import (
    Intent,
    KeyRefused,
    Kind,
    Replay,
    Verdict,
    covered,
    decide,
    finished,
    graphql_intent,
    parse_key,
    replayed_headers,
    rest_intent,
    store_key,
)
from gateway.idempotency.records import Answer, Running
from gateway.idempotency.store import IdempotencyStore

MAX_ANSWER_BYTES = 2**20  # a larger answer is passed on but not kept (the key is released)
REPLAYED = (b"idempotent-replayed", b"true")


class IdempotencyMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        verifier: TokenVerifier,
        store: IdempotencyStore,
        max_body_bytes: int,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.store = store
        self.max_body_bytes = max_body_bytes
        self.max_answer_bytes = max_answer_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        kind = covered(scope["method"], scope["path"])
        values = [v.decode("latin-1") for k, v in scope["headers"] if k == b"idempotency-key"]
        if kind is None or not values:
            return await self.app(scope, receive, send)
        try:
            key = parse_key(values)
        except KeyRefused as refused:
            return await refuse(send, kind, 400, "invalid_idempotency_key", str(refused))
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        identity = await identify(headers.get("authorization"), self.verifier)
        if identity.traveler_id is None or identity.role is None:
            return await self.app(scope, receive, send)
        where = store_key(subject=identity.traveler_id, role=identity.role, key=key)
        await self._keyed(scope, receive, send, kind=kind, where=where, headers=headers)

    async def _keyed(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        kind: Kind,
        where: str,
        headers: dict[str, str],
    ) -> None:
        """A signed-in caller's request with a well-formed key: read it, then claim the key."""
        try:
            declared_length(headers.get("content-length"), limit=self.max_body_bytes)
            body = await read_body(receive, limit=self.max_body_bytes)
        except BodyTooLarge as error:
            return await refuse(send, kind, 413, "payload_too_large", str(error))
        except ClientGone:
            return None
        receive = replay_body(body, receive)
        intent = _intent(kind, scope, headers.get("content-type"), body)
        if intent is None:
            return await self.app(scope, receive, send)
        running = Running.new(intent.fingerprint)
        decision = decide(await self.store.claim(where, running), intent.fingerprint)
        if isinstance(decision, Replay):
            return await replay(send, decision.answer)
        if decision is Verdict.IN_USE:
            message = "A request with this Idempotency-Key is still being processed."
            return await refuse(send, kind, 409, "idempotency_key_in_use", message)
        if decision is Verdict.REUSED:
            message = "This Idempotency-Key was already used for a different request."
            return await refuse(send, kind, 422, "idempotency_key_reused", message)
        await self._run(scope, receive, send, intent=intent, where=where, running=running)

    async def _run(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        intent: Intent,
        where: str,
        running: Running,
    ) -> None:
        kept = _Kept(limit=self.max_answer_bytes)

        async def send_kept(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept.status, kept.headers = message["status"], list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                kept.add(message.get("body", b""))
                if not message.get("more_body", False):
                    kept.settled = True
                    await self._settle(intent, where, running, kept.answer())
            await send(message)

        try:
            await self.app(scope, receive, send_kept)
        finally:
            if not kept.settled:  # the app failed or the client left: a retry may run
                await self.store.release(where, running)

    async def _settle(
        self, intent: Intent, where: str, running: Running, answer: Answer | None
    ) -> None:
        record = finished(intent.kind, answer, fingerprint=intent.fingerprint) if answer else None
        if record is None:
            await self.store.release(where, running)
        else:
            await self.store.finish(where, record)


@dataclass
class _Kept:
    """The answer as it goes by, up to `limit` bytes of body."""

    limit: int
    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0
    settled: bool = False

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size <= self.limit:
            self.chunks.append(chunk)

    def answer(self) -> Answer | None:
        if self.size > self.limit or not self.status:
            return None
        return Answer(self.status, replayed_headers(self.headers), b"".join(self.chunks))


def _intent(kind: Kind, scope: Scope, content_type: str | None, body: bytes) -> Intent | None:
    if kind == "graphql":
        return graphql_intent(scope["path"], body, content_type)
    query_string = scope.get("query_string", b"").decode("latin-1")
    return rest_intent(scope["method"], scope["path"], query_string, content_type, body)


async def replay(send: Send, answer: Answer) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers]
    headers += [(b"content-length", str(len(answer.body)).encode()), REPLAYED]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


async def refuse(send: Send, kind: Kind, status: int, error: str, message: str) -> None:
    """REST clients get `{"error", "message"}`; GraphQL clients a GraphQL error whose code is
    the same word in capitals."""
    if kind == "rest":
        body = orjson.dumps({"error": error, "message": message})
    else:
        body = orjson.dumps(
            {"errors": [{"message": message, "extensions": {"code": error.upper()}}]}
        )
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"private, no-store"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
