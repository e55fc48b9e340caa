"""Rate limits at the door, as plain ASGI ahead of the passthrough and the GraphQL endpoints.

Every request but `/healthz` and `/_gateway/*` takes a token from its caller's bucket
(`callers.py`); a refused one answers 429 with `Retry-After` and reaches nothing else:

    REST     {"error": "rate_limited", "message": "..."}
    GraphQL  {"errors": [{"message": "...", "extensions": {"code": "RATE_LIMITED"}}]}

The token is verified with the runtime's verifier, which remembers accepted tokens, so the
endpoint's own check of the same token right after costs a dictionary lookup.
"""

from __future__ import annotations

from typing import Any

import orjson

from gateway.asgi import ASGIApp, Receive, Scope, Send
from gateway.auth import TokenVerifier, identify
from gateway.ratelimit.bucket import Decision
from gateway.ratelimit.callers import caller_key, client_address
from gateway.ratelimit.limiter import RateLimiter

EXEMPT_PREFIXES = ("/_gateway/",)
EXEMPT_PATHS = frozenset({"/healthz"})


def is_exempt(path: str) -> bool:
    return path in EXEMPT_PATHS or path.startswith(EXEMPT_PREFIXES)


def refusal_body(path: str, decision: Decision) -> dict[str, Any]:
    message = f"Too many requests; retry in {decision.retry_after_s} s."
    if path.startswith("/graphql"):
        return {"errors": [{"message": message, "extensions": {"code": "RATE_LIMITED"}}]}
    return {"error": "rate_limited", "message": message}


class RateLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: RateLimiter,
        verifier: TokenVerifier,
        address_header: str | None = None,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.verifier = verifier
        self.address_header = address_header

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        decision = await self.limiter.take(await self._caller(scope))
        if decision.allowed:
            await self.app(scope, receive, send)
        else:
            await _refuse(send, scope["path"], decision)

    async def _caller(self, scope: Scope) -> str:
        authorization = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), None
        )
        identity = await identify(authorization, self.verifier)
        return caller_key(identity, client_address(scope, header=self.address_header))


async def _refuse(send: Send, path: str, decision: Decision) -> None:
    body = orjson.dumps(refusal_body(path, decision))
    headers = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"private, no-store"),
        (b"retry-after", str(decision.retry_after_s).encode()),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})
