"""Who is calling: `Authorization: Bearer <JWT>` becomes an `Identity`.

    identify(header, verifier) -> Identity      never raises; a refusal is a value
      └─ verifier.claims(token)                 raises InvalidTokenError(reason)
           ├─ HS256Verifier  shared secret: local development, tests  (gateway.identity)
           └─ JWKSVerifier   RS256 keys the identity provider publishes (gateway.jwks)

Each verifier pins its one algorithm, so `alg: none` tokens and HS256 tokens signed with the
RSA public key are refused. PyJWT's errors become `InvalidTokenError` in one place,
`gateway.identity.refusal_reason`. This module is the import surface for the app.
"""

from __future__ import annotations

from gateway.identity import (
    ANONYMOUS,
    HS256Verifier,
    Identity,
    InvalidTokenError,
    Role,
    TokenVerifier,
    VerifiedTokens,
    identify,
    issue_dev_token,
)
from gateway.jwks import JWKSVerifier

__all__ = [
    "ANONYMOUS",
    "HS256Verifier",
    "Identity",
    "InvalidTokenError",
    "JWKSVerifier",
    "Role",
    "TokenVerifier",
    "VerifiedTokens",
    "identify",
    "issue_dev_token",
    "verifier_from_settings",
]


def verifier_from_settings(
    *,
    jwt_secret: str | None,
    jwks_url: str | None,
    issuer: str | None = None,
    audience: str | None = None,
) -> TokenVerifier:
    """The IdP's key set when `jwks_url` is set, else the shared secret; neither is an error."""
    if jwks_url:
        return VerifiedTokens(JWKSVerifier(jwks_url, issuer=issuer, audience=audience))
    if jwt_secret:
        return VerifiedTokens(HS256Verifier(jwt_secret, issuer=issuer, audience=audience))
    raise ValueError(
        "no way to verify tokens: set GATEWAY_JWKS_URL (the identity provider's RS256 key set, "
        "e.g. https://cognito-idp.<region>.amazonaws.com/<pool id>/.well-known/jwks.json) "
        "or GATEWAY_JWT_SECRET (a shared HS256 secret of at least 32 bytes)"
    )
