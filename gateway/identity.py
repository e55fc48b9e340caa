"""Identity values, the verifier seam, claim rules and the HS256 verifier (see `gateway.auth`)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeGuard

if TYPE_CHECKING:
    import jwt

# PyJWT imports `cryptography` eagerly (~30 ms of a Lambda cold start): it is imported where
# a token is first decoded instead, and only then.

Role = Literal["traveler", "agent"]


@dataclass(frozen=True, slots=True)
class Identity:
    traveler_id: str | None  # the token's `sub`
    role: Role | None
    refusal: str | None = None  # why a presented token was refused; None if absent or valid

    @property
    def authenticated(self) -> bool:
        return self.traveler_id is not None

    @property
    def is_agent(self) -> bool:
        return self.authenticated and self.role == "agent"


ANONYMOUS = Identity(traveler_id=None, role=None)


class InvalidTokenError(Exception):
    """A presented token was refused; `reason` is short and safe to show a client."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"token refused: {reason}")
        self.reason = reason


class TokenVerifier(Protocol):
    async def claims(self, token: str) -> Mapping[str, Any]: ...


async def identify(authorization: str | None, verifier: TokenVerifier) -> Identity:
    if authorization is None or not authorization.strip():
        return ANONYMOUS
    try:
        return identity_from_claims(await verifier.claims(bearer_token(authorization)))
    except InvalidTokenError as error:
        return Identity(traveler_id=None, role=None, refusal=error.reason)


def bearer_token(authorization: str) -> str:
    """`"Bearer a.b.c"` → `"a.b.c"` (the scheme is case-insensitive); anything else is refused."""
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise InvalidTokenError("malformed")
    return token


def identity_from_claims(claims: Mapping[str, Any]) -> Identity:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise InvalidTokenError("missing sub")
    role = claims.get("role", "traveler")
    if role not in ("traveler", "agent"):
        raise InvalidTokenError("bad role")
    return Identity(traveler_id=sub, role=role)


def refusal_reason(error: jwt.PyJWTError) -> str:
    import jwt

    match error:
        case jwt.ExpiredSignatureError():
            return "expired"
        case jwt.ImmatureSignatureError():
            return "not yet valid"
        case jwt.InvalidSignatureError():
            return "bad signature"
        case jwt.InvalidAlgorithmError():
            return "unsupported algorithm"
        case jwt.InvalidIssuerError():
            return "wrong issuer"
        case jwt.MissingRequiredClaimError():
            return f"missing {error.claim}"
        case jwt.exceptions.InvalidSubjectError():
            return "missing sub"
        case _:
            return "malformed"


@dataclass(frozen=True, slots=True)
class ClaimRules:
    """What every verifier checks once it holds the key: `exp` and `sub` present, times within
    `leeway_s` of now, the issuer and audience when configured, and Cognito's `token_use`
    when `token_use` is set.

    `token_use`: Cognito signs id and access tokens with the same keys, for the same pool and
    app client, so only this claim tells them apart. The JWKS verifier accepts `access` only
    (docs/security.md, "Identity"). A token without the claim is not from Cognito (whose
    tokens always carry it) and is left to the issuer and audience checks.
    """

    issuer: str | None = None
    audience: str | None = None
    leeway_s: int = 30
    token_use: str | None = None

    def decode(self, token: str, key: str | jwt.PyJWK, *, algorithm: str) -> dict[str, Any]:
        import jwt

        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={"require": ["exp", "sub"], "verify_aud": False},
            )
        except jwt.PyJWTError as error:
            raise InvalidTokenError(refusal_reason(error)) from None
        self._check_audience(claims)
        self._check_token_use(claims)
        return claims

    def _check_token_use(self, claims: Mapping[str, Any]) -> None:
        if self.token_use is not None and claims.get("token_use", self.token_use) != self.token_use:
            raise InvalidTokenError("wrong token use")

    def _check_audience(self, claims: Mapping[str, Any]) -> None:
        # Cognito access tokens name the app client in `client_id` rather than `aud`.
        if self.audience is None:
            return
        audience = claims.get("aud", claims.get("client_id"))
        if self.audience not in (audience if isinstance(audience, list) else [audience]):
            raise InvalidTokenError("wrong audience")


class HS256Verifier:
    def __init__(
        self,
        secret: str,
        *,
        issuer: str | None = None,
        audience: str | None = None,
        leeway_s: int = 30,
    ) -> None:
        if len(secret.encode()) < 32:  # RFC 7518 §3.2; PyJWT would warn on every request
            raise ValueError(
                f"the HS256 secret is {len(secret.encode())} bytes; use at least 32, "
                "e.g. GATEWAY_JWT_SECRET=$(openssl rand -hex 32)"
            )
        self._secret = secret
        self._rules = ClaimRules(issuer=issuer, audience=audience, leeway_s=leeway_s)

    async def claims(self, token: str) -> Mapping[str, Any]:
        return self._rules.decode(token, self._secret, algorithm="HS256")


def issue_dev_token(
    traveler_id: str,
    *,
    role: Role = "traveler",
    secret: str,
    ttl_s: int = 12 * 3600,
    now: float | None = None,
) -> str:
    issued_at = int(time.time() if now is None else now)
    claims = {"sub": traveler_id, "role": role, "iat": issued_at, "exp": issued_at + ttl_s}
    import jwt

    return jwt.encode(claims, secret, algorithm="HS256")


class VerifiedTokens:
    """A verifier that remembers the tokens it has accepted, until they expire.

    Verifying a signature costs tens of microseconds per request (the passthrough's hot
    path pays it on every call); a client sends the same token many times. Only accepted
    tokens are kept, keyed by the whole token (so by its signature), each until its `exp`
    and never longer than `max_age_s`, and at most `maxsize` of them (the oldest go first).
    """

    def __init__(
        self,
        inner: TokenVerifier,
        *,
        maxsize: int = 10_000,
        max_age_s: float = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._inner = inner
        self._maxsize = maxsize
        self._max_age_s = max_age_s
        self._clock = clock
        self._accepted: OrderedDict[str, tuple[float, Mapping[str, Any]]] = OrderedDict()

    @property
    def inner(self) -> TokenVerifier:
        return self._inner

    async def claims(self, token: str) -> Mapping[str, Any]:
        now = self._clock()
        kept = self._accepted.get(token)
        if kept is not None and now < kept[0]:
            return kept[1]
        claims = await self._inner.claims(token)
        expires = claims.get("exp")
        until = min(expires, now + self._max_age_s) if _is_time(expires) else now
        if until > now:
            self._accepted[token] = (until, claims)
            self._accepted.move_to_end(token)
            while len(self._accepted) > self._maxsize:
                self._accepted.popitem(last=False)
        return claims


def _is_time(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
