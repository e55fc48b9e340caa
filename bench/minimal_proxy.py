"""The floor any Python reverse proxy pays (issue 8's baseline for the REST passthrough).

aiohttp's server plus one keep-alive `aiohttp.ClientSession`: method, path, query, body and
headers (minus hop-by-hop) go to the upstream, status, headers and body come back streamed.
No auth, no routing, no X-Forwarded-*.

    PROXY_UPSTREAM=http://127.0.0.1:8001 PROXY_PORT=9000 python -m bench.minimal_proxy
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer"}
    | {"trailers", "transfer-encoding", "upgrade", "host"}
)
SESSION = web.AppKey("session", aiohttp.ClientSession)


def kept(headers: CIMultiDictProxy[str]) -> CIMultiDict[str]:
    return CIMultiDict((k, v) for k, v in headers.items() if k.lower() not in HOP_BY_HOP)


async def forward(request: web.Request) -> web.StreamResponse:
    body = request.content if request.body_exists else None
    async with request.app[SESSION].request(
        request.method,
        request.rel_url,
        headers=kept(request.headers),
        data=body,
        allow_redirects=False,
    ) as upstream:
        answer = web.StreamResponse(status=upstream.status, headers=kept(upstream.headers))
        try:
            await answer.prepare(request)
            async for chunk in upstream.content.iter_any():
                await answer.write(chunk)
            await answer.write_eof()
        except ConnectionResetError:  # the client left (wrk cuts off what is in flight)
            pass
        return answer


def create_app(upstream: str) -> web.Application:
    async def session(app: web.Application) -> AsyncIterator[None]:
        connector = aiohttp.TCPConnector(limit=256, keepalive_timeout=60)
        async with aiohttp.ClientSession(
            upstream, connector=connector, auto_decompress=False, skip_auto_headers=["User-Agent"]
        ) as client:
            app[SESSION] = client
            yield

    app = web.Application()
    app.cleanup_ctx.append(session)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


def main() -> None:
    import uvloop  # the same event loop as the uvicorn processes it is compared with

    app = create_app(os.environ["PROXY_UPSTREAM"])
    port = int(os.environ["PROXY_PORT"])
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    main()
