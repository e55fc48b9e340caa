"""Shared end-to-end fixtures: the monolith stub and the gateway as real processes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.auth import issue_dev_token
from gateway.cache.setup import DEFAULT_TTLS
from tests.support.chromium import DevTools, open_browser
from tests.support.processes import GATEWAY_FACTORY, Service, start_uvicorn, write_routes

SECRET = "e2e-secret-0123456789abcdef0123456789abcdef"


@dataclass
class Stack:
    legacy: Service
    gateway: Service

    def token(self, traveler_id: str, role: str = "traveler") -> str:
        return dev_token(traveler_id, role)

    def gql(
        self,
        schema: str,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = {"accept": "application/json", **(headers or {})}
        if token:
            sent["authorization"] = f"Bearer {token}"
        return httpx.post(
            f"{self.gateway.url}/graphql/{schema}",
            json={"query": query, "variables": variables or {}},
            headers=sent,
            timeout=30,
        )

    def rest(self, path: str, **params: str) -> Any:
        response = httpx.get(self.legacy.url + path, params=params, timeout=10)
        response.raise_for_status()
        return response.json()

    def stats(self) -> dict[str, int]:
        counts: dict[str, int] = httpx.get(f"{self.legacy.url}/_stub/stats").json()["requests"]
        return {key: n for key, n in counts.items() if n}

    def reset(self) -> None:
        httpx.post(f"{self.legacy.url}/_stub/reset").raise_for_status()

    def fault(self, **fault: Any) -> None:
        httpx.post(f"{self.legacy.url}/_stub/faults", json=fault).raise_for_status()


def dev_token(traveler_id: str, role: str = "traveler") -> str:
    """A token the e2e gateways accept (they share SECRET)."""
    return issue_dev_token(traveler_id, role=role, secret=SECRET)  # type: ignore[arg-type]


# Batching is asserted on a gateway that caches nothing, so every request reaches the stub.
NO_CACHE = {f"CACHE_TTL_{kind.upper()}": "0" for kind in DEFAULT_TTLS}


def gateway_env(legacy_url: str, routes: Path, **extra: str) -> dict[str, str]:
    return {
        "LEGACY_URL": legacy_url,
        "FLIGHTS_URL": legacy_url,
        "ROUTES_FILE": str(routes),
        "GATEWAY_JWT_SECRET": SECRET,
        "GATEWAY_STAGE": "dev",
        **extra,
    }


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    routes = write_routes(tmp_path_factory.mktemp("routes") / "routes.yaml")
    legacy = start_uvicorn("legacy_stub.app:app")
    try:
        gateway = start_uvicorn(
            GATEWAY_FACTORY,
            factory=True,
            env=gateway_env(legacy.url, routes, **NO_CACHE),
            ready_path="/healthz",
        )
        try:
            yield Stack(legacy=legacy, gateway=gateway)
        finally:
            gateway.stop()
    finally:
        legacy.stop()


@pytest.fixture
def e2e(stack: Stack) -> Stack:
    """The stack with the stub's counters and faults reset before the test."""
    stack.reset()
    return stack


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    """Headless Chromium, offline but for loopback (tests/support/chromium.py)."""
    yield from open_browser(tmp_path)
