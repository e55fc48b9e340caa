"""The one place the gateway talks HTTP to its backends.

Every call, GraphQL's (`call_raw`) and the passthrough's (`exchange`), opens its answer
through the client's streams (gateway.streams): aiohttp's own session when the transport is
aiohttp's (the default: several times faster than httpcore's under concurrency, see
docs/benchmarks.md), else one `httpx.AsyncClient` per backend base URL on whatever transport
was given (tests pass `httpx.ASGITransport(app=stub)`). Sessions and clients are created
lazily on the running loop and reused across requests and warm Lambda invocations.

Library errors become the gateway's own `BackendTimeout` / `BackendUnavailable` /
`BackendRejected` here and in gateway.streams, and nowhere else.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx
import orjson

from gateway.breaker import BreakerPolicy, Breakers
from gateway.deadline import budget_for, current_budget
from gateway.errors import BackendRejected, BackendTimeout, BackendUnavailable
from gateway.observability.hooks import BackendCall, outbound_headers
from gateway.streams import AiohttpStreams, Answer, Content, HttpxStreams, Streams

TransportFactory = Callable[[httpx.Limits], httpx.AsyncBaseTransport]
DEFAULT_LIMITS = httpx.Limits(max_connections=256, max_keepalive_connections=128)


class BackendTarget(Protocol):
    """What the client needs to know of a backend (a routing `Backend` satisfies it)."""

    @property
    def name(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def timeout_s(self) -> float: ...


def aiohttp_transport(limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    from httpx_aiohttp import AiohttpTransport

    transport: httpx.AsyncBaseTransport = AiohttpTransport(limits=limits, trust_env=False)
    return transport


def httpcore_transport(limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    return httpx.AsyncHTTPTransport(limits=limits)


TRANSPORTS: Mapping[str, TransportFactory] = {
    "aiohttp": aiohttp_transport,
    "httpcore": httpcore_transport,
}


class BackendClient:
    def __init__(
        self,
        *,
        transport: TransportFactory = aiohttp_transport,
        limits: httpx.Limits = DEFAULT_LIMITS,
        breakers: BreakerPolicy | None = None,
    ) -> None:
        self._transport = transport
        self._limits = limits
        # one breaker per backend name, for the process's lifetime (a warm Lambda container's)
        self.breakers = Breakers(breakers)
        # aiohttp's session directly where the transport is aiohttp's anyway (gateway.streams)
        self._streams: Streams = (
            AiohttpStreams(self.breakers, limit=limits.max_connections or 256)
            if transport is aiohttp_transport
            else HttpxStreams(self)
        )
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._httpx_builds = 0

    @property
    def builds(self) -> int:
        """How many clients (httpx clients, aiohttp sessions) were ever built: warm
        invocations must not add any."""
        return self._httpx_builds + self._streams.builds

    def client_for(self, base_url: str) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a client is bound to the loop that created it
            self._clients = {}
            self._loop = loop
        client = self._clients.get(base_url)
        if client is None:
            client = httpx.AsyncClient(base_url=base_url, transport=self._transport(self._limits))
            self._clients[base_url] = client
            self._httpx_builds += 1
        return client

    async def send(
        self,
        backend: BackendTarget,
        request: httpx.Request,
        *,
        stream: bool = False,
        pass_5xx: bool = False,
    ) -> httpx.Response:
        """Send within the backend's timeout or the request's deadline, whichever comes first
        (until the headers are in), through the backend's breaker (gateway.breaker).

        A 5xx is `BackendUnavailable` unless `pass_5xx` (passthrough hands it on as it is).
        """
        budget = budget_for(backend.name, backend.timeout_s)
        client = self.client_for(backend.url)
        seen = BackendCall(backend.name, request.method)  # span, latency, ids sent on
        with seen as call, self.breakers.guard(backend.name, cut=budget.cut) as guard:
            request.headers.update(outbound_headers())
            try:
                async with asyncio.timeout(budget.timeout_s):
                    response = await client.send(request, stream=stream)
            except (TimeoutError, httpx.TimeoutException):
                call.status = "timeout"
                raise BackendTimeout(backend=backend.name, timeout_s=budget.timeout_s) from None
            except httpx.HTTPError:
                raise BackendUnavailable(backend=backend.name) from None
            call.status = str(response.status_code)
            guard.answered(response.status_code)
        if response.status_code >= 500 and not pass_5xx:
            await response.aclose()
            raise BackendUnavailable(backend=backend.name, status=response.status_code)
        return response

    def build_request(
        self,
        backend: BackendTarget,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        headers: Any = None,
        content: Any = None,
    ) -> httpx.Request:
        """`path` may carry a query string; `content` is bytes or an async iterator of them."""
        budget = current_budget(backend.timeout_s)  # a streamed body's reads keep to it too
        timeout = httpx.Timeout(backend.timeout_s if budget.spent else budget.timeout_s)
        client = self.client_for(backend.url)
        return client.build_request(
            method,
            path,
            params=params,
            json=json_body,
            content=content,
            headers=headers,
            timeout=timeout,
        )

    async def call_raw(
        self,
        backend: BackendTarget,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
    ) -> bytes:
        """The backend's 2xx body as bytes; a 4xx raises `BackendRejected` with its error body,
        a 5xx `BackendUnavailable`.

        Through the same streams as the passthrough (`exchange`): with the aiohttp transport
        that is aiohttp's session itself, not an httpx request and response around it (their
        URL parsing, cookie handling and model building were a quarter of the gateway's CPU
        on an uncached trips page). `path` is the gateway's own, its ids percent-encoded by
        the caller (`gateway.routing.paths.segment`)."""
        target = f"{path}?{urlencode(params)}" if params else path
        headers: list[tuple[str, str]] = []
        content: bytes | None = None
        if json_body is not None:
            content = orjson.dumps(json_body)
            headers.append(("content-type", "application/json"))
        answer = await self._streams.open(backend, method, target, headers=headers, content=content)
        budget = current_budget(backend.timeout_s)  # the body keeps to the headers' deadline
        try:
            async with asyncio.timeout(budget.timeout_s):
                raw = b"".join([chunk async for chunk in answer.chunks])
        except BaseException as error:
            await answer.aclose()
            if isinstance(error, TimeoutError):
                raise BackendTimeout(backend=backend.name, timeout_s=budget.timeout_s) from None
            raise
        if answer.status >= 500:
            raise BackendUnavailable(backend=backend.name, status=answer.status)
        if answer.status >= 400:
            raise _rejection(backend, answer.status, _decode(backend, raw))
        return raw

    async def exchange(
        self,
        backend: BackendTarget,
        method: str,
        target: str,
        *,
        headers: list[tuple[str, str]],
        content: Content = None,
    ) -> Answer:
        """Forward a request whose path and query (`target`) are already decided and encoded;
        the answer's body is left to stream (the REST passthrough)."""
        return await self._streams.open(backend, method, target, headers=headers, content=content)

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
        await self._streams.aclose()


def decode_json(
    backend: BackendTarget, raw: bytes, parse_float: Callable[[str], Any] | None = None
) -> Any:
    """A backend's JSON body; anything else is that backend misbehaving."""
    try:
        return json.loads(raw, parse_float=parse_float)
    except ValueError:
        raise BackendUnavailable(backend=backend.name) from None


def _decode(backend: BackendTarget, raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return {}


def _rejection(backend: BackendTarget, status: int, body: Any) -> BackendRejected:
    error = body.get("error", "") if isinstance(body, dict) else ""
    message = body.get("message", "") if isinstance(body, dict) else ""
    return BackendRejected(
        backend=backend.name, status=status, error=str(error), message=str(message)
    )


def decimal_floats(text: str) -> Decimal:
    """`parse_float` for money: rates exactly as written in the JSON."""
    return Decimal(text)
