from __future__ import annotations

from gateway.identity import Identity
from gateway.passthrough.headers import forward_headers, response_headers
from gateway.passthrough.incoming import Incoming
from gateway.routing.select import Caller


def test_forward_headers_drops_hop_by_hop_and_extends_the_forwarded_chain() -> None:
    headers = [
        ("Host", "gateway.example"),
        ("Connection", "keep-alive, X-Secret-Hop"),
        ("X-Secret-Hop", "1"),
        ("Accept", "application/json"),
        ("Authorization", "Bearer t"),
        ("X-Forwarded-For", "203.0.113.7"),
        ("X-Route-Target", "flights"),
        ("Transfer-Encoding", "chunked"),
        ("Content-Length", "12"),
        ("X-Request-Id", "old"),
    ]
    assert forward_headers(headers, client_addr="10.0.0.2", scheme="https", request_id="r-1") == [
        ("accept", "application/json"),
        ("authorization", "Bearer t"),
        ("x-forwarded-for", "203.0.113.7, 10.0.0.2"),
        ("x-forwarded-proto", "https"),
        ("x-request-id", "r-1"),
    ]


def test_forward_headers_without_a_client_address_or_chain() -> None:
    assert forward_headers([], client_addr=None, scheme="http", request_id="r") == [
        ("x-forwarded-proto", "http"),
        ("x-request-id", "r"),
    ]


BACKEND_ANSWER = [
    (b"Content-Type", b"application/json"),
    (b"Set-Cookie", b"a=1"),
    (b"Set-Cookie", b"b=2"),
    (b"Connection", b"close"),
    (b"Transfer-Encoding", b"chunked"),
    (b"Content-Length", b"9"),
    (b"Date", b"Mon, 30 Nov 2026 04:00:00 GMT"),
    (b"Server", b"uvicorn"),
    (b"Cache-Control", b"public, max-age=60"),
]


def test_private_answers_drop_hop_by_hop_date_server_and_caching_keep_the_rest() -> None:
    assert response_headers(BACKEND_ANSWER, public=False) == [
        (b"content-type", b"application/json"),
        (b"set-cookie", b"a=1"),
        (b"set-cookie", b"b=2"),
        (b"content-length", b"9"),
        (b"cache-control", b"private, no-store"),
    ]


def test_public_answers_keep_the_backends_cache_control() -> None:
    assert response_headers(BACKEND_ANSWER, public=True) == [
        (b"content-type", b"application/json"),
        (b"set-cookie", b"a=1"),
        (b"set-cookie", b"b=2"),
        (b"content-length", b"9"),
        (b"cache-control", b"public, max-age=60"),
    ]


def test_one_caller_value_carries_the_request_from_the_scope_to_the_route_decision() -> None:
    """The passthrough's route decision and its owner lookups route for the same `Caller`
    (cookies included: a cookie-sticky canary sends both to the same backend)."""
    scope = {
        "method": "get",
        "headers": [
            (b"authorization", b"Bearer t"),
            (b"cookie", b"session=s-1; theme=dark"),
            (b"x-canary-key", b"k"),
        ],
        "client": ("10.0.0.2", 5000),
        "query_string": b"ids=fl-1",
    }
    incoming = Incoming.from_scope(scope, "/api/flights")
    assert incoming.caller == Caller(
        authorization="Bearer t",
        client_addr="10.0.0.2",
        headers={
            "authorization": "Bearer t",
            "cookie": "session=s-1; theme=dark",
            "x-canary-key": "k",
        },
        cookies={"session": "s-1", "theme": "dark"},
    )
    identified = incoming.identified(Identity(traveler_id="t-7", role="traveler"))
    assert identified.caller == incoming.caller.identified("t-7", "traveler")
    assert (identified.method, identified.target) == ("GET", "/api/flights?ids=fl-1")
