"""Who a request counts against: the signed-in traveler or agent, else the client address.

    caller_key(Identity("t-1", "traveler"), "203.0.113.9")   -> "sub:t-1"
    caller_key(ANONYMOUS, "203.0.113.9")                      -> "addr:203.0.113.9"

The address is the hop the gateway can trust, never a client-supplied X-Forwarded-For:

- uvicorn: the TCP peer (uvicorn rewrites it from X-Forwarded-For only for peers listed in
  `--forwarded-allow-ips`, by default 127.0.0.1);
- Lambda behind API Gateway (REST or HTTP API) through Mangum: `scope["client"]` is
  `requestContext.identity.sourceIp` / `requestContext.http.sourceIp`, the peer API Gateway
  itself saw;
- behind an ALB, Mangum puts the whole X-Forwarded-For there: only its last entry, the one
  the ALB appended, is trusted;
- behind CloudFront the peer is an edge server, shared by many viewers: set
  `GATEWAY_CLIENT_ADDRESS_HEADER=cloudfront-viewer-address` (CloudFront writes that header
  itself) and let only CloudFront reach the origin, or anyone could send the header.
"""

from __future__ import annotations

from gateway.asgi import Scope
from gateway.auth import Identity

CLOUDFRONT_VIEWER = "cloudfront-viewer-address"  # "ip:port", IPv6 unbracketed


def client_address(scope: Scope, *, header: str | None = None) -> str | None:
    if header is not None:
        wanted = header.encode("latin-1")
        for name, value in scope.get("headers", ()):
            if name == wanted and value.strip():
                return _from_header(header, value.decode("latin-1").strip())
    client = scope.get("client")
    if not client or not client[0]:
        return None
    return str(client[0]).rsplit(",", 1)[-1].strip() or None


def _from_header(header: str, value: str) -> str:
    if header == CLOUDFRONT_VIEWER and ":" in value:
        return value.rsplit(":", 1)[0]  # drop the port
    return value


def caller_key(identity: Identity, address: str | None) -> str:
    if identity.traveler_id is not None:
        return f"sub:{identity.traveler_id}"
    return f"addr:{address or 'unknown'}"
