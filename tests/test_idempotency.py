"""Idempotent retries, in process: the pure decisions, the record codec, the process's store,
the Redis store on a real redis-server, and the middleware around a tiny inline app."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from gateway.asgi import Receive, Scope, Send
from gateway.auth import HS256Verifier, issue_dev_token
from gateway.idempotency import IdempotencyMiddleware, IdempotencyStore
from gateway.idempotency.decisions import (
    KeyRefused,
    Replay,
    Verdict,
    covered,
    decide,
    finished,
    graphql_intent,
    parse_key,
    replayed_headers,
    rest_intent,
    store_key,
)
from gateway.idempotency.memory import MemoryStore
from gateway.idempotency.records import Answer, Finished, Running, decode, encode
from gateway.idempotency.redis_store import IdempotencyRedis
from tests.support.redis_server import (
    RedisServer,
    redis_server_fixture,  # noqa: F401
    redis_session_server_fixture,  # noqa: F401
)

SECRET = "unit-secret-0123456789abcdef0123456789abcdef"
JSON = "application/json"
BOOK = 'mutation Book($t: String!) { bookTrip(input: {travelerId: "t-1", title: $t}) { id } }'
ANSWER = Answer(201, (("content-type", JSON),), b'{"id":"trip-9"}')

# -- decisions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "key"),
    [(["abc-123"], "abc-123"), (['"8e03978e-40d5"'], "8e03978e-40d5"), (["x" * 255], "x" * 255)],
)
def test_a_key_is_one_to_255_visible_characters_quoted_or_not(values: list[str], key: str) -> None:
    assert parse_key(values) == key


@pytest.mark.parametrize("values", [[""], ['""'], ["a b"], ["x" * 256], ["é"], ["a", "b"], []])
def test_anything_else_is_refused(values: list[str]) -> None:
    with pytest.raises(KeyRefused):
        parse_key(values)


def test_writes_through_the_passthrough_and_graphql_posts_take_part() -> None:
    assert [covered(m, "/api/trips") for m in ("POST", "PUT", "PATCH", "DELETE", "GET")] == [
        "rest",
        "rest",
        "rest",
        "rest",
        None,
    ]
    assert covered("POST", "/graphql/web") == "graphql"
    assert covered("GET", "/graphql/web") is None
    assert covered("POST", "/healthz") is None


def test_the_store_key_is_per_caller_and_role() -> None:
    keys = {
        store_key(subject="t-1", role="traveler", key="k"),
        store_key(subject="t-2", role="traveler", key="k"),
        store_key(subject="t-1", role="agent", key="k"),
        store_key(subject="t-1", role="traveler", key="k2"),
    }
    assert len(keys) == 4


def test_a_rest_fingerprint_covers_method_path_query_type_and_body() -> None:
    base = rest_intent("POST", "/api/trips", "", JSON, b"{}")
    assert base.kind == "rest"
    assert base == rest_intent("POST", "/api/trips", "", JSON, b"{}")
    others = [
        rest_intent("PUT", "/api/trips", "", JSON, b"{}"),
        rest_intent("POST", "/api/trip", "", JSON, b"{}"),
        rest_intent("POST", "/api/trips", "a=1", JSON, b"{}"),
        rest_intent("POST", "/api/trips", "", "text/plain", b"{}"),
        rest_intent("POST", "/api/trips", "", JSON, b"{ }"),
    ]
    assert base.fingerprint not in {o.fingerprint for o in others}


def gql(**payload: Any) -> bytes:
    return json.dumps(payload).encode()


def test_only_mutations_take_part_in_graphql() -> None:
    mutation = graphql_intent("/graphql/web", gql(query=BOOK, variables={"t": "x"}), JSON)
    assert mutation is not None and mutation.kind == "graphql"
    assert graphql_intent("/graphql/web", gql(query="{ me { id } }"), JSON) is None
    assert graphql_intent("/graphql/web", gql(query="mutation {"), JSON) is None
    assert graphql_intent("/graphql/web", b"not json", JSON) is None
    assert graphql_intent("/graphql/web", gql(query=BOOK), "text/plain") is None


def test_the_operation_name_picks_the_operation() -> None:
    both = f"query Me {{ me {{ id }} }} {BOOK}"
    assert graphql_intent("/graphql/web", gql(query=both, operationName="Me"), JSON) is None
    assert graphql_intent("/graphql/web", gql(query=both, operationName="Book"), JSON)
    assert graphql_intent("/graphql/web", gql(query=both), JSON) is None  # ambiguous


def test_a_graphql_fingerprint_is_the_document_its_variables_and_the_schema() -> None:
    def fp(path: str = "/graphql/web", **payload: Any) -> str | None:
        intent = graphql_intent(path, gql(**payload), JSON)
        return intent.fingerprint if intent else None

    base = fp(query=BOOK, variables={"t": "x", "u": 1})
    assert base == fp(query=BOOK, variables={"u": 1, "t": "x"})  # key order is not meaning
    assert base != fp(query=BOOK, variables={"t": "y", "u": 1})
    assert base != fp("/graphql/mobile", query=BOOK, variables={"t": "x", "u": 1})


def test_apq_hash_only_and_its_retry_with_the_text_are_one_request() -> None:
    import hashlib

    sha = hashlib.sha256(BOOK.encode()).hexdigest()
    ext = {"persistedQuery": {"version": 1, "sha256Hash": sha}}
    hash_only = graphql_intent("/graphql/web", gql(extensions=ext, variables={"t": "x"}), JSON)
    with_text = graphql_intent(
        "/graphql/web", gql(query=BOOK, extensions=ext, variables={"t": "x"}), JSON
    )
    plain = graphql_intent("/graphql/web", gql(query=BOOK, variables={"t": "x"}), JSON)
    assert hash_only is not None and with_text is not None and plain is not None
    assert hash_only.fingerprint == with_text.fingerprint == plain.fingerprint


def test_the_verdicts() -> None:
    assert decide(None, "fp") is Verdict.PROCEED
    assert decide(Running("fp", "me"), "fp") is Verdict.IN_USE
    assert decide(Finished("fp", ANSWER), "fp") == Replay(ANSWER)
    assert decide(Running("other", "me"), "fp") is Verdict.REUSED
    assert decide(Finished("other", ANSWER), "fp") is Verdict.REUSED


@pytest.mark.parametrize(
    ("status", "kept"),
    [
        (200, True),
        (201, True),
        (404, True),
        (409, True),
        (422, True),
        (429, False),
        (408, False),
        (500, False),
        (502, False),
        (504, False),
    ],
)
def test_final_rest_answers_are_kept_and_others_released(status: int, kept: bool) -> None:
    answer = Answer(status, (), b"{}")
    assert (finished("rest", answer, fingerprint="fp") is not None) is kept


def errors(*codes: str | None, path: list[str] | None = None) -> bytes:
    listed = [
        {"message": "m", "path": path, **({"extensions": {"code": c}} if c else {})} for c in codes
    ]
    return json.dumps({"errors": listed, "data": None}).encode()


@pytest.mark.parametrize(
    ("body", "kept"),
    [
        (b'{"data":{"bookTrip":{"id":"trip-1"}}}', True),
        (errors("BAD_USER_INPUT", path=["bookTrip"]), True),
        (errors("FORBIDDEN", "CONFLICT", path=["bookTrip"]), True),
        (errors(None), True),  # a validation error: the same next time
        (errors("BACKEND_TIMEOUT", path=["bookTrip"]), False),
        (errors("BACKEND_UNAVAILABLE", path=["bookTrip"]), False),
        (errors("INTERNAL_SERVER_ERROR", path=["bookTrip"]), False),
        (errors("PERSISTED_QUERY_NOT_FOUND"), False),
        (errors("RATE_LIMITED"), False),
        (errors(None, path=["bookTrip"]), False),
        (errors("CONFLICT", "BACKEND_TIMEOUT", path=["bookTrip"]), False),
        (b"not json", False),
    ],
)
def test_graphql_answers_are_kept_only_when_every_error_is_final(body: bytes, kept: bool) -> None:
    answer = Answer(200, (), body)
    assert (finished("graphql", answer, fingerprint="fp") is not None) is kept


def test_only_the_headers_of_the_answer_itself_are_replayed() -> None:
    raw = [(b"Content-Type", b"application/json"), (b"date", b"x"), (b"x-request-id", b"r")]
    raw += [(b"location", b"/api/trips/trip-9"), (b"set-cookie", b"a=b")]
    assert replayed_headers(raw) == (
        ("content-type", "application/json"),
        ("location", "/api/trips/trip-9"),
    )


# -- records ------------------------------------------------------------------------------


def test_records_round_trip_through_bytes() -> None:
    binary = Answer(200, (("content-type", "application/octet-stream"),), b"\n\x00\xff{")
    for record in (Running("fp", "owner"), Finished("fp", ANSWER), Finished("fp", binary)):
        assert decode(encode(record)) == record
    assert decode(b"") is None
    assert decode(b"F{not json") is None
    assert decode(b'R{"fp": 1, "owner": "x"}') is None


# -- the process's store ------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_claim_holds_the_key_until_finished_released_or_expired() -> None:
    clock = Clock()
    store = MemoryStore(clock=clock)
    mine, theirs = Running("fp", "a"), Running("fp", "b")
    assert store.claim("k", mine, lease_ms=60_000) is None
    assert store.claim("k", theirs, lease_ms=60_000) == mine
    store.release("k", theirs)  # not theirs to release
    assert store.peek("k") == mine
    store.release("k", mine)
    assert store.claim("k", theirs, lease_ms=60_000) is None
    clock.now += 61
    assert store.claim("k", mine, lease_ms=60_000) is None  # the lease ran out
    store.finish("k", encode(Finished("fp", ANSWER)), ttl_s=86_400)
    assert store.claim("k", theirs, lease_ms=60_000) == Finished("fp", ANSWER)
    clock.now += 86_401
    assert store.peek("k") is None


def test_the_process_store_is_bounded_least_recently_used_first() -> None:
    store = MemoryStore(max_entries=2)
    for key in ("a", "b"):
        store.claim(key, Running("fp", key), lease_ms=60_000)
    store.peek("a")  # used: "b" is now the oldest
    store.claim("c", Running("fp", "c"), lease_ms=60_000)
    assert [store.peek(k) is not None for k in ("a", "b", "c")] == [True, False, True]

    raw = encode(Finished("fp", Answer(200, (), b"x" * 100)))
    small = MemoryStore(max_bytes=len(raw) * 2)
    for key in ("a", "b", "c"):
        small.finish(key, raw, ttl_s=60)
    assert len(small) == 2 and small.size_bytes == 2 * len(raw)
    small.finish("huge", b"F" + b"x" * len(raw) * 3, ttl_s=60)  # larger than the whole budget
    assert small.peek("huge") is None


# -- Redis, real -----------------------------------------------------------------------------


@pytest.mark.redis
async def test_redis_holds_the_marker_then_the_answer_for_a_day(redis_server: RedisServer) -> None:
    store = IdempotencyRedis(redis_server.url, timeout_s=0.5)
    mine, theirs = Running("fp", "a"), Running("fp", "b")
    try:
        assert await store.claim("k", mine, lease_ms=60_000) is not None  # CLAIMED
        assert await store.claim("k", theirs, lease_ms=60_000) == mine
        with redis_server.client() as r:
            assert 0 < int(r.pttl("k")) <= 60_000
        await store.release("k", theirs)
        assert await store.claim("k", theirs, lease_ms=60_000) == mine
        assert await store.finish("k", encode(Finished("fp", ANSWER)), ttl_s=86_400)
        assert await store.claim("k", theirs, lease_ms=60_000) == Finished("fp", ANSWER)
        with redis_server.client() as r:
            assert 86_000 < int(r.ttl("k")) <= 86_400
    finally:
        await store.aclose()


async def test_a_dead_redis_answers_none_and_the_store_falls_back() -> None:
    from tests.support.redis_server import free_port

    dead = IdempotencyRedis(f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.1)
    store = IdempotencyStore(MemoryStore(), dead)
    assert await dead.claim("k", Running("fp", "x"), lease_ms=1000) is None
    mine = Running("fp", "a")
    assert await store.claim("k", mine) is None
    assert await store.claim("k", Running("fp", "b")) == mine  # the process's store answers
    assert store.fallbacks >= 1
    await store.finish("k", Finished("fp", ANSWER))
    assert await store.claim("k", Running("fp", "b")) == Finished("fp", ANSWER)
    await dead.aclose()


# -- the middleware around a tiny app ---------------------------------------------------------


class Backend:
    """A tiny ASGI app standing in for the passthrough and GraphQL: counts its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.status = 201
        self.body = b'{"id":"trip-9"}'
        self.gate: asyncio.Event | None = None
        self.started = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        self.calls += 1
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        body = self.body if scope["path"].startswith("/api/") else _graphql_answer(message)
        headers = [(b"content-type", b"application/json"), (b"x-request-id", b"r1")]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": body[:3], "more_body": True})
        await send({"type": "http.response.body", "body": body[3:]})


def _graphql_answer(message: Any) -> bytes:
    sent = json.loads(message["body"])
    return json.dumps({"data": {"echo": sent.get("variables")}}).encode()


def client(backend: Backend, store: IdempotencyStore | None = None) -> httpx.AsyncClient:
    app = IdempotencyMiddleware(
        backend,
        verifier=HS256Verifier(SECRET),
        store=store or IdempotencyStore(MemoryStore()),
        max_body_bytes=4096,
        max_answer_bytes=1024,
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")


def auth(sub: str = "qa-1", role: str = "agent", key: str | None = "k-1") -> dict[str, str]:
    token = issue_dev_token(sub, role=role, secret=SECRET)  # type: ignore[arg-type]
    headers = {"authorization": f"Bearer {token}"}
    return {**headers, "idempotency-key": key} if key else headers


async def test_a_retried_write_replays_the_first_answer_without_the_backend() -> None:
    backend = Backend()
    async with client(backend) as c:
        first = await c.post("/api/trips", json={"title": "A"}, headers=auth())
        second = await c.post("/api/trips", json={"title": "A"}, headers=auth())
    assert backend.calls == 1
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.content == first.content == b'{"id":"trip-9"}'
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert second.headers["content-type"] == "application/json"
    assert "x-request-id" not in second.headers


async def test_keys_are_per_caller_and_requests_without_a_key_pass() -> None:
    backend = Backend()
    async with client(backend) as c:
        await c.post("/api/trips", json={}, headers=auth("qa-1"))
        other = await c.post("/api/trips", json={}, headers=auth("qa-2"))
        plain = await c.post("/api/trips", json={}, headers=auth(key=None))
        read = await c.get("/api/trips/trip-1", headers=auth())
    assert backend.calls == 4
    assert all("idempotent-replayed" not in a.headers for a in (other, plain, read))


async def test_anonymous_callers_pass_untouched_and_are_not_stored() -> None:
    backend = Backend()
    store = IdempotencyStore(MemoryStore())
    async with client(backend, store) as c:
        for _ in range(2):
            await c.post("/api/trips", json={}, headers={"idempotency-key": "k"})
        await c.post("/api/trips", json={}, headers={"idempotency-key": "k", "authorization": "x"})
    assert backend.calls == 3 and len(store.memory) == 0


async def test_a_reused_key_with_another_body_is_422_in_the_clients_shape() -> None:
    backend = Backend()
    async with client(backend) as c:
        await c.post("/api/trips", json={"title": "A"}, headers=auth())
        rest = await c.post("/api/trips", json={"title": "B"}, headers=auth())
        mutation = {"query": BOOK, "variables": {"t": "A"}}
        await c.post("/graphql/web", json=mutation, headers=auth(key="g"))
        mutation["variables"] = {"t": "B"}
        graphql = await c.post("/graphql/web", json=mutation, headers=auth(key="g"))
    assert backend.calls == 2
    assert rest.status_code == 422
    assert rest.json()["error"] == "idempotency_key_reused"
    assert graphql.status_code == 422
    assert graphql.json()["errors"][0]["extensions"] == {"code": "IDEMPOTENCY_KEY_REUSED"}


async def test_a_malformed_key_is_400() -> None:
    backend = Backend()
    async with client(backend) as c:
        rest = await c.post("/api/trips", json={}, headers=auth(key="has space"))
        graphql = await c.post("/graphql/web", json={"query": BOOK}, headers=auth(key="x" * 300))
    assert backend.calls == 0
    assert (rest.status_code, rest.json()["error"]) == (400, "invalid_idempotency_key")
    assert graphql.json()["errors"][0]["extensions"]["code"] == "INVALID_IDEMPOTENCY_KEY"


async def test_a_duplicate_while_the_first_runs_is_409_and_the_first_still_completes() -> None:
    backend = Backend()
    backend.gate = asyncio.Event()
    async with client(backend) as c:
        first = asyncio.create_task(c.post("/api/trips", json={}, headers=auth()))
        await backend.started.wait()
        duplicate = await c.post("/api/trips", json={}, headers=auth())
        backend.gate.set()
        answered = await first
        again = await c.post("/api/trips", json={}, headers=auth())
    assert duplicate.status_code == 409
    assert duplicate.json()["error"] == "idempotency_key_in_use"
    assert answered.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert backend.calls == 1


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_an_answer_not_worth_keeping_releases_the_key(status: int) -> None:
    backend = Backend()
    backend.status = status
    store = IdempotencyStore(MemoryStore())
    async with client(backend, store) as c:
        for _ in range(2):
            answer = await c.post("/api/trips", json={}, headers=auth())
            assert "idempotent-replayed" not in answer.headers
    assert backend.calls == 2 and len(store.memory) == 0


async def test_an_answer_over_the_cap_is_passed_on_but_not_kept() -> None:
    backend = Backend()
    backend.body = b'"' + b"x" * 2000 + b'"'
    async with client(backend) as c:
        first = await c.post("/api/trips", json={}, headers=auth())
        await c.post("/api/trips", json={}, headers=auth())
    assert first.content == backend.body
    assert backend.calls == 2


async def test_graphql_queries_with_a_key_run_every_time() -> None:
    backend = Backend()
    async with client(backend) as c:
        for _ in range(2):
            await c.post("/graphql/web", json={"query": "{ me { id } }"}, headers=auth())
        for _ in range(2):
            answer = await c.post("/graphql/web", json={"query": BOOK}, headers=auth(key="m"))
    assert backend.calls == 3
    assert answer.headers["idempotent-replayed"] == "true"


async def test_a_body_over_the_limit_is_413_before_anything_runs() -> None:
    backend = Backend()
    async with client(backend) as c:
        answer = await c.post("/api/trips", content=b"x" * 5000, headers=auth())
    assert (answer.status_code, answer.json()["error"]) == (413, "payload_too_large")
    assert backend.calls == 0


async def test_an_app_that_fails_releases_the_key() -> None:
    calls = 0

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("boom")

    store = IdempotencyStore(MemoryStore())
    app = IdempotencyMiddleware(
        broken, verifier=HS256Verifier(SECRET), store=store, max_body_bytes=4096
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as c:
        for _ in range(2):
            await c.post("/api/trips", json={}, headers=auth())
    assert calls == 2 and len(store.memory) == 0
