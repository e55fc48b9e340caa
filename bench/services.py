"""The processes a run needs, started on first use and stopped when no scenario left needs
them (and all of them on exit, Ctrl-C included, newest first). Each is one uvicorn worker
on 127.0.0.1, started with the same flags (tests/support/processes.py), except `redis`, a
redis-server of the run's own (bench/redis_server.py).
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from bench.redis_server import start_redis
from tests.support.processes import GATEWAY_FACTORY, start_uvicorn

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
class ServiceSpec:
    """A uvicorn app with its environment (computed from the running stack)."""

    app: str
    ready_path: str
    env: Callable[[Stack], Mapping[str, str]]
    factory: bool = False  # `app` names a factory (the gateway's `create_app`)

    def start(self, stack: Stack) -> Running:
        env = dict(self.env(stack))
        return start_uvicorn(self.app, env=env, ready_path=self.ready_path, factory=self.factory)


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
    transport: str, *, cached: bool = False, redis: bool = False
) -> Callable[[Stack], Mapping[str, str]]:
    def env(stack: Stack) -> Mapping[str, str]:
        stub = stack.url("stub")
        return {
            **({} if cached else cache_off()),
            "LEGACY_URL": stub,
            "FLIGHTS_URL": stub,
            "ROUTES_FILE": str(stack.routes_file),
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


SERVICES: Mapping[str, ServiceSpec | RedisSpec] = {
    "stub": ServiceSpec("legacy_stub.app:app", "/_stub/stats", _stub_env),
    "gateway-aiohttp": ServiceSpec(
        GATEWAY_FACTORY, "/healthz", _gateway_env("aiohttp"), factory=True
    ),
    "gateway-httpcore": ServiceSpec(
        GATEWAY_FACTORY, "/healthz", _gateway_env("httpcore"), factory=True
    ),
    # The in-process cache on, with its default TTLs: after the first query, hits.
    "gateway-cached": ServiceSpec(
        GATEWAY_FACTORY, "/healthz", _gateway_env("aiohttp", cached=True), factory=True
    ),
    # Default TTLs, L1 and the run's own Redis as L2: the whole-answer scenarios.
    "gateway-redis": ServiceSpec(
        GATEWAY_FACTORY,
        "/healthz",
        _gateway_env("aiohttp", cached=True, redis=True),
        factory=True,
    ),
    "baseline": ServiceSpec("bench.baseline_app:app", "/healthz", _baseline_env),
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
