"""RS256 tokens checked against the key set an identity provider publishes (Cognito:
`https://cognito-idp.<region>.amazonaws.com/<pool id>/.well-known/jwks.json`).

The key set is the one external system here; its failures (httpx errors, bad JSON, no usable
key) are translated once, in `JWKSVerifier._refresh`, and only ever refuse a token that names
a key the gateway does not hold.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    import jwt

from gateway.identity import ClaimRules, InvalidTokenError, refusal_reason

logger = logging.getLogger(__name__)

# Cognito's id tokens (`token_use: id`) are for the app that signed the user in, not for
# calling APIs: only access tokens are accepted (docs/security.md, "Identity").
ACCEPTED_TOKEN_USE = "access"
MIN_REFETCH_S = 30.0  # tokens naming unknown `kid`s must not turn into a flood of fetches


class JWKSVerifier:
    """Keys are served from memory; the provider is asked again in two cases only.

    - a known `kid` whose key set is older than `ttl_s`: answered at once from the keys held,
      while one refresh runs in the background (a slow provider stalls no one);
    - an unknown `kid` (a rotation, or the very first request): waits for a fetch.

    At most one fetch runs at a time (every waiter shares it), and a new one starts at most
    every MIN_REFETCH_S. Keys that could not be refreshed keep serving: the provider being
    down should not log everyone out.
    """

    def __init__(
        self,
        jwks_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        ttl_s: float = 600,
        issuer: str | None = None,
        audience: str | None = None,
        leeway_s: int = 30,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if httpx.URL(jwks_url).scheme not in ("http", "https"):
            raise ValueError(f"GATEWAY_JWKS_URL must be an http(s) URL, not {jwks_url!r}")
        self._url = jwks_url
        self._transport = transport
        self._ttl_s = ttl_s
        self._clock = clock
        self._rules = ClaimRules(
            issuer=issuer, audience=audience, leeway_s=leeway_s, token_use=ACCEPTED_TOKEN_USE
        )
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None  # last successful fetch
        self._attempted_at: float | None = None  # last fetch started, successful or not
        self._last_failed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: httpx.AsyncClient | None = None
        self._fetch: asyncio.Task[None] | None = None  # the one fetch in flight, if any

    async def claims(self, token: str) -> Mapping[str, Any]:
        key = await self._key(rs256_kid(token))
        return self._rules.decode(token, key, algorithm="RS256")

    async def aclose(self) -> None:
        fetch, self._fetch = self._fetch, None
        if fetch is not None and not fetch.done() and fetch.get_loop() is self._loop:
            fetch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await fetch
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _key(self, kid: str) -> jwt.PyJWK:
        now = self._clock()
        if (key := self._keys.get(kid)) is not None:
            if self._stale(now) and self._may_fetch(now):
                self._start_fetch()  # not awaited: this request goes on with the key it has
            return key
        fetch = self._fetch_in_flight() or (self._start_fetch() if self._may_fetch(now) else None)
        if fetch is not None:
            # shielded: a caller that gives up must not cancel the fetch the others wait for
            await asyncio.shield(fetch)
        if (key := self._keys.get(kid)) is not None:
            return key
        raise InvalidTokenError("keys unavailable" if self._last_failed else "unknown key")

    def _stale(self, now: float) -> bool:
        return self._fetched_at is None or now - self._fetched_at >= self._ttl_s

    def _may_fetch(self, now: float) -> bool:
        return self._attempted_at is None or now - self._attempted_at >= MIN_REFETCH_S

    def _fetch_in_flight(self) -> asyncio.Task[None] | None:
        fetch = self._fetch
        if fetch is None or fetch.done() or fetch.get_loop() is not asyncio.get_running_loop():
            return None
        return fetch

    def _start_fetch(self) -> asyncio.Task[None]:
        if (running := self._fetch_in_flight()) is not None:
            return running
        # Synchronous up to create_task: no other request can slip in and start a second one.
        self._attempted_at = self._clock()
        self._fetch = asyncio.get_running_loop().create_task(self._refresh(self._bound_client()))
        return self._fetch

    def _bound_client(self) -> httpx.AsyncClient:
        # A client belongs to one event loop; a new loop (a new asyncio.run) gets a new one.
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = httpx.AsyncClient(transport=self._transport, timeout=5.0)
            self._loop = loop
        return self._client

    async def _refresh(self, client: httpx.AsyncClient) -> None:
        started = self._attempted_at
        try:
            response = await client.get(self._url)
            response.raise_for_status()
            keys = parse_jwks(response.json())
        except (httpx.HTTPError, ValueError) as error:  # a JSON decode error is a ValueError
            logger.warning("fetching the JWKS from %s failed: %r", self._url, error)
            self._last_failed = True
            return
        self._keys, self._fetched_at, self._last_failed = keys, started, False


def rs256_kid(token: str) -> str:
    """The `kid` of a token that claims RS256; refuses anything else before any key lookup."""
    import jwt

    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise InvalidTokenError(refusal_reason(error)) from None
    if header.get("alg") != "RS256":
        raise InvalidTokenError("unsupported algorithm")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise InvalidTokenError("unknown key")
    return kid


def parse_jwks(document: Any) -> dict[str, jwt.PyJWK]:
    """`{"keys": [{"kid": "k1", "kty": "RSA", "n": …, "e": …}, …]}` → `{"k1": PyJWK}`.

    Entries that are not RSA signing keys, or are broken, are skipped; no usable key at all is
    a `ValueError`.
    """
    import jwt

    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError("the JWKS document has no 'keys' list")
    keys: dict[str, jwt.PyJWK] = {}
    for entry in entries:
        if not isinstance(entry, dict) or not _is_rs256_signing_key(entry):
            continue
        try:
            keys[entry["kid"]] = jwt.PyJWK(entry, algorithm="RS256")
        except (jwt.PyJWTError, ValueError, TypeError):
            logger.warning("skipping an unusable key in the JWKS: kid=%r", entry["kid"])
    if not keys:
        raise ValueError("the JWKS document has no usable RS256 key")
    return keys


def _is_rs256_signing_key(entry: Mapping[str, Any]) -> bool:
    return (
        entry.get("kty") == "RSA"
        and isinstance(entry.get("kid"), str)
        and entry.get("use", "sig") == "sig"
        and entry.get("alg", "RS256") == "RS256"
    )
