"""Settings: what each stage accepts of the identity settings (gateway.identity_rules)."""

from __future__ import annotations

import pytest

from gateway.config import DEV_JWT_SECRET, Settings, SettingsError

OWN_SECRET = "own-secret-0123456789abcdef0123456789abcdef"
ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool"
JWKS = f"{ISSUER}/.well-known/jwks.json"
PROD = {
    "GATEWAY_STAGE": "prod",
    "GATEWAY_JWKS_URL": JWKS,
    "GATEWAY_JWT_ISSUER": ISSUER,
    "GATEWAY_JWT_AUDIENCE": "app-client-id",
}
LAMBDA = {"AWS_LAMBDA_FUNCTION_NAME": "bff-gateway-dev-gateway"}


def refusal(env: dict[str, str]) -> str:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(env)
    return str(refused.value)


def test_dev_by_default_with_the_dev_secret() -> None:
    settings = Settings.from_env({})
    assert (settings.stage, settings.jwt_secret) == ("dev", DEV_JWT_SECRET)
    assert settings == Settings()


def test_prod_with_issuer_and_audience() -> None:
    settings = Settings.from_env(PROD)
    assert (settings.stage, settings.jwt_secret, settings.jwks_url) == ("prod", None, JWKS)
    assert (settings.jwt_issuer, settings.jwt_audience) == (ISSUER, "app-client-id")
    hs256 = Settings.from_env({**PROD, "GATEWAY_JWKS_URL": "", "GATEWAY_JWT_SECRET": OWN_SECRET})
    assert (hs256.jwt_secret, hs256.jwks_url) == (OWN_SECRET, None)


@pytest.mark.parametrize(
    ("unset", "missing"),
    [
        (
            ("GATEWAY_JWT_ISSUER", "GATEWAY_JWT_AUDIENCE"),
            "GATEWAY_JWT_ISSUER, GATEWAY_JWT_AUDIENCE",
        ),
        (("GATEWAY_JWT_ISSUER",), "GATEWAY_JWT_ISSUER"),
        (("GATEWAY_JWT_AUDIENCE",), "GATEWAY_JWT_AUDIENCE"),
    ],
)
def test_prod_requires_issuer_and_audience(unset: tuple[str, ...], missing: str) -> None:
    for empty in (None, ""):  # an empty value is as good as none
        env = {k: v for k, v in PROD.items() if k not in unset}
        env |= {name: empty for name in unset if empty is not None}
        message = refusal(env)
        assert "GATEWAY_STAGE=prod requires GATEWAY_JWT_ISSUER and GATEWAY_JWT_AUDIENCE" in message
        assert message.endswith(f"missing: {missing}")


def test_prod_still_needs_a_way_to_verify_tokens() -> None:
    message = refusal({**PROD, "GATEWAY_JWKS_URL": ""})
    assert (
        message == "GATEWAY_STAGE=prod needs GATEWAY_JWT_SECRET (HS256) or GATEWAY_JWKS_URL (RS256)"
    )


def test_prod_refuses_the_dev_secret_even_when_set_explicitly() -> None:
    for env in (PROD, {**PROD, **LAMBDA}):
        message = refusal({**env, "GATEWAY_JWT_SECRET": DEV_JWT_SECRET})
        assert "dev-only JWT secret is refused with GATEWAY_STAGE=prod" in message


def test_on_lambda_the_dev_secret_needs_the_stage_said_explicitly() -> None:
    # the stage left at its default: no dev secret, neither implied nor set by hand
    assert "GATEWAY_STAGE=dev set explicitly" in refusal(LAMBDA)
    assert "GATEWAY_STAGE=dev set explicitly" in refusal({**LAMBDA, "GATEWAY_STAGE": ""})
    explicit_secret = refusal({**LAMBDA, "GATEWAY_JWT_SECRET": DEV_JWT_SECRET})
    assert "dev-only JWT secret is refused with AWS Lambda" in explicit_secret
    assert "or set GATEWAY_STAGE=dev explicitly" in explicit_secret
    # said explicitly: serverless offline, a dev stack on purpose
    said = Settings.from_env({**LAMBDA, "GATEWAY_STAGE": "dev"})
    assert (said.stage, said.jwt_secret) == ("dev", DEV_JWT_SECRET)
    # a secret of its own, or a key set, needs no explicit stage
    own = Settings.from_env({**LAMBDA, "GATEWAY_JWT_SECRET": OWN_SECRET})
    assert own.jwt_secret == OWN_SECRET
    assert Settings.from_env({**LAMBDA, "GATEWAY_JWKS_URL": JWKS}).jwt_secret is None


def test_settings_built_in_code_are_held_to_the_same_rules() -> None:
    with pytest.raises(SettingsError, match="GATEWAY_JWT_ISSUER and GATEWAY_JWT_AUDIENCE"):
        Settings(stage="prod", jwt_secret=OWN_SECRET)
    with pytest.raises(SettingsError, match="dev-only JWT secret is refused"):
        Settings(stage="prod", jwt_issuer=ISSUER, jwt_audience="app")  # the default secret
    with pytest.raises(SettingsError, match="GATEWAY_JWKS_URL"):
        Settings(jwt_secret=None)
    prod = Settings(stage="prod", jwt_secret=OWN_SECRET, jwt_issuer=ISSUER, jwt_audience="app")
    assert not prod.dev


def test_from_env_or_exit_ends_the_process_with_the_message() -> None:
    with pytest.raises(SystemExit) as exit_:
        Settings.from_env_or_exit({"GATEWAY_STAGE": "prod", "GATEWAY_JWKS_URL": JWKS})
    assert str(exit_.value.code).startswith("gateway: GATEWAY_STAGE=prod requires")
    assert Settings.from_env_or_exit({}).stage == "dev"
