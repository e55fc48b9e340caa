"""gateway/serving.py: an answer's writes within one turn of the event loop leave as one
socket write, in order, flushed before the connection closes; and the gateway served on that
protocol answers keep-alive requests, small and streamed, byte for byte (a real uvicorn
server on loopback, a raw socket as the client)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
import uvicorn

from gateway.serving import FLUSH_AT, HTTP_PROTOCOL, CoalescingTransport
from legacy_stub.app import create_app as create_stub
from tests.support import inprocess


class Recording(asyncio.Transport):
    """A transport standing in for the socket: what was written, in which calls."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def is_closing(self) -> bool:
        return self.closed or self.aborted


async def test_writes_in_one_turn_leave_as_one() -> None:
    inner = Recording()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())
    transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    transport.write(b"{}")
    assert inner.writes == []  # held until the loop's turn ends
    await asyncio.sleep(0)
    assert inner.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
    transport.write(b"next")
    await asyncio.sleep(0)
    assert inner.writes[-1] == b"next" and len(inner.writes) == 2


async def test_a_large_write_is_not_held_and_close_flushes_first() -> None:
    inner = Recording()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())
    transport.write(b"h")
    transport.write(b"x" * FLUSH_AT)
    assert inner.writes == [b"h" + b"x" * FLUSH_AT]
    transport.write(b"last")
    transport.close()
    assert inner.writes[-1] == b"last" and inner.closed
    await asyncio.sleep(0)  # the scheduled flush finds nothing left
    assert len(inner.writes) == 2


async def test_abort_drops_what_is_held_and_a_closed_socket_gets_nothing() -> None:
    inner = Recording()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())
    transport.write(b"dropped")
    transport.abort()
    await asyncio.sleep(0)
    assert inner.writes == [] and inner.aborted
    closed = Recording()
    closed.closed = True
    late = CoalescingTransport(closed, asyncio.get_running_loop())
    late.write(b"too late")
    await asyncio.sleep(0)
    assert closed.writes == []


def _read_answer(sock: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(
            line.split(b":", 1)[1]
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head, body


@pytest.mark.parametrize("path", ["/healthz", "/api/trips/trip-1", "/api/travelers/t-1/trips"])
async def test_the_gateway_on_this_protocol_answers_keep_alive_requests_exactly(path: str) -> None:
    stub = create_stub()
    app = inprocess.gateway(stub=stub).app
    listening = socket.create_server(("127.0.0.1", 0))  # connections wait in its backlog
    port = listening.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, http=HTTP_PROTOCOL, log_level="warning"))
    serving = asyncio.create_task(server.serve(sockets=[listening]))
    agent = inprocess.token("qa-1", "agent")
    expected = await inprocess.gateway(stub=stub).client.get(
        path, headers={"authorization": f"Bearer {agent}"}
    )
    try:
        sock = socket.create_connection(("127.0.0.1", port))
        request = (
            f"GET {path} HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer {agent}\r\n\r\n"
        ).encode()
        for _ in range(3):  # one connection, answered again and again
            await asyncio.to_thread(sock.sendall, request)
            head, body = await asyncio.to_thread(_read_answer, sock)
            assert head.startswith(b"HTTP/1.1 200 ")
            assert body == expected.content
        sock.close()
    finally:
        server.should_exit = True
        await serving
