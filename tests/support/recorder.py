"""A backend that only writes down what reaches it: the strongest witness that a gateway
forwarded nothing, whatever path it might have rewritten a request to.

    with recording_backend() as backend:     # http://127.0.0.1:<port>, in this process
        ...point a gateway's LEGACY_URL at backend.url...
        backend.seen  → ["GET /api/fx?base=EUR", ...] (request lines as received)

Every request answers 200 `{}`, with `Server` and `Date` headers and any `extra_headers`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class RecordingBackend:
    url: str
    seen: list[str] = field(default_factory=list)
    extra_headers: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> list[str]:
        """The request lines received since the last call."""
        with self.lock:
            seen, self.seen = self.seen, []
        return seen


def _handler(backend: RecordingBackend) -> type[BaseHTTPRequestHandler]:
    class Record(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            with backend.lock:
                backend.seen.append(f"{self.command} {self.path}")
            length = int(self.headers.get("content-length") or 0)
            if length:
                self.rfile.read(length)
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", "2")
            for name, value in backend.extra_headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(b"{}")

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the list is the log

    return Record


@contextmanager
def recording_backend() -> Iterator[RecordingBackend]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    backend = RecordingBackend(url=f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(backend)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="recording-backend", daemon=True)
    thread.start()
    try:
        yield backend
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
