"""The floor of the gateway's own architecture for the REST passthrough: the same server
(uvicorn, the gateway's coalescing httptools protocol, uvloop) and the same client (one
aiohttp session, as `gateway.streams.AiohttpStreams` opens it), with nothing between them:
no token, route, access rule, path decision, request id, log line, metric or deadline.
It forwards requests without a body (the benchmark's GET), and reads the answer whole.
What the gateway's passthrough costs beyond this is its own work; what this costs beyond
the stub is the price of any Python hop built this way.

    ASGI_FLOOR_UPSTREAM=http://127.0.0.1:8001 \
        uvicorn --factory bench.asgi_floor:create_app --http gateway.serving:CoalescingHttpTools
"""

from __future__ import annotations

import os
from typing import Any

import aiohttp
from yarl import URL

from gateway.asgi import ASGIApp, Receive, Scope, Send

HOP_BY_HOP = frozenset({b"connection", b"keep-alive", b"host", b"transfer-encoding"})


def create_app() -> ASGIApp:
    upstream = os.environ["ASGI_FLOOR_UPSTREAM"]
    sessions: list[aiohttp.ClientSession] = []

    def session() -> aiohttp.ClientSession:
        if not sessions:
            sessions.append(
                aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(limit=256, keepalive_timeout=30),
                    auto_decompress=False,
                    skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
                )
            )
        return sessions[0]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # nothing to start; the session closes with the process
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        query = scope["query_string"].decode("latin-1")
        target = scope["raw_path"].decode("latin-1") + (f"?{query}" if query else "")
        headers = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in scope["headers"]
            if k not in HOP_BY_HOP
        ]
        async with session().request(
            scope["method"], URL(upstream + target, encoded=True), headers=headers
        ) as answer:
            kept = [(k, v) for k, v in answer.raw_headers if k.lower() not in HOP_BY_HOP]
            await send({"type": "http.response.start", "status": answer.status, "headers": kept})
            body: Any = await answer.read()
            await send({"type": "http.response.body", "body": body})

    return app
