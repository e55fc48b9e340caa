"""HTTP/1.1 over a bare socket, for requests no client library would send as written.

httpx, curl and browsers drop dot segments and re-encode paths before sending; an attacker
does not. `raw_request(url, "GET /api/../_stub/stats")` writes exactly those bytes, reads
until the server closes, and parses the answer (chunked bodies decoded).
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class RawAnswer:
    status: int
    headers: list[tuple[str, str]]  # names lower-cased, in the order sent
    body: bytes

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]

    def json(self) -> Any:
        return json.loads(self.body)


def raw_request(
    url: str,
    request_line: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    timeout_s: float = 10,
) -> RawAnswer:
    """Sends `request_line` ("GET /api/%2e%2e/x", no version) byte for byte to `url`'s
    host and port, with `Host`, `Connection: close` and the given headers."""
    address = urlsplit(url)
    lines = [f"{request_line} HTTP/1.1", "Host: x", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    assert address.hostname and address.port, url
    with socket.create_connection((address.hostname, address.port), timeout=timeout_s) as sock:
        sock.sendall(head + body)
        return parse_answer(_read_until_closed(sock))


def _read_until_closed(sock: socket.socket) -> bytes:
    chunks: list[bytes] = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def parse_answer(raw: bytes) -> RawAnswer:
    """b"HTTP/1.1 400 Bad Request\\r\\nA: b\\r\\n\\r\\n{}" → RawAnswer(400, [("a", "b")], b"{}")"""
    head, separator, body = raw.partition(b"\r\n\r\n")
    if not separator:
        raise ValueError(f"no end of headers in {raw[:200]!r}")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    headers = [_header(line) for line in header_lines]
    if ("transfer-encoding", "chunked") in headers:
        body = dechunk(body)
    return RawAnswer(status, headers, body)


def _header(line: str) -> tuple[str, str]:
    name, _, value = line.partition(":")
    return name.strip().lower(), value.strip()


def dechunk(body: bytes) -> bytes:
    """b"3\\r\\nabc\\r\\n0\\r\\n\\r\\n" → b"abc" """
    out: list[bytes] = []
    while True:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return b"".join(out)
        out.append(rest[:size])
        body = rest[size + 2 :]
