"""The gateway and the monolith stub in this process: the gateway's backend transport is
`httpx.ASGITransport(app=stub)`, and tests drive the gateway through another one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette

from gateway.app import GatewayApp, create_app
from gateway.auth import issue_dev_token
from gateway.cache.setup import DEFAULT_TTLS, CacheConfig
from gateway.config import Executor, Settings
from legacy_stub.app import create_app as create_stub

SECRET = "in-process-secret-0123456789abcdef0123456789"
NO_CACHE = CacheConfig.from_env({f"CACHE_TTL_{kind.upper()}": "0" for kind in DEFAULT_TTLS})


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "stage": "dev",
        "legacy_url": "http://legacy.test",
        "flights_url": "http://legacy.test",
        "jwt_secret": SECRET,
        "routes_file": "/nonexistent/routes.yaml",  # the default table over legacy_url
        **overrides,
    }
    return Settings(**values)


def token(traveler_id: str, role: str = "traveler") -> str:
    return issue_dev_token(traveler_id, role=role, secret=SECRET)  # type: ignore[arg-type]


@dataclass
class Gateway:
    """One gateway app over one stub, driven in process."""

    stub: Starlette
    app: GatewayApp
    client: httpx.AsyncClient = field(init=False)

    def __post_init__(self) -> None:
        transport = httpx.ASGITransport(app=self.app)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://gateway.test")

    async def gql(
        self,
        schema: str,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        operation_name: str | None = None,
    ) -> httpx.Response:
        headers = {"accept": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        payload: dict[str, Any] = {"query": query, "variables": variables or {}}
        if operation_name:
            payload["operationName"] = operation_name
        return await self.client.post(f"/graphql/{schema}", json=payload, headers=headers)

    async def stub_post(self, path: str, body: Any = None) -> httpx.Response:
        stub = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.stub), base_url="http://s")
        async with stub:
            return await stub.post(path, json=body)

    async def stub_stats(self) -> dict[str, int]:
        stub = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.stub), base_url="http://s")
        async with stub:
            counts: dict[str, int] = (await stub.get("/_stub/stats")).json()["requests"]
        return {key: n for key, n in counts.items() if n}


def gateway(
    stub: Starlette | None = None,
    *,
    executor: Executor = "auto",
    cache_config: CacheConfig = NO_CACHE,
    **overrides: Any,
) -> Gateway:
    stub = stub or create_stub()
    app = create_app(
        settings(**overrides),
        transport=httpx.ASGITransport(app=stub),
        executor=executor,
        cache_config=cache_config,
    )
    return Gateway(stub=stub, app=app)
