"""RS256 tokens checked against the key set an identity provider publishes (Cognito:
`https://cognito-idp.<region>.amazonaws.com/<pool id>/.well-known/jwks.json`).

The key set is the one external system here; its failures (httpx errors, bad JSON, no usable
key) are translated once, in `JWKSVerifier._refresh`, and only ever refuse a token.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    import jwt

from gateway.identity import ClaimRules, InvalidTokenError, refusal_reason

logger = logging.getLogger(__name__)

MIN_REFETCH_S = 30.0  # tokens naming unknown `kid`s must not turn into a flood of fetches


class JWKSVerifier:
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
        self._rules = ClaimRules(issuer=issuer, audience=audience, leeway_s=leeway_s)
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None  # last successful fetch
        self._attempted_at: float | None = None  # last fetch, successful or not
        self._last_failed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: httpx.AsyncClient | None = None
        self._lock: asyncio.Lock | None = None

    async def claims(self, token: str) -> Mapping[str, Any]:
        key = await self._key(rs256_kid(token))
        return self._rules.decode(token, key, algorithm="RS256")

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _key(self, kid: str) -> jwt.PyJWK:
        fresh = self._fetched_at is not None and self._clock() - self._fetched_at < self._ttl_s
        if fresh and (key := self._keys.get(kid)) is not None:
            return key
        client, lock = self._bind_to_running_loop()
        async with lock:  # the first caller fetches; the others find the keys it stored
            if self._fetch_due(kid, self._clock()):
                await self._refresh(client)
        if (key := self._keys.get(kid)) is not None:
            return key  # possibly stale: the provider being down should not log everyone out
        raise InvalidTokenError("keys unavailable" if self._last_failed else "unknown key")

    def _fetch_due(self, kid: str, now: float) -> bool:
        if self._attempted_at is not None and now - self._attempted_at < MIN_REFETCH_S:
            return False
        stale = self._fetched_at is None or now - self._fetched_at >= self._ttl_s
        return stale or kid not in self._keys

    def _bind_to_running_loop(self) -> tuple[httpx.AsyncClient, asyncio.Lock]:
        # A client and a lock belong to one event loop; a new loop gets new ones.
        loop = asyncio.get_running_loop()
        if self._client is None or self._lock is None or self._loop is not loop:
            self._client = httpx.AsyncClient(transport=self._transport, timeout=5.0)
            self._lock = asyncio.Lock()
            self._loop = loop
        return self._client, self._lock

    async def _refresh(self, client: httpx.AsyncClient) -> None:
        self._attempted_at = self._clock()
        try:
            response = await client.get(self._url)
            response.raise_for_status()
            keys = parse_jwks(response.json())
        except (httpx.HTTPError, ValueError) as error:  # a JSON decode error is a ValueError
            logger.warning("fetching the JWKS from %s failed: %r", self._url, error)
            self._last_failed = True
            return
        self._keys, self._fetched_at, self._last_failed = keys, self._attempted_at, False


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
