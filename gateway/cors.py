"""CORS for browser apps on other origins: `GATEWAY_CORS_ORIGINS`, exact origins only.

    decide(policy, method="OPTIONS", path="/graphql/web", origin="https://app.example",
           request_method="POST")              -> Preflight(204, allow headers)
    decide(policy, method="POST", path="/api/trips", origin="https://app.example", ...)
                                                 -> Annotate(allow-origin, expose, vary)
    decide(policy, method="POST", path="/api/trips", origin="https://evil.example", ...)
                                                 -> Annotate(vary only)

Only `/graphql/*` and `/api/*` take part. Credentials are never allowed: identity travels in
`Authorization`, which a browser never attaches by itself, so there is nothing ambient for
another site to borrow (docs/browsers.md). A preflight from an origin not on the list answers
403 without allow headers and never reaches the app or the monolith. With no origins
configured the middleware steps aside entirely: no CORS headers, no `Vary: Origin`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.asgi import ASGIApp, Message, Receive, Scope, Send

Headers = tuple[tuple[bytes, bytes], ...]

PATHS = ("/graphql/", "/api/")
GRAPHQL_METHODS = b"GET, POST"
REST_METHODS = b"GET, POST, PUT, PATCH, DELETE"
ALLOW_HEADERS = (
    b"authorization, content-type, idempotency-key, x-request-id, "
    b"apollographql-client-name, apollographql-client-version, "
    b"apollo-require-preflight, x-apollo-operation-name"
)
EXPOSE_HEADERS = b"x-request-id, retry-after, idempotent-replayed, x-cache, etag"
MAX_AGE_S = 600  # Chromium caps preflight caching at 2 h; 10 min keeps a policy change quick
VARY = (b"vary", b"Origin")

# scheme://host[:port], lower case, nothing after: what a browser sends in `Origin`.
_ORIGIN = re.compile(r"https?://(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?")


@dataclass(frozen=True, slots=True)
class CorsPolicy:
    origins: frozenset[str]


@dataclass(frozen=True, slots=True)
class Preflight:
    """Answered by the gateway itself; the app never sees the OPTIONS request."""

    status: int
    headers: Headers


@dataclass(frozen=True, slots=True)
class Annotate:
    """Added to the app's own answer (any `access-control-*` it set is dropped first)."""

    headers: Headers


def parse_origins(text: str) -> tuple[str, ...]:
    """`"https://a.example, http://localhost:5173"` → both; `""` → (). A wildcard, a path or a
    trailing slash raises ValueError: an exact list is the whole point."""
    origins = tuple(part.strip() for part in text.split(",") if part.strip())
    for origin in origins:
        if not _ORIGIN.fullmatch(origin):
            raise ValueError(
                f"{origin!r} is not an exact origin: write scheme://host[:port] in lower case, "
                "without a path or trailing slash (e.g. https://app.example.com); "
                "wildcards are not accepted"
            )
    return origins


def decide(
    policy: CorsPolicy,
    *,
    method: str,
    path: str,
    origin: str | None,
    request_method: str | None,
) -> Preflight | Annotate | None:
    """None: the path takes no part in CORS (the answer is left as the app makes it)."""
    if not path.startswith(PATHS):
        return None
    allowed = origin is not None and origin in policy.origins
    if method == "OPTIONS" and origin is not None and request_method is not None:
        if not allowed:
            return Preflight(403, (VARY,))
        methods = GRAPHQL_METHODS if path.startswith("/graphql/") else REST_METHODS
        return Preflight(
            204,
            (
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-allow-methods", methods),
                (b"access-control-allow-headers", ALLOW_HEADERS),
                (b"access-control-max-age", str(MAX_AGE_S).encode()),
                VARY,
            ),
        )
    if not allowed:
        return Annotate((VARY,))
    assert origin is not None
    return Annotate(
        (
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-expose-headers", EXPOSE_HEADERS),
            VARY,
        )
    )


def annotated(headers: list[tuple[bytes, bytes]], extra: Headers) -> list[tuple[bytes, bytes]]:
    """The app's headers with ours: a backend's own `access-control-*` never gets through,
    and `Origin` joins an existing `Vary` rather than adding a second one."""
    kept = [(k, v) for k, v in headers if not k.lower().startswith(b"access-control-")]
    for name, value in extra:
        if name == b"vary":
            kept = _with_vary(kept, value)
        else:
            kept.append((name, value))
    return kept


def _with_vary(headers: list[tuple[bytes, bytes]], value: bytes) -> list[tuple[bytes, bytes]]:
    for index, (name, current) in enumerate(headers):
        if name.lower() == b"vary":
            names = [part.strip().lower() for part in current.split(b",")]
            if value.lower() not in names and b"*" not in names:
                headers[index] = (name, current + b", " + value)
            return headers
    return [*headers, (b"vary", value)]


class CorsMiddleware:
    """Plain ASGI, outermost: preflights are answered before rate limits or routing."""

    def __init__(self, app: ASGIApp, *, origins: tuple[str, ...]) -> None:
        self.app = app
        self.policy = CorsPolicy(frozenset(origins))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.policy.origins:
            await self.app(scope, receive, send)
            return
        origin = request_method = None
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value.decode("latin-1")
            elif name == b"access-control-request-method":
                request_method = value.decode("latin-1")
        answer = decide(
            self.policy,
            method=scope["method"],
            path=scope["path"],
            origin=origin,
            request_method=request_method,
        )
        if answer is None:
            await self.app(scope, receive, send)
        elif isinstance(answer, Preflight):
            await _answer_preflight(send, answer)
        else:
            await self.app(scope, receive, _annotating(send, answer.headers))


def _annotating(send: Send, extra: Headers) -> Send:
    async def annotating_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = annotated(list(message.get("headers", [])), extra)
        await send(message)

    return annotating_send


async def _answer_preflight(send: Send, preflight: Preflight) -> None:
    headers = list(preflight.headers)
    if preflight.status != 204:  # a 204 must not carry Content-Length (RFC 9110 §8.6)
        headers += [(b"content-length", b"0"), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": preflight.status, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
