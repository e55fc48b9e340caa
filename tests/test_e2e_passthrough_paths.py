"""Path attacks on the REST passthrough, sent as raw bytes over a socket (every HTTP client
would normalise them away before sending): dot segments in any spelling, encoded slashes and
backslashes, NUL, and paths outside `/api/`. Each answers 400 (outside `/api/` a 404 will do)
and reaches no backend, whoever asks.

Two witnesses that nothing was forwarded: the stub behind the gateway (its request counters
stay at zero, its fault table and event feed unchanged), and a second gateway in front of a
backend that writes down every request line that reaches it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import Stack, dev_token, gateway_env
from tests.support.processes import GATEWAY_FACTORY, Service, start_uvicorn, write_routes
from tests.support.raw_http import RawAnswer, raw_request
from tests.support.recorder import RecordingBackend, recording_backend

pytestmark = pytest.mark.e2e

# A fault nobody's request matches: if it vanishes, something reached POST /_stub/reset.
WITNESS_FAULT = {
    "path_prefix": "/api/zz-witness",
    "latency_ms": 1,
    "error_rate": 0.0,
    "status": 503,
    "hang": False,
}
CALLERS = {
    "anonymous": None,
    "traveler": dev_token("t-1"),
    "agent": dev_token("qa-1", "agent"),
}

# (method, raw request target); the id names what the attack is after.
INSIDE_API = {
    "dotdot-to-stats": ("GET", "/api/../_stub/stats"),
    "encoded-dotdot-to-faults": ("GET", "/api/%2e%2e/_stub/faults"),
    "mixed-case-encoded-dotdot": ("GET", "/api/%2E%2e/_stub/faults"),
    "encoded-dotdot-post-reset": ("POST", "/api/%2e%2e/_stub/reset"),
    "dot-segment": ("GET", "/api/./travelers/t-1"),
    "encoded-dot-segment-last": ("GET", "/api/trips/%2e"),
    "half-encoded-dotdots": ("GET", "/api/trips/.%2e/%2E./_stub/stats"),
    "trailing-dotdot": ("GET", "/api/trips/trip-1/.."),
    "dotdot-twice": ("GET", "/api/trips/../../_stub/stats"),
    "dotdot-between-trips": ("POST", "/api/trips/trip-2/%2e%2e/trip-1/cancel"),
    "encoded-slash-dotdot": ("GET", "/api/flights%2f..%2f_stub/stats"),
    "encoded-slash-upper": ("GET", "/api/flights%2Ffl-1"),
    "encoded-backslash-dotdot": ("GET", "/api/%5c..%5c_stub/stats"),
    "encoded-backslash-upper": ("GET", "/api/%5C..%5C_stub/stats"),
    "nul-byte": ("GET", "/api/trips/trip-1%00"),
    "absolute-form-dotdot": ("GET", "http://x/api/../_stub/stats"),
}
OUTSIDE_API = {
    "stub-stats": ("GET", "/_stub/stats"),
    "stub-reset": ("POST", "/_stub/reset"),
    "double-slash-dotdot": ("GET", "//api/../_stub/stats"),
    "upper-case-api": ("GET", "/API/trips/trip-1"),
    "api-prefix-without-slash": ("GET", "/apix/../_stub/stats"),
}

# Paths the contract does not name, where refusing (400) or forwarding them as they are (the
# monolith then answers 404) are both safe; what must not happen is a second decoding or a
# backslash read as a slash on the way, which would reach the stub's admin API.
ODD = {
    "double-encoded-dotdot": ("GET", "/api/%252e%252e/_stub/faults"),
    "double-encoded-dotdot-post-reset": ("POST", "/api/%252e%252e/_stub/reset"),
    "double-encoded-slash": ("POST", "/api/trips%252f..%252f_stub%252freset"),
    "raw-backslash-dotdot": ("POST", "/api\\..\\_stub/reset"),
}


@dataclass
class Witness:
    faults: Any
    last_seq: int


@dataclass
class Paths:
    stack: Stack
    recorded: Service
    backend: RecordingBackend
    stub: httpx.Client  # to the stub's admin API, directly

    def arm(self) -> Witness:
        """Zero the stub's counters, plant the witness fault, note the event feed."""
        self.stub.post("/_stub/reset").raise_for_status()
        self.stub.post("/_stub/faults", json=WITNESS_FAULT).raise_for_status()
        self.backend.take()
        return Witness(self.faults(), self.last_seq())

    def faults(self) -> Any:
        return self.stub.get("/_stub/faults").json()

    def last_seq(self) -> int:
        seq: int = self.stub.get("/_stub/events").json()["last_seq"]
        return seq

    def stats(self) -> dict[str, int]:
        counts: dict[str, int] = self.stub.get("/_stub/stats").json()["requests"]
        return counts

    def assert_untouched(self, before: Witness) -> None:
        assert self.stats() == {}
        assert self.faults() == before.faults
        assert before.faults["faults"] != []  # the witness fault really was planted
        assert self.last_seq() == before.last_seq


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Paths]:
    """Its own stub: on a gateway that forwards an attack, the attack really cancels a trip
    or resets the stub, and that must not leak into other modules' session stack."""
    routes = write_routes(tmp_path_factory.mktemp("paths") / "routes.yaml")
    with ExitStack() as started, recording_backend() as backend:
        legacy = start_uvicorn("legacy_stub.app:app")
        started.callback(legacy.stop)
        gateway = start_uvicorn(
            GATEWAY_FACTORY,
            factory=True,
            env=gateway_env(legacy.url, routes),
            ready_path="/healthz",
        )
        started.callback(gateway.stop)
        recorded = start_uvicorn(
            GATEWAY_FACTORY,
            factory=True,
            env=gateway_env(backend.url, routes),
            ready_path="/healthz",
        )
        started.callback(recorded.stop)
        stub = started.enter_context(httpx.Client(base_url=legacy.url, timeout=10))
        yield Paths(Stack(legacy=legacy, gateway=gateway), recorded, backend, stub)


def send(url: str, method: str, target: str, caller: str) -> RawAnswer:
    token = CALLERS[caller]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = b"{}" if method == "POST" else b""
    if body:
        headers["Content-Type"] = "application/json"
    return raw_request(url, f"{method} {target}", headers=headers, body=body)


def test_the_raw_socket_helper_reaches_the_monolith_through_the_gateway(paths: Paths) -> None:
    paths.arm()
    answer = send(paths.stack.gateway.url, "GET", "/api/fx?base=EUR", "anonymous")
    assert paths.stats() == {"GET /api/fx": 1}
    direct = paths.stub.get("/api/fx?base=EUR")
    assert (answer.status, answer.body) == (200, direct.content)
    recorded = send(paths.recorded.url, "GET", "/api/fx?base=EUR", "agent")
    assert (recorded.status, recorded.json()) == (200, {})
    assert paths.backend.take() == ["GET /api/fx?base=EUR"]


@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize(("method", "target"), list(INSIDE_API.values()), ids=list(INSIDE_API))
def test_unsafe_api_path_answers_400_and_reaches_no_backend(
    paths: Paths, method: str, target: str, caller: str
) -> None:
    before = paths.arm()
    answer = send(paths.stack.gateway.url, method, target, caller)
    assert answer.status == 400, (answer.status, answer.body[:300])
    body = answer.json()
    assert set(body) == {"error", "message"}, body
    assert isinstance(body["error"], str) and isinstance(body["message"], str)
    assert len(answer.header_values("date")) == 1 and len(answer.header_values("server")) <= 1
    paths.assert_untouched(before)
    assert send(paths.recorded.url, method, target, caller).status == 400
    assert paths.backend.take() == []


@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize(("method", "target"), list(OUTSIDE_API.values()), ids=list(OUTSIDE_API))
def test_path_outside_api_is_never_forwarded(
    paths: Paths, method: str, target: str, caller: str
) -> None:
    before = paths.arm()
    answer = send(paths.stack.gateway.url, method, target, caller)
    assert answer.status in (400, 404), (answer.status, answer.body[:300])
    assert isinstance(answer.json(), dict)  # a JSON error, not the stub's admin answer
    assert b"requests" not in answer.body and b"faults" not in answer.body
    paths.assert_untouched(before)
    assert send(paths.recorded.url, method, target, caller).status in (400, 404)
    assert paths.backend.take() == []


def test_a_backend_cannot_make_a_private_answer_cacheable(paths: Paths) -> None:
    """The backend says public, sends its own Date and Server: the client still gets one of
    each, and `private, no-store` on a route that is not public."""
    paths.backend.extra_headers[:] = [("cache-control", "public, max-age=600")]
    try:
        answer = send(paths.recorded.url, "GET", "/api/trips/trip-1", "agent")
    finally:
        paths.backend.extra_headers.clear()
    assert (answer.status, answer.json()) == (200, {})
    assert paths.backend.take() == ["GET /api/trips/trip-1"]
    assert answer.header_values("cache-control") == ["private, no-store"]
    assert len(answer.header_values("date")) == 1 and len(answer.header_values("server")) <= 1


@pytest.mark.parametrize(("method", "target"), list(ODD.values()), ids=list(ODD))
def test_odd_api_path_never_reaches_the_admin_api(paths: Paths, method: str, target: str) -> None:
    before = paths.arm()
    answer = send(paths.stack.gateway.url, method, target, "agent")
    assert answer.status in (400, 404), (answer.status, answer.body[:300])
    assert isinstance(answer.json(), dict)  # an error, not the stub's admin answer
    paths.assert_untouched(before)
