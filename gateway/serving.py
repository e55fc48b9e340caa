"""uvicorn's httptools protocol with one socket write per answer instead of two.

uvicorn writes an answer's status line and headers as soon as the app sends
`http.response.start`, and the body at `http.response.body`: two `send()` calls, two
wake-ups of the client, for every small answer. aiohttp's server sends headers with the
first body chunk. Here the writes an answer makes in one turn of the event loop go out as
one, at the end of that turn (or at once past 64 KiB, or before the connection closes), so
a cached answer or a passed-through REST answer leaves in one segment.

    uvicorn --factory gateway.app:create_app --http gateway.serving:CoalescingHttpTools

Under Mangum (Lambda) there is no socket, and this is not used.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# The import string uvicorn's `--http` takes (tests, bench, make run and devstack use it).
HTTP_PROTOCOL = "gateway.serving:CoalescingHttpTools"
FLUSH_AT = 64 * 1024


class CoalescingTransport(asyncio.Transport):
    """Delegates to `inner`; `write` collects until the loop's turn ends."""

    def __init__(self, inner: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._inner = inner
        self._loop = loop
        self._pending: list[bytes] = []
        self._size = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))
        self._size += len(data)
        if self._size >= FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending, self._size = [], 0
        if not self._inner.is_closing():
            self._inner.write(data)

    def close(self) -> None:
        self.flush()
        self._inner.close()

    def abort(self) -> None:
        self._pending, self._size = [], 0
        self._inner.abort()

    def write_eof(self) -> None:
        self.flush()
        self._inner.write_eof()

    def can_write_eof(self) -> bool:
        return self._inner.can_write_eof()

    def is_closing(self) -> bool:
        return self._inner.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._inner.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self._inner.pause_reading()

    def resume_reading(self) -> None:
        self._inner.resume_reading()

    def is_reading(self) -> bool:
        return self._inner.is_reading()

    def get_write_buffer_size(self) -> int:
        return self._inner.get_write_buffer_size() + self._size

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._inner.set_write_buffer_limits(high, low)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._inner.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._inner.get_protocol()


class CoalescingHttpTools(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, asyncio.get_running_loop()))
