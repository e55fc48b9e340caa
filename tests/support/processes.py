"""Real processes on loopback for end-to-end tests: uvicorn apps on free ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from gateway.serving import HTTP_PROTOCOL

ROOT = Path(__file__).resolve().parents[2]
GATEWAY_FACTORY = "gateway.app:create_app"  # started with factory=True
# How every gateway process is served, as `make run` serves it: its factory, on uvicorn's
# httptools protocol with one socket write per answer (gateway/serving.py).
GATEWAY_SERVER_ARGS = ("--factory", "--http", HTTP_PROTOCOL)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Service:
    name: str
    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        stop_process(self.process)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 10 s; waits either way, so nothing is left running."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_uvicorn(
    app: str,
    *,
    env: Mapping[str, str] | None = None,
    ready_path: str = "/_stub/stats",
    port: int | None = None,
    timeout_s: float = 30,
    factory: bool = False,
) -> Service:
    """`factory`: `app` is the gateway's `create_app`, served with GATEWAY_SERVER_ARGS."""
    port = port or free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        *(GATEWAY_SERVER_ARGS if factory else ()),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **(env or {})})
    service = Service(app, f"http://127.0.0.1:{port}", process)
    try:
        wait_ready(service, ready_path, timeout_s)
    except BaseException:
        service.stop()
        raise
    return service


def wait_ready(service: Service, path: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(f"{service.name} exited with {service.process.returncode}")
        try:
            if httpx.get(service.url + path, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{service.name} not ready within {timeout_s} s")


@contextmanager
def running(app: str, **kwargs: object) -> Iterator[Service]:
    service = start_uvicorn(app, **kwargs)  # type: ignore[arg-type]
    try:
        yield service
    finally:
        service.stop()


def write_routes(path: Path, *, flights_target: str = "legacy", extra: str = "") -> Path:
    """A routes.yaml for tests: flight endpoints to `flights_target`, the rest to legacy."""
    path.write_text(
        f"""version: 1
backends:
  legacy: {{url: "${{LEGACY_URL}}", timeout_ms: 3000}}
  flights: {{url: "${{FLIGHTS_URL}}", timeout_ms: 2000}}
default: legacy
routes:
  - path: /api/flights/**
    target: {flights_target}
{extra}""",
        encoding="utf-8",
    )
    return path
