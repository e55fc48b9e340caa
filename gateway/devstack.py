"""`make run`: the whole local stack in the foreground, on embedded defaults (no Redis, no AWS).

Starts the monolith stub, the flights service and the gateway as uvicorn processes, prints
where to point a browser and a dev token, and stops all three cleanly on Ctrl-C. A start-up
failure names the service, its address and the variable that moves it:

    the gateway could not listen on 127.0.0.1:8000 (port in use); set GATEWAY_PORT to a free
    port to move it, e.g. GATEWAY_PORT=8003 make run
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from gateway.auth import issue_dev_token
from gateway.config import DEV_JWT_SECRET
from gateway.serving import HTTP_PROTOCOL

HOST = "127.0.0.1"
# Each port moves with <NAME>_PORT; the Makefile passes them through.
DEFAULT_PORTS = {"GATEWAY": 8000, "LEGACY": 8001, "FLIGHTS": 8002}


class StackError(Exception):
    """The stack cannot start; the message says why and what to change."""


@dataclass(frozen=True)
class Service:
    name: str
    key: str  # its DEFAULT_PORTS key: the port moves with <key>_PORT
    module: str
    port: int
    ready_path: str
    factory: bool = False  # `module` names an app factory (uvicorn --factory)
    http: str | None = None  # uvicorn's --http: a protocol class's import string

    @property
    def variable(self) -> str:
        return f"{self.key}_PORT"

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"


def stack_ports(environ: Mapping[str, str]) -> dict[str, int]:
    """{"GATEWAY": 8000, "LEGACY": 8001, "FLIGHTS": 8002}, each moved by its <NAME>_PORT."""
    ports = {}
    for key, default in DEFAULT_PORTS.items():
        text = environ.get(f"{key}_PORT", str(default))
        if not text.isdigit() or not 0 < int(text) < 65536:
            raise StackError(f"{key}_PORT={text!r} is not a port; use a number from 1 to 65535")
        ports[key] = int(text)
    return ports


def backend_urls(ports: Mapping[str, int]) -> dict[str, str]:
    """The backends as `make run` starts them: {"LEGACY_URL": "http://127.0.0.1:8001", ...}."""
    return {f"{key}_URL": f"http://{HOST}:{ports[key]}" for key in ("LEGACY", "FLIGHTS")}


def stack_services(ports: Mapping[str, int]) -> list[Service]:
    """In start order: the gateway needs both backends."""
    return [
        Service(
            "the monolith stub", "LEGACY", "legacy_stub.app:app", ports["LEGACY"], "/_stub/stats"
        ),
        Service(
            "the flights service",
            "FLIGHTS",
            "services.flights.app:app",
            ports["FLIGHTS"],
            "/_stub/stats",
        ),
        Service(
            "the gateway",
            "GATEWAY",
            "gateway.app:create_app",
            ports["GATEWAY"],
            "/healthz",
            factory=True,
            http=HTTP_PROTOCOL,  # one socket write per answer (gateway/serving.py)
        ),
    ]


def check_ports(services: list[Service]) -> None:
    """StackError naming the first service whose port is shared or taken, and the fix."""
    for index, service in enumerate(services):
        other = next((s for s in services[:index] if s.port == service.port), None)
        if other is not None:
            raise StackError(
                f"{other.name} and {service.name} are both set to port {service.port}; "
                f"{_move(service, services)}"
            )
        problem = _cannot_listen(service.port)
        if problem is not None:
            raise StackError(
                f"{service.name} could not listen on {service.address} ({problem}); "
                f"{_move(service, services)}"
            )


def _cannot_listen(port: int) -> str | None:
    """None when the port can be listened on now, else why not: "port in use"."""
    with socket.socket() as sock:
        # As uvicorn does, so a port left in TIME_WAIT by a stopped stack counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError as exc:
            return "port in use" if exc.errno == errno.EADDRINUSE else str(exc.strerror).lower()
    return None


def _move(service: Service, services: Iterable[Service]) -> str:
    """ "set GATEWAY_PORT to a free port to move it, e.g. GATEWAY_PORT=8003 make run"."""
    taken = {s.port for s in services}
    free = next(
        (p for p in range(service.port + 1, 65536) if p not in taken and not _cannot_listen(p)),
        None,
    )
    example = f", e.g. {service.variable}={free} make run" if free is not None else ""
    return f"set {service.variable} to a free port to move it{example}"


def _start(service: Service, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        service.module,
        *(["--factory"] if service.factory else []),
        *(["--http", service.http] if service.http else []),
        "--host",
        HOST,
        "--port",
        str(service.port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    return subprocess.Popen(command, env=dict(env))


def _wait_ready(service: Service, process: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    url = service.url + service.ready_path
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StackError(
                f"{service.name} on {service.address} exited with {process.returncode} "
                "before it was ready (its own message is above)"
            )
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise StackError(f"{service.name} did not answer {url} within {timeout_s:g} s")


def main() -> int:
    try:
        ports = stack_ports(os.environ)
        services = stack_services(ports)
        check_ports(services)
    except StackError as exc:
        print(f"make run: {exc}", file=sys.stderr)
        return 1
    return _run(services, ports)


def _run(services: list[Service], ports: Mapping[str, int]) -> int:
    urls = backend_urls(ports)
    legacy, flights = urls["LEGACY_URL"], urls["FLIGHTS_URL"]
    env = {
        **os.environ,
        **urls,
        "GATEWAY_STAGE": os.environ.get("GATEWAY_STAGE", "dev"),
        "EVENTS_FEED_URL": os.environ.get("EVENTS_FEED_URL", f"{legacy}/_stub/events"),
    }
    secret = env.setdefault("GATEWAY_JWT_SECRET", DEV_JWT_SECRET)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for service in services:
            processes.append(_start(service, env))
            _wait_ready(service, processes[-1])
        _announce(ports["GATEWAY"], legacy, flights, secret)
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
        print("a process of the stack exited; stopping the rest", file=sys.stderr)
        return 1
    except StackError as exc:
        print(f"make run: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping…")
        return 0
    finally:
        _stop(processes)


def _announce(port: int, legacy: str, flights: str, secret: str) -> None:
    base = f"http://{HOST}:{port}"
    traveler = issue_dev_token("t-1", secret=secret)
    agent = issue_dev_token("agent-1", role="agent", secret=secret)
    print(
        f"""
BFF gateway is up.
  web schema     {base}/graphql/web      (open in a browser for GraphiQL)
  mobile schema  {base}/graphql/mobile
  REST clients   {base}/api/...           health {base}/healthz
  monolith stub  {legacy}     flights service {flights}

Dev token for traveler t-1 (GraphiQL → Headers: {{"Authorization": "Bearer <token>"}}):
  {traveler}
Agent token (may read anyone's data):
  {agent}
More: .venv/bin/python -m gateway token t-2 [--role agent]. Ctrl-C stops everything.
""",
        flush=True,
    )


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    sys.exit(main())
