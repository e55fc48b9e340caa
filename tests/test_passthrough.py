from __future__ import annotations

from gateway.passthrough import forward_headers, response_headers


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


def test_response_headers_keep_repeated_ones_and_drop_hop_by_hop() -> None:
    backend = [
        ("Content-Type", "application/json"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("Connection", "close"),
        ("Transfer-Encoding", "chunked"),
        ("Content-Length", "9"),
    ]
    assert response_headers(backend) == [
        (b"content-type", b"application/json"),
        (b"set-cookie", b"a=1"),
        (b"set-cookie", b"b=2"),
    ]
