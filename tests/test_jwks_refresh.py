"""The JWKS refresh against a real identity provider on loopback whose answers the test holds
and releases: known keys keep serving while a refresh is held; unknown keys wait for one
fetch, shared. Ordering is proven with events, never with timing."""

from __future__ import annotations

import asyncio
import json
import queue
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from gateway.auth import Identity, JWKSVerifier, identify
from gateway.jwks import MIN_REFETCH_S
from tests.test_auth import Clock, claims, jwk, rs256

# Longer than the verifier's 5 s HTTP timeout: a refresh the test holds fails only if a
# request waited for it (then the fetch times out, and the test sees the keys unavailable).
HOLD_LIMIT_S = 30


class HeldProvider:
    """Serves `{"keys": ...}` at /jwks.json; while held, each answer waits for `release()`."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = [jwk("k1")]
        self.fetches = 0  # requests that arrived
        self.answered = 0  # answers sent
        self.arrivals: queue.Queue[int] = queue.Queue()
        self._open = threading.Event()
        self._open.set()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.fetches += 1
                provider.arrivals.put(provider.fetches)
                provider._open.wait(HOLD_LIMIT_S)
                body = json.dumps({"keys": provider.keys}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                provider.answered += 1

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def hold(self) -> None:
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    async def arrival(self) -> int:
        """Waits (off the event loop) until a fetch reaches the provider; returns its number."""
        return await asyncio.to_thread(self.arrivals.get, timeout=HOLD_LIMIT_S)

    def __enter__(self) -> HeldProvider:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()


@pytest.fixture
def provider() -> Iterator[HeldProvider]:
    with HeldProvider() as provider:
        yield provider


def bearer(kid: str) -> str:
    return f"Bearer {rs256(claims(), kid=kid, key=kid)}"


T1 = Identity("t-1", "traveler")


async def test_a_known_key_is_answered_while_the_refresh_is_held(provider: HeldProvider) -> None:
    clock = Clock()
    rs = JWKSVerifier(provider.url, clock=clock)
    assert await identify(bearer("k1"), rs) == T1
    assert await provider.arrival() == 1
    provider.hold()
    provider.keys = [jwk("k1"), jwk("k2")]  # what the refresh will bring
    clock.now += 600  # the keys held are now older than the TTL

    assert await identify(bearer("k1"), rs) == T1  # answered; the refresh starts behind it
    assert await provider.arrival() == 2  # the refresh is at the provider, held there
    assert await identify(bearer("k1"), rs) == T1  # answered while the refresh is held
    assert (provider.fetches, provider.answered) == (2, 1)  # one refresh, still unanswered

    rotated = asyncio.create_task(identify(bearer("k2"), rs))  # unknown: waits for that refresh
    await asyncio.sleep(0)
    assert not rotated.done()
    provider.release()
    assert await rotated == T1  # had a request waited for the held refresh, it would have
    assert provider.fetches == 2  # timed out, and k2 would be "keys unavailable"
    await rs.aclose()


async def test_an_unknown_key_fetches_once_however_many_wait(provider: HeldProvider) -> None:
    clock = Clock()
    rs = JWKSVerifier(provider.url, clock=clock)
    assert await identify(bearer("k1"), rs) == T1
    assert await provider.arrival() == 1
    provider.hold()
    provider.keys = [jwk("k1"), jwk("k2")]
    clock.now += MIN_REFETCH_S  # a fetch for an unknown key is allowed again

    waiting = [asyncio.create_task(identify(bearer("k2"), rs)) for _ in range(20)]
    stranger = asyncio.create_task(identify(bearer("k9"), rs))  # unknown to the provider too
    known = await identify(bearer("k1"), rs)  # a known key goes past the queue
    assert await provider.arrival() == 2
    assert known == T1
    assert not any(task.done() for task in [*waiting, stranger])  # all wait for that fetch
    waiting[0].cancel()  # a caller that gives up does not cancel the fetch the others share
    provider.release()

    assert await asyncio.gather(*waiting[1:]) == [T1] * 19
    assert await stranger == Identity(traveler_id=None, role=None, refusal="unknown key")
    assert waiting[0].cancelled()
    assert provider.fetches == 2
    assert await identify(bearer("k9"), rs) == Identity(None, None, refusal="unknown key")
    assert provider.fetches == 2  # rate limited: no fetch within MIN_REFETCH_S of the last
    await rs.aclose()
