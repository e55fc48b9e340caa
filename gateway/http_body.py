"""Request bodies, capped (GATEWAY_MAX_BODY_BYTES): GraphQL reads them whole, the REST
passthrough streams them unless a check must read them.

A declared `Content-Length` over the cap is refused before anything is read or forwarded. A
body of unknown length (chunked) is read up to the cap first, so it too is refused before
the backend hears of it. A body whose length is known and allowed streams straight through.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from gateway.asgi import Message, Receive


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body is larger than {limit} bytes.")
        self.limit = limit


class ClientGone(Exception):
    """The client disconnected before its body arrived."""


def declared_length(value: str | None, *, limit: int) -> int | None:
    """The Content-Length, or None when absent; BodyTooLarge when over `limit`."""
    if value is None:
        return None
    length = int(value) if value.strip().isdigit() else limit + 1
    if length > limit:
        raise BodyTooLarge(limit)
    return length


async def read_body(receive: Receive, *, limit: int) -> bytes:
    """The whole body, or BodyTooLarge as soon as it passes `limit`."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream_body(receive, limit=limit):
        size += len(chunk)
        chunks.append(chunk)
    return b"".join(chunks) if size else b""


async def stream_body(receive: Receive, *, limit: int) -> AsyncIterator[bytes]:
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body already read, once, and then the client's
    own messages (a disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
