"""Backend answers as status, raw headers and body chunks: what the REST passthrough streams
back, and what GraphQL's backend calls read whole.

Two ways to open one, behind `BackendClient.exchange` and `BackendClient.call_raw`:

- `AiohttpStreams` (the default): aiohttp's own client session, with no httpx request or
  response objects in between. The gateway sends paths and bodies it has already decided
  on, so it needs nothing httpx adds, and httpx's URL parsing and model building cost as
  much as the rest of the hop (docs/benchmarks.md).
- `HttpxStreams`: any httpx transport, e.g. `httpx.ASGITransport(app=stub)` in tests.

Errors of either library become `BackendTimeout` / `BackendUnavailable` here, and only here.
Either way a call waits at most the backend's timeout or the request's deadline, whichever
comes first (gateway.deadline), and goes through the backend's breaker (gateway.breaker).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from gateway.breaker import Breakers
from gateway.deadline import budget_for
from gateway.errors import BackendTimeout, BackendUnavailable
from gateway.observability.hooks import BackendCall, with_outbound

if TYPE_CHECKING:
    import aiohttp

    from gateway.backend import BackendClient, BackendTarget

RawHeaders = Sequence[tuple[bytes, bytes]]
Content = bytes | AsyncIterator[bytes] | None


@dataclass(slots=True)
class Answer:
    """A backend's answer whose body has not been read: iterate `chunks` once (it closes
    the answer at its end), or `aclose()` it."""

    status: int
    raw_headers: RawHeaders
    chunks: AsyncIterator[bytes]

    async def aclose(self) -> None:
        await self.chunks.aclose()  # type: ignore[attr-defined]


class Streams(Protocol):
    async def open(
        self,
        backend: BackendTarget,
        method: str,
        target: str,
        *,
        headers: list[tuple[str, str]],
        content: Content,
    ) -> Answer: ...

    async def aclose(self) -> None: ...

    @property
    def builds(self) -> int:
        """Sessions of its own built so far (warm Lambda invocations must not add any)."""
        ...


class AiohttpStreams:
    """One aiohttp session per event loop, opened lazily (warm Lambda invocations reuse it)."""

    def __init__(self, breakers: Breakers, *, limit: int = 256) -> None:
        self._breakers = breakers
        self._limit = limit
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.builds = 0

    def _session_now(self) -> aiohttp.ClientSession:
        import aiohttp

        loop = asyncio.get_running_loop()
        if self._session is None or loop is not self._loop:
            self._loop = loop
            self.builds += 1
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._limit, keepalive_timeout=30),
                auto_decompress=False,  # bytes and Content-Encoding pass through as sent
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
            )
        return self._session

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def open(
        self,
        backend: BackendTarget,
        method: str,
        target: str,
        *,
        headers: list[tuple[str, str]],
        content: Content,
    ) -> Answer:
        import aiohttp
        from yarl import URL

        budget = budget_for(backend.name, backend.timeout_s)
        session = self._session_now()
        url = URL(backend.url + target, encoded=True)  # the decided path, not re-normalised
        # each read of the body may wait no longer than the headers could
        timeout = aiohttp.ClientTimeout(sock_connect=budget.timeout_s, sock_read=budget.timeout_s)
        seen = BackendCall(backend.name, method)  # span, latency, ids sent on
        with seen as call, self._breakers.guard(backend.name, cut=budget.cut) as guard:
            try:
                async with asyncio.timeout(budget.timeout_s):
                    response = await session.request(
                        method,
                        url,
                        headers=with_outbound(headers),
                        data=content,
                        allow_redirects=False,
                        timeout=timeout,
                    )
            except TimeoutError:
                call.status = "timeout"
                raise BackendTimeout(backend=backend.name, timeout_s=budget.timeout_s) from None
            except aiohttp.ClientError:
                raise BackendUnavailable(backend=backend.name) from None
            call.status = str(response.status)
            guard.answered(response.status)
        return Answer(response.status, response.raw_headers, _aiohttp_body(backend, response))


async def _aiohttp_body(backend: BackendTarget, response: Any) -> AsyncIterator[bytes]:
    import aiohttp

    try:
        async for chunk in response.content.iter_any():
            yield chunk
    except (aiohttp.ClientError, TimeoutError):
        raise BackendUnavailable(backend=backend.name) from None
    finally:
        response.release()


class HttpxStreams:
    """Through the client's httpx transport (whatever the tests plug in)."""

    builds = 0  # it uses the client's httpx clients, counted there

    def __init__(self, client: BackendClient) -> None:
        self._client = client

    async def aclose(self) -> None:
        """The client's httpx clients are its own to close."""

    async def open(
        self,
        backend: BackendTarget,
        method: str,
        target: str,
        *,
        headers: list[tuple[str, str]],
        content: Content,
    ) -> Answer:
        request = self._client.build_request(
            backend, method, target, headers=headers, content=content
        )
        response = await self._client.send(backend, request, stream=True, pass_5xx=True)
        return Answer(response.status_code, response.headers.raw, _httpx_body(backend, response))


async def _httpx_body(backend: BackendTarget, response: httpx.Response) -> AsyncIterator[bytes]:
    if response.is_stream_consumed:  # a transport that hands over answers already read
        yield response.content
        await response.aclose()
        return
    try:
        async for chunk in response.aiter_raw():
            yield chunk
    except httpx.HTTPError:
        raise BackendUnavailable(backend=backend.name) from None
    finally:
        await response.aclose()
