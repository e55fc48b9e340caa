"""The processes a run needs, started on first use and stopped when no scenario left needs
them (and all of them on exit, Ctrl-C included, newest first). Each is one uvicorn worker
on 127.0.0.1, started with the same flags (tests/support/processes.py), except `redis`, a
redis-server of the run's own (bench/redis_server.py), and `proxy`, the aiohttp server of
bench/minimal_proxy.py (`python -m`, not ASGI).

The gateway's app is named once, in `GATEWAY`.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from bench.redis_server import start_redis
from tests.support.processes import (
    GATEWAY_FACTORY,
    ROOT,
    Service,
    free_port,
    start_uvicorn,
    wait_ready,
)

REPOSITORY_ROUTES = ROOT / "routes.yaml"
ROUTES_YAML = """\
version: 1
backends:
  legacy: {url: "${LEGACY_URL}", timeout_ms: 3000}
  flights: {url: "${FLIGHTS_URL}", timeout_ms: 2000}
default: legacy
routes: []
"""


class Running(Protocol):
    @property
    def url(self) -> str: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class UvicornApp:
    """What uvicorn is told to serve: `module:attribute`, an app or (`factory`) a function
    returning one (uvicorn's `--factory`)."""

    target: str
    factory: bool = False


# The gateway, as every gateway process of the bench starts it.
GATEWAY = UvicornApp(GATEWAY_FACTORY, factory=True)


@dataclass(frozen=True)
class ServiceSpec:
    """A uvicorn app with its environment (computed from the running stack)."""

    app: str | UvicornApp
    ready_path: str
    env: Callable[[Stack], Mapping[str, str]]

    def start(self, stack: Stack) -> Running:
        app = self.app if isinstance(self.app, UvicornApp) else UvicornApp(self.app)
        env = dict(self.env(stack))
        return start_uvicorn(app.target, env=env, ready_path=self.ready_path, factory=app.factory)


@dataclass(frozen=True)
class ModuleSpec:
    """`python -m <module>`, told its port in `<port_variable>` (a server that is not an
    ASGI app, so uvicorn cannot serve it); ready once `ready_path` answers below 500."""

    module: str
    port_variable: str
    ready_path: str
    env: Callable[[Stack], Mapping[str, str]]
    timeout_s: float = 30

    def start(self, stack: Stack) -> Running:
        port = free_port()
        env = {**os.environ, **self.env(stack), self.port_variable: str(port)}
        process = subprocess.Popen([sys.executable, "-m", self.module], cwd=ROOT, env=env)
        service = Service(self.module, f"http://127.0.0.1:{port}", process)
        try:
            wait_ready(service, self.ready_path, self.timeout_s)
        except BaseException:
            service.stop()
            raise
        return service


@dataclass(frozen=True)
class RedisSpec:
    """redis-server on a free loopback port; its url is `redis://127.0.0.1:PORT/0`."""

    def start(self, stack: Stack) -> Running:
        return start_redis(stack.workdir / "redis")


def _stub_env(stack: Stack) -> Mapping[str, str]:
    return {"STUB_LATENCY_MS": "0"}


def cache_off() -> dict[str, str]:
    """CACHE_TTL_<KIND>=0 for every kind the gateway caches: each query reaches the stub."""
    from gateway.cache.setup import DEFAULT_TTLS

    return {f"CACHE_TTL_{kind.upper()}": "0" for kind in DEFAULT_TTLS}


def _gateway_env(
    transport: str, *, cached: bool = False, redis: bool = False, repository_routes: bool = False
) -> Callable[[Stack], Mapping[str, str]]:
    """`repository_routes`: the repository's own routes.yaml (canary + shadow on the flights
    batch) with FLIGHTS_URL at the extracted flights service; else a table sending
    everything to the stub."""

    def env(stack: Stack) -> Mapping[str, str]:
        stub = stack.url("stub")
        routes = REPOSITORY_ROUTES if repository_routes else stack.routes_file
        return {
            **({} if cached else cache_off()),
            "LEGACY_URL": stub,
            "FLIGHTS_URL": stack.url("flights") if repository_routes else stub,
            "ROUTES_FILE": str(routes),
            "GATEWAY_JWT_SECRET": stack.secret,
            "GATEWAY_STAGE": "dev",
            "GATEWAY_HTTP_TRANSPORT": transport,
            # Nothing outside this run may change what is measured: no event feed, and no
            # Redis but the run's own; the cache is off unless the service's name says so.
            "REDIS_URL": stack.url("redis") if redis else "",
            "EVENTS_FEED_URL": "",
        }

    return env


def _baseline_env(stack: Stack) -> Mapping[str, str]:
    from bench.fixtures import baseline_body_file, baseline_public_body_file

    return {
        "BENCH_BASELINE_BODY": str(baseline_body_file(stack)),
        "BENCH_BASELINE_PUBLIC_BODY": str(baseline_public_body_file(stack)),
    }


def _proxy_env(stack: Stack) -> Mapping[str, str]:
    return {"PROXY_UPSTREAM": stack.url("stub")}


def _floor_env(stack: Stack) -> Mapping[str, str]:
    return {"ASGI_FLOOR_UPSTREAM": stack.url("stub")}


def _bff_env(stack: Stack) -> Mapping[str, str]:
    return {"BFF_BACKEND_URL": stack.url("stub"), "BFF_JWT_SECRET": stack.secret}


SERVICES: Mapping[str, ServiceSpec | ModuleSpec | RedisSpec] = {
    "stub": ServiceSpec("legacy_stub.app:app", "/_stub/stats", _stub_env),
    # The extracted flights service, same seed and sizes as the stub: the same flights.
    "flights": ServiceSpec("services.flights.app:app", "/_stub/stats", _stub_env),
    "gateway-aiohttp": ServiceSpec(GATEWAY, "/healthz", _gateway_env("aiohttp")),
    "gateway-httpcore": ServiceSpec(GATEWAY, "/healthz", _gateway_env("httpcore")),
    # The in-process cache on, with its default TTLs: after the first query, hits.
    "gateway-cached": ServiceSpec(GATEWAY, "/healthz", _gateway_env("aiohttp", cached=True)),
    # Default TTLs, L1 and the run's own Redis as L2: the whole-answer scenarios.
    "gateway-redis": ServiceSpec(
        GATEWAY, "/healthz", _gateway_env("aiohttp", cached=True, redis=True)
    ),
    # The repository's routes.yaml, the flights service behind it, default TTLs (L1 only):
    # what a traveler's ownership of bookings is decided from stays cached, as deployed.
    "gateway-routes": ServiceSpec(
        GATEWAY, "/healthz", _gateway_env("aiohttp", cached=True, repository_routes=True)
    ),
    "baseline": ServiceSpec("bench.baseline_app:app", "/healthz", _baseline_env),
    # issue 8's floor for the passthrough: bench/minimal_proxy.py in front of the stub.
    "proxy": ModuleSpec("bench.minimal_proxy", "PROXY_PORT", "/_stub/stats", _proxy_env),
    # The same floor for the gateway's own server and client (bench/asgi_floor.py).
    "asgi-floor": ServiceSpec(
        UvicornApp("bench.asgi_floor:create_app", factory=True), "/_stub/stats", _floor_env
    ),
    # issue 9's baseline: the hand-written FastAPI + httpx BFF of bench/handwritten_bff.py.
    "bff": ServiceSpec("bench.handwritten_bff:app", "/healthz", _bff_env),
    "redis": RedisSpec(),
}


class Stack:
    """The running services of one benchmark run, plus values computed once per run."""

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="bench-")
        self.workdir = Path(self._tmp.name)
        self.routes_file = self.workdir / "routes.yaml"
        self.routes_file.write_text(ROUTES_YAML, encoding="utf-8")
        self.secret = "bench-" + secrets.token_hex(24)
        self._running: dict[str, Running] = {}
        self._memo: dict[str, Any] = {}

    def url(self, name: str) -> str:
        """The base URL of service `name`, started now if it is not running yet."""
        if name not in self._running:
            if name not in SERVICES:
                raise KeyError(f"unknown service {name!r}; known: {', '.join(SERVICES)}")
            self._running[name] = SERVICES[name].start(self)
        return self._running[name].url

    def keep_only(self, names: Iterable[str]) -> None:
        """Stop every running service not in `names` (nothing else should eat the CPU),
        newest first: a gateway goes before the Redis it was started with."""
        keep = set(names)
        for name in [name for name in reversed(self._running) if name not in keep]:
            self._running.pop(name).stop()

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def close(self) -> None:
        try:
            self.keep_only(())
        finally:
            self._tmp.cleanup()

    def __enter__(self) -> Stack:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
