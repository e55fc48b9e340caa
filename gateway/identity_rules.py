"""Which identity settings a stage accepts: decided once, at start-up, from plain values.

    dev                  the committed dev secret is the default HS256 secret
    dev on AWS Lambda    only when GATEWAY_STAGE=dev is set explicitly: a function whose stage
                         was left at the default must not accept tokens anyone can sign
    prod                 GATEWAY_JWT_ISSUER and GATEWAY_JWT_AUDIENCE are required (without
                         them a token from any pool, for any app, signed by a trusted key
                         passes); the dev secret is refused even when set explicitly

Each check returns what is wrong as a sentence that names the variables and the fix, or None;
`gateway.config` turns it into a `SettingsError`.
"""

from __future__ import annotations

DEV_JWT_SECRET = "dev-only-secret-change-me-0123456789abcdef"

PROD_REQUIRED = ("GATEWAY_JWT_ISSUER", "GATEWAY_JWT_AUDIENCE")


def dev_secret_allowed(stage: str, *, stage_explicit: bool, on_lambda: bool) -> bool:
    """`("dev", stage_explicit=False, on_lambda=True)` → False: on Lambda, dev must be said."""
    return stage == "dev" and (stage_explicit or not on_lambda)


def secret_problem(
    secret: str | None, jwks_url: str | None, *, stage: str, dev_allowed: bool
) -> str | None:
    if secret == DEV_JWT_SECRET and not dev_allowed:
        where = f"GATEWAY_STAGE={stage}" if stage != "dev" else "AWS Lambda"
        return (
            f"the committed dev-only JWT secret is refused with {where}: set GATEWAY_JWT_SECRET "
            "to a secret of your own (openssl rand -hex 32) or GATEWAY_JWKS_URL"
            + ("" if stage != "dev" else ", or set GATEWAY_STAGE=dev explicitly")
        )
    if not secret and not jwks_url:
        return (
            f"GATEWAY_STAGE={stage} needs GATEWAY_JWT_SECRET (HS256) or GATEWAY_JWKS_URL (RS256)"
            + (
                " (on AWS Lambda the dev-only secret needs GATEWAY_STAGE=dev set explicitly)"
                if stage == "dev"
                else ""
            )
        )
    return None


def prod_problem(stage: str, *, issuer: str | None, audience: str | None) -> str | None:
    if stage != "prod" or (issuer and audience):
        return None
    missing = [
        name for name, value in zip(PROD_REQUIRED, (issuer, audience), strict=True) if not value
    ]
    return (
        f"GATEWAY_STAGE=prod requires {' and '.join(PROD_REQUIRED)} (the identity provider's "
        "issuer URL, and the audience: Cognito's app client id); "
        f"missing: {', '.join(missing)}"
    )
