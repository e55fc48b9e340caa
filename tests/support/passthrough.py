"""The REST passthrough as the e2e tests see it: who calls (`World.call("owner", ...)`), the
monolith stub read directly as the witness, and what every answer must look like.

    error_body(response, 403, "forbidden")   status, {"error", "message"}, headers
    check_headers(response, public=False)    one Date, at most one Server, private no-store
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import dev_token
from tests.support.parties import Json, Party, leaked
from tests.support.processes import Service

AGENT = "qa-1"


@dataclass
class World:
    legacy: Service
    gateway: Service
    owner: Party
    other: Party
    client: httpx.Client
    env: dict[str, str]  # the gateway's environment, for another one with a setting changed

    def token(self, caller: str) -> str | None:
        ids = {"owner": self.owner.id, "other": self.other.id}
        if caller == "agent":
            return dev_token(AGENT, "agent")
        return dev_token(ids[caller]) if caller in ids else None

    def call(
        self,
        caller: str,
        method: str,
        path: str,
        *,
        url: str | None = None,
        headers: dict[str, str] | None = None,
        **send: Any,
    ) -> httpx.Response:
        token = self.token(caller)
        sent = {**(headers or {}), **({"authorization": f"Bearer {token}"} if token else {})}
        target = (url or self.gateway.url) + path
        return self.client.request(method, target, headers=sent, **send)

    def call_as(self, traveler: str, method: str, path: str) -> httpx.Response:
        headers = {"authorization": f"Bearer {dev_token(traveler)}"}
        return self.client.request(method, self.gateway.url + path, headers=headers)

    def direct(self, path: str) -> httpx.Response:
        return self.client.get(self.legacy.url + path)

    def last_seq(self) -> int:
        seq: int = self.direct("/_stub/events").json()["last_seq"]
        return seq

    def events_after(self, seq: int) -> list[Json]:
        events: list[Json] = self.direct(f"/_stub/events?after={seq}").json()["events"]
        return events

    def stats(self) -> dict[str, int]:
        counts: dict[str, int] = self.direct("/_stub/stats").json()["requests"]
        return counts

    def reset(self) -> None:
        self.client.post(f"{self.legacy.url}/_stub/reset").raise_for_status()


def check_headers(response: httpx.Response, *, public: bool = False) -> None:
    assert len(response.headers.get_list("date")) == 1, response.headers
    assert len(response.headers.get_list("server")) <= 1, response.headers
    directives = {
        d.strip().lower() for d in response.headers.get("cache-control", "").split(",") if d
    }
    if public:
        assert "private" not in directives, response.headers
    else:
        assert {"private", "no-store"} <= directives, response.headers


def error_body(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, (response.status_code, response.text[:300])
    body = response.json()
    assert set(body) == {"error", "message"}, body
    assert body["error"] == code and isinstance(body["message"], str), body
    check_headers(response)


def unauthenticated(response: httpx.Response) -> None:
    error_body(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer"), response.headers


def forbidden(response: httpx.Response, victim: Party, *, named: str) -> None:
    error_body(response, 403, "forbidden")
    assert leaked(victim, response, named=named) == []
