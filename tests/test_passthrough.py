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


def test_the_token_is_verified_only_when_routing_depends_on_it() -> None:
    from gateway.passthrough import needs_identity
    from gateway.routing.table import parse_table

    table = parse_table(
        """version: 1
backends:
  legacy: {url: "http://legacy", timeout_ms: 1000}
  flights: {url: "http://flights", timeout_ms: 1000}
default: legacy
routes:
  - path: /api/flights/{id}
    target: legacy
    canary: {target: flights, percent: 10, sticky: traveler}
  - path: /api/flights
    target: legacy
    canary: {target: flights, percent: 10, sticky: random}
""",
        source="test.yaml",
        env={},
    )
    assert needs_identity(table, "GET", "/api/flights/fl-1", {}) is True
    assert needs_identity(table, "GET", "/api/flights", {}) is False
    assert needs_identity(table, "GET", "/api/trips/trip-1", {}) is False
    assert needs_identity(table, "GET", "/api/trips/trip-1", {"x-route-target": "flights"}) is True
