"""The request a load scenario sends, as a plain value (wrk's script and the probe share it)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import httpx


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None

    @classmethod
    def graphql(
        cls,
        path: str,
        query: str,
        *,
        variables: Mapping[str, Any] | None = None,
        token: str | None = None,
    ) -> HttpRequest:
        """A POST of {"query", "variables"} as JSON, with a bearer token when given."""
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        body = json.dumps({"query": query, "variables": dict(variables or {})})
        return cls("POST", path, headers, body.encode())

    def with_body(self, body: bytes) -> HttpRequest:
        return replace(self, body=body)

    def send(self, base_url: str, *, timeout_s: float = 10) -> httpx.Response:
        """Send it once (the probe before a load run)."""
        return httpx.request(
            self.method,
            base_url + self.path,
            headers=dict(self.headers),
            content=self.body,
            timeout=timeout_s,
        )


async def _send_each(
    base_url: str, requests: Sequence[HttpRequest], *, at_once: int
) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=at_once)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        gate = asyncio.Semaphore(at_once)

        async def one(request: HttpRequest) -> httpx.Response:
            async with gate:
                return await client.request(
                    request.method,
                    request.path,
                    headers=dict(request.headers),
                    content=request.body,
                )

        return await asyncio.gather(*(one(request) for request in requests))


def send_each(
    base_url: str, requests: Sequence[HttpRequest], *, at_once: int = 1
) -> list[httpx.Response]:
    """Send each request once, `at_once` in flight at a time (1: one after the other, in
    order), all awaited; the responses in the order of `requests`."""
    return asyncio.run(_send_each(base_url, requests, at_once=at_once))
