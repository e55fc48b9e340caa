"""Which headers cross the passthrough, each way (pure).

Requests keep everything but hop-by-hop headers and the gateway's own routing override, and
gain X-Forwarded-For / X-Forwarded-Proto / X-Request-Id. Answers keep everything but
hop-by-hop headers (their Content-Length stays: the body passes byte for byte) and the
backend's `date` and `server` (the gateway's server sends its
own; two of each confuse caches and clients), and carry `Cache-Control: private, no-store`
unless the route is public.
"""

from __future__ import annotations

from collections.abc import Iterable

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
NOT_FORWARDED = HOP_BY_HOP | {"x-route-target"}
# The body passes byte for byte (no decompression), so the backend's Content-Length holds.
NOT_RETURNED = (HOP_BY_HOP - {"content-length"}) | {"date", "server"}
NOT_RETURNED_RAW = frozenset(name.encode() for name in NOT_RETURNED)
NOT_RETURNED_PRIVATE = NOT_RETURNED_RAW | {b"cache-control"}
PRIVATE = (b"cache-control", b"private, no-store")


def forward_headers(
    headers: Iterable[tuple[str, str]], *, client_addr: str | None, scheme: str, request_id: str
) -> list[tuple[str, str]]:
    """The request headers a backend gets.

    [("Host", "gw"), ("Accept", "*/*"), ("X-Forwarded-For", "10.0.0.1")], client 10.0.0.2
      → [("accept", "*/*"), ("x-forwarded-for", "10.0.0.1, 10.0.0.2"),
         ("x-forwarded-proto", "http"), ("x-request-id", "...")]
    """
    headers = [(k.lower(), v) for k, v in headers]
    connection_listed = {
        h.strip().lower() for k, v in headers if k == "connection" for h in v.split(",")
    }
    kept = [(k, v) for k, v in headers if k not in NOT_FORWARDED and k not in connection_listed]
    chain = [v for k, v in kept if k == "x-forwarded-for"]
    kept = [
        (k, v) for k, v in kept if k not in ("x-forwarded-for", "x-forwarded-proto", "x-request-id")
    ]
    forwarded_for = ", ".join([*chain, client_addr] if client_addr else chain)
    if forwarded_for:
        kept.append(("x-forwarded-for", forwarded_for))
    kept += [("x-forwarded-proto", scheme), ("x-request-id", request_id)]
    return kept


def response_headers(
    headers: Iterable[tuple[bytes, bytes]], *, public: bool
) -> list[tuple[bytes, bytes]]:
    """The backend's answer headers as the client gets them; repeated ones (Set-Cookie) kept.
    The request's `x-request-id` replaces any the backend sent in the observability layer,
    which puts it on every answer."""
    dropped = NOT_RETURNED_RAW if public else NOT_RETURNED_PRIVATE
    kept = [(k.lower(), v) for k, v in headers if k.lower() not in dropped]
    if not public:
        kept.append(PRIVATE)
    return kept
