"""Identity from `Authorization: Bearer <JWT>`: real tokens, a fake identity provider behind
`httpx.MockTransport`, and a hand-driven clock for the key cache."""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.auth import (
    ANONYMOUS,
    HS256Verifier,
    Identity,
    JWKSVerifier,
    VerifiedTokens,
    identify,
    issue_dev_token,
    verifier_from_settings,
)
from gateway.jwks import parse_jwks

SECRET = "test-secret-0123456789abcdef-0123456789"
JWKS_URL = "https://idp.example/.well-known/jwks.json"


def refused(reason: str) -> Identity:
    return Identity(traveler_id=None, role=None, refusal=reason)


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": "t-1", "iat": now, "exp": now + 3600} | overrides


def hs256(payload: dict[str, Any], secret: str = SECRET) -> str:
    return jwt.encode(payload, secret, algorithm="HS256")


@functools.cache
def rsa_key(name: str) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def rs256(payload: dict[str, Any], *, kid: str | None = "k1", key: str = "k1") -> str:
    headers = {} if kid is None else {"kid": kid}
    return jwt.encode(payload, rsa_key(key), algorithm="RS256", headers=headers)


def jwk(kid: str, key: str | None = None) -> dict[str, Any]:
    public = jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key(key or kid).public_key(), as_dict=True)
    return public | {"kid": kid, "use": "sig", "alg": "RS256"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def handmade(header: dict[str, Any], payload: dict[str, Any], sign: bytes | None) -> str:
    """A token PyJWT refuses to make: `alg: none`, or HMAC keyed with a public key."""
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}"
    signature = b"" if sign is None else hmac.digest(sign, signing_input.encode(), hashlib.sha256)
    return f"{signing_input}.{b64url(signature)}"


class IdentityProvider:
    """Serves a JWKS document and counts how often it is asked for it."""

    def __init__(self, *kids: str) -> None:
        self.keys = [jwk(kid) for kid in kids]
        self.fetches = 0
        self.status = 200
        self.body: bytes | None = None
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        assert str(request.url) == JWKS_URL
        self.fetches += 1
        if self.body is not None:
            return httpx.Response(self.status, content=self.body)
        return httpx.Response(self.status, json={"keys": self.keys})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def hs() -> HS256Verifier:
    return HS256Verifier(SECRET)


@pytest.fixture
def idp() -> IdentityProvider:
    return IdentityProvider("k1")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def rs(idp: IdentityProvider, clock: Clock) -> JWKSVerifier:
    return JWKSVerifier(JWKS_URL, transport=idp.transport, clock=clock)


# --- the header and the HS256 verifier ---------------------------------------------------


async def test_valid_traveler_and_agent(hs: HS256Verifier) -> None:
    traveler = await identify(f"Bearer {hs256(claims(role='traveler'))}", hs)
    agent = await identify(f"bearer {hs256(claims(sub='a-7', role='agent'))}", hs)
    assert traveler == Identity(traveler_id="t-1", role="traveler")
    assert (traveler.authenticated, traveler.is_agent) == (True, False)
    assert agent == Identity(traveler_id="a-7", role="agent")
    assert (agent.authenticated, agent.is_agent) == (True, True)


async def test_role_defaults_to_traveler(hs: HS256Verifier) -> None:
    assert await identify(f"Bearer {hs256(claims())}", hs) == Identity("t-1", "traveler")


@pytest.mark.parametrize("header", [None, "", "   "])
async def test_no_token_is_anonymous(hs: HS256Verifier, header: str | None) -> None:
    identity = await identify(header, hs)
    assert identity == ANONYMOUS == Identity(traveler_id=None, role=None, refusal=None)
    assert (identity.authenticated, identity.is_agent) == (False, False)


@pytest.mark.parametrize("header", ["Basic dXNlcjpwdw==", "Basic x", "Bearer", "Bearer a b", "tok"])
async def test_not_a_bearer_header_is_malformed(hs: HS256Verifier, header: str) -> None:
    assert await identify(header, hs) == refused("malformed")


@pytest.mark.parametrize(
    "token",
    ["garbage", "a.b.c", "....", "bm90IGpzb24.e30.c2ln", "ü.ö.ä", "x" * 5000],
)
async def test_garbage_is_malformed(hs: HS256Verifier, rs: JWKSVerifier, token: str) -> None:
    assert await identify(f"Bearer {token}", hs) == refused("malformed")
    assert await identify(f"Bearer {token}", rs) == refused("malformed")


async def test_signed_payload_that_is_not_json_is_malformed(hs: HS256Verifier) -> None:
    token = jwt.api_jws.encode(b"not json", SECRET, algorithm="HS256")
    assert await identify(f"Bearer {token}", hs) == refused("malformed")


async def test_expired_is_refused_beyond_the_leeway(hs: HS256Verifier) -> None:
    now = int(time.time())
    expired = hs256(claims(iat=now - 7200, exp=now - 60))
    within_leeway = hs256(claims(iat=now - 7200, exp=now - 10))
    assert await identify(f"Bearer {expired}", hs) == refused("expired")
    assert await identify(f"Bearer {within_leeway}", hs) == Identity("t-1", "traveler")


async def test_not_yet_valid_is_refused(hs: HS256Verifier) -> None:
    token = hs256(claims(nbf=int(time.time()) + 600))
    assert await identify(f"Bearer {token}", hs) == refused("not yet valid")


async def test_wrong_secret_is_a_bad_signature(hs: HS256Verifier) -> None:
    token = hs256(claims(), secret="another-secret-0123456789abcdef-0123")
    assert await identify(f"Bearer {token}", hs) == refused("bad signature")


async def test_alg_none_is_refused(hs: HS256Verifier, rs: JWKSVerifier) -> None:
    token = handmade({"alg": "none", "typ": "JWT"}, claims(role="agent"), sign=None)
    assert await identify(f"Bearer {token}", hs) == refused("unsupported algorithm")
    assert await identify(f"Bearer {token}", rs) == refused("unsupported algorithm")


async def test_rs256_token_is_refused_by_the_hs256_verifier(hs: HS256Verifier) -> None:
    assert await identify(f"Bearer {rs256(claims())}", hs) == refused("unsupported algorithm")


# Expiry a day ahead: parameters are made at collection, and on a busy machine this test may
# run minutes later (with a minute ahead it once failed as "expired").
@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"exp": int(time.time()) + 86_400}, "missing sub"),
        ({"sub": "", "exp": int(time.time()) + 86_400}, "missing sub"),
        ({"sub": 42, "exp": int(time.time()) + 86_400}, "missing sub"),
        ({"sub": "t-1"}, "missing exp"),
        ({"sub": "t-1", "exp": "soon"}, "malformed"),
        ({"sub": "t-1", "exp": int(time.time()) + 86_400, "role": "admin"}, "bad role"),
        ({"sub": "t-1", "exp": int(time.time()) + 86_400, "role": None}, "bad role"),
    ],
)
async def test_claims_are_checked(hs: HS256Verifier, payload: dict[str, Any], reason: str) -> None:
    assert await identify(f"Bearer {hs256(payload)}", hs) == refused(reason)


async def test_issuer_and_audience_when_configured() -> None:
    strict = HS256Verifier(SECRET, issuer="https://idp.example", audience="bff")
    good = claims(iss="https://idp.example", aud="bff")
    cases = {
        hs256(good): Identity("t-1", "traveler"),
        hs256(good | {"aud": ["other", "bff"]}): Identity("t-1", "traveler"),
        hs256(claims(iss="https://idp.example", client_id="bff")): Identity("t-1", "traveler"),
        hs256(good | {"iss": "https://evil.example"}): refused("wrong issuer"),
        hs256(claims(aud="bff")): refused("missing iss"),
        hs256(good | {"aud": "other"}): refused("wrong audience"),
        hs256(claims(iss="https://idp.example")): refused("wrong audience"),
    }
    assert {token: await identify(f"Bearer {token}", strict) for token in cases} == cases


async def test_audience_is_ignored_when_not_configured(hs: HS256Verifier) -> None:
    assert await identify(f"Bearer {hs256(claims(aud='x'))}", hs) == Identity("t-1", "traveler")


async def test_dev_token_round_trip(hs: HS256Verifier) -> None:
    token = issue_dev_token("a-2", role="agent", secret=SECRET, ttl_s=60, now=1_700_000_000.5)
    payload = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert payload == {"sub": "a-2", "role": "agent", "iat": 1_700_000_000, "exp": 1_700_000_060}
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    fresh = issue_dev_token("t-3", secret=SECRET)
    assert await identify(f"Bearer {fresh}", hs) == Identity("t-3", "traveler")
    assert await identify(f"Bearer {token}", hs) == refused("expired")


def test_short_secret_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        HS256Verifier("too-short")


def test_verifier_from_settings() -> None:
    def inner(verifier: object) -> object:
        assert isinstance(verifier, VerifiedTokens)  # accepted tokens are remembered
        return verifier.inner

    both = verifier_from_settings(jwt_secret=SECRET, jwks_url=JWKS_URL)
    assert isinstance(inner(both), JWKSVerifier)
    assert isinstance(
        inner(verifier_from_settings(jwt_secret=SECRET, jwks_url=None)), HS256Verifier
    )
    assert isinstance(inner(verifier_from_settings(jwt_secret=SECRET, jwks_url="")), HS256Verifier)
    for secret in (None, ""):
        with pytest.raises(ValueError, match=r"GATEWAY_JWKS_URL.*GATEWAY_JWT_SECRET"):
            verifier_from_settings(jwt_secret=secret, jwks_url=None)
    with pytest.raises(ValueError, match="http"):
        JWKSVerifier("file:///etc/jwks.json")


# --- the JWKS verifier ---------------------------------------------------------------------


async def test_rs256_valid_and_keys_cached(rs: JWKSVerifier, idp: IdentityProvider) -> None:
    traveler, agent = rs256(claims()), rs256(claims(sub="a-1", role="agent"))
    assert await identify(f"Bearer {traveler}", rs) == Identity("t-1", "traveler")
    assert await identify(f"Bearer {agent}", rs) == Identity("a-1", "agent")
    assert idp.fetches == 1
    await rs.aclose()


async def test_concurrent_first_requests_fetch_once(
    rs: JWKSVerifier, idp: IdentityProvider
) -> None:
    header = f"Bearer {rs256(claims())}"
    identities = await asyncio.gather(*(identify(header, rs) for _ in range(20)))
    assert identities == [Identity("t-1", "traveler")] * 20
    assert idp.fetches == 1


async def test_key_confusion_hs256_signed_with_the_public_key(
    rs: JWKSVerifier, idp: IdentityProvider
) -> None:
    pem = (
        rsa_key("k1")
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    token = handmade({"alg": "HS256", "typ": "JWT", "kid": "k1"}, claims(role="agent"), sign=pem)
    assert await identify(f"Bearer {token}", rs) == refused("unsupported algorithm")
    assert idp.fetches == 0


async def test_rs256_refusals(rs: JWKSVerifier) -> None:
    now = int(time.time())
    cases = {
        rs256(claims(), key="impostor"): refused("bad signature"),
        rs256(claims(iat=now - 7200, exp=now - 3600)): refused("expired"),
        rs256(claims(nbf=now + 600)): refused("not yet valid"),
        rs256(claims(role="root")): refused("bad role"),
        rs256({"exp": now + 60}): refused("missing sub"),
        rs256(claims(), kid=None): refused("unknown key"),
    }
    assert {token: await identify(f"Bearer {token}", rs) for token in cases} == cases


async def test_unknown_kid_refetches_at_most_every_30_s(
    rs: JWKSVerifier, idp: IdentityProvider, clock: Clock
) -> None:
    assert await identify(f"Bearer {rs256(claims())}", rs) == Identity("t-1", "traveler")
    stranger = f"Bearer {rs256(claims(), kid='k9', key='k9')}"
    assert await identify(stranger, rs) == refused("unknown key")
    assert idp.fetches == 1  # within 30 s of the first fetch
    clock.now += 30
    assert await identify(stranger, rs) == refused("unknown key")
    assert await identify(stranger, rs) == refused("unknown key")
    assert idp.fetches == 2


async def test_key_rotation(rs: JWKSVerifier, idp: IdentityProvider, clock: Clock) -> None:
    assert await identify(f"Bearer {rs256(claims())}", rs) == Identity("t-1", "traveler")
    idp.keys = [jwk("k2")]  # the provider rotates: k2 signs from now on, k1 is gone
    clock.now += 60
    assert await identify(f"Bearer {rs256(claims(), kid='k2', key='k2')}", rs) == Identity(
        "t-1", "traveler"
    )
    assert idp.fetches == 2
    clock.now += 600  # the cached set expires; the next request re-reads it
    assert await identify(f"Bearer {rs256(claims())}", rs) == refused("unknown key")
    assert idp.fetches == 3


async def test_keys_are_refetched_after_the_ttl_behind_the_requests(
    rs: JWKSVerifier, idp: IdentityProvider, clock: Clock
) -> None:
    header = f"Bearer {rs256(claims())}"
    assert await identify(header, rs) == Identity("t-1", "traveler")
    clock.now += 599
    assert await identify(header, rs) == Identity("t-1", "traveler")
    assert idp.fetches == 1
    clock.now += 1
    # answered from the keys held; the refresh runs behind it (tests/test_jwks_refresh.py
    # holds the provider's answer to show the request does not wait for it)
    assert await identify(header, rs) == Identity("t-1", "traveler")
    stranger = f"Bearer {rs256(claims(), kid='k9', key='k9')}"
    assert await identify(stranger, rs) == refused("unknown key")  # waited for it, or after it
    assert idp.fetches == 2
    await rs.aclose()


@pytest.mark.parametrize(
    ("status", "body"),
    [(503, b"down"), (200, b"<html>"), (200, b'{"keys": []}'), (200, b'{"keys": [{"kty": "EC"}]}')],
)
async def test_fetch_failure_refuses_then_recovers(
    rs: JWKSVerifier, idp: IdentityProvider, clock: Clock, status: int, body: bytes
) -> None:
    header = f"Bearer {rs256(claims())}"
    idp.status, idp.body = status, body
    assert await identify(header, rs) == refused("keys unavailable")
    assert await identify(header, rs) == refused("keys unavailable")
    assert idp.fetches == 1  # a provider in trouble is not hammered
    idp.status, idp.body = 200, None
    clock.now += 30
    assert await identify(header, rs) == Identity("t-1", "traveler")


async def test_unreachable_provider_refuses(clock: Clock) -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    rs = JWKSVerifier(JWKS_URL, transport=httpx.MockTransport(unreachable), clock=clock)
    assert await identify(f"Bearer {rs256(claims())}", rs) == refused("keys unavailable")


async def test_stale_keys_serve_while_the_provider_is_down(
    rs: JWKSVerifier, idp: IdentityProvider, clock: Clock
) -> None:
    header = f"Bearer {rs256(claims())}"
    stranger = f"Bearer {rs256(claims(), kid='k9', key='k9')}"
    assert await identify(header, rs) == Identity("t-1", "traveler")
    idp.status = 500
    clock.now += 601
    assert await identify(header, rs) == Identity("t-1", "traveler")
    assert await identify(stranger, rs) == refused("keys unavailable")  # the refresh failed
    assert await identify(header, rs) == Identity("t-1", "traveler")
    assert idp.fetches == 2
    clock.now += 30  # the next refresh is due, and fails again: still served
    assert await identify(header, rs) == Identity("t-1", "traveler")
    assert await identify(stranger, rs) == refused("keys unavailable")
    assert idp.fetches == 3
    await rs.aclose()


def test_client_follows_the_event_loop(idp: IdentityProvider, clock: Clock) -> None:
    rs = JWKSVerifier(JWKS_URL, transport=idp.transport, clock=clock)
    # each asyncio.run is a fresh loop, as a later Lambda invocation may be
    assert asyncio.run(identify(f"Bearer {rs256(claims())}", rs)) == Identity("t-1", "traveler")
    idp.keys = [jwk("k1"), jwk("k2")]
    clock.now += 30
    rotated = f"Bearer {rs256(claims(), kid='k2', key='k2')}"  # unknown: fetched on this loop
    assert asyncio.run(identify(rotated, rs)) == Identity("t-1", "traveler")
    assert idp.fetches == 2


# --- Cognito's token_use -------------------------------------------------------------------

POOL = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool"


def cognito(token_use: str | None, **extra: Any) -> dict[str, Any]:
    """The claims Cognito signs: access tokens name the app client in `client_id`, id tokens
    in `aud`; both carry `token_use`."""
    base = claims(iss=POOL, **extra)
    return base if token_use is None else base | {"token_use": token_use}


async def test_jwks_accepts_access_tokens_only(idp: IdentityProvider, clock: Clock) -> None:
    rs = JWKSVerifier(JWKS_URL, transport=idp.transport, clock=clock, issuer=POOL, audience="app")
    cases = {
        rs256(cognito("access", client_id="app")): Identity("t-1", "traveler"),
        rs256(cognito("id", aud="app")): refused("wrong token use"),
        rs256(cognito("refresh", client_id="app")): refused("wrong token use"),
        rs256(cognito("access", client_id="other")): refused("wrong audience"),
        # not Cognito (which always sets it): left to the issuer and audience checks
        rs256(cognito(None, aud="app")): Identity("t-1", "traveler"),
    }
    assert {token: await identify(f"Bearer {token}", rs) for token in cases} == cases
    await rs.aclose()


async def test_hs256_does_not_look_at_token_use(hs: HS256Verifier) -> None:
    # dev tokens carry no token_use; the shared secret is no Cognito
    assert await identify(f"Bearer {hs256(claims(token_use='id'))}", hs) == Identity(
        "t-1", "traveler"
    )


def test_parse_jwks_keeps_rsa_signing_keys_only() -> None:
    document = {
        "keys": [
            jwk("sig"),
            jwk("enc") | {"use": "enc"},
            jwk("rs512") | {"alg": "RS512"},
            {"kty": "EC", "kid": "ec", "crv": "P-256"},
            {"kty": "RSA", "kid": "broken", "n": "!!!", "e": "AQAB"},
            {"kty": "RSA", "n": "no-kid"},
            "not a key",
        ]
    }
    assert list(parse_jwks(document)) == ["sig"]
    bad_documents: list[Any] = [{}, {"keys": "x"}, [], {"keys": [jwk("enc") | {"use": "enc"}]}]
    for bad in bad_documents:
        with pytest.raises(ValueError, match="JWKS"):
            parse_jwks(bad)


class CountingVerifier:
    """The HS256 verifier, counting how often it is really asked."""

    def __init__(self) -> None:
        self.inner = HS256Verifier(SECRET)
        self.calls = 0

    async def claims(self, token: str) -> Mapping[str, Any]:
        self.calls += 1
        return await self.inner.claims(token)


async def test_verified_tokens_are_remembered_until_they_expire() -> None:
    now = [time.time()]
    counting = CountingVerifier()
    verifier = VerifiedTokens(counting, max_age_s=300, clock=lambda: now[0])
    token = issue_dev_token("t-1", secret=SECRET, ttl_s=120, now=now[0])
    for _ in range(3):
        assert (await identify(f"Bearer {token}", verifier)).traveler_id == "t-1"
    assert counting.calls == 1
    now[0] += 121  # past exp by the cache's clock: asked again (the real clock still accepts it)
    await identify(f"Bearer {token}", verifier)
    assert counting.calls == 2


async def test_refused_tokens_are_never_remembered() -> None:
    counting = CountingVerifier()
    verifier = VerifiedTokens(counting)
    forged = issue_dev_token("t-1", secret="another-secret-0123456789abcdef0123456789")
    for _ in range(2):
        assert (await identify(f"Bearer {forged}", verifier)).refusal == "bad signature"
    assert counting.calls == 2


async def test_the_oldest_remembered_token_goes_first() -> None:
    counting = CountingVerifier()
    verifier = VerifiedTokens(counting, maxsize=2)
    tokens = [issue_dev_token(f"t-{n}", secret=SECRET) for n in range(3)]
    for token in tokens:
        await verifier.claims(token)
    await verifier.claims(tokens[2])
    assert counting.calls == 3
    await verifier.claims(tokens[0])  # evicted by the third
    assert counting.calls == 4
