"""Production identity against real gateway processes: start-up refusals, issuer, audience
and Cognito's token_use on both doors (/api/... and GraphQL), no schema hints in prod."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from gateway.config import DEV_JWT_SECRET
from tests.conftest import NO_CACHE
from tests.support.processes import (
    GATEWAY_FACTORY,
    ROOT,
    Service,
    free_port,
    start_uvicorn,
    write_routes,
)
from tests.test_auth import jwk, rs256
from tests.test_jwks_refresh import HeldProvider

pytestmark = pytest.mark.e2e

SECRET = "prod-e2e-secret-0123456789abcdef0123456789"
POOL = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool"
CLIENT_ID = "bff-web-client"
TRAVELER = "t-1"
TRAVELER_QUERY = f'{{ traveler(id: "{TRAVELER}") {{ id }} }}'  # `me` is null, not an error


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any gateway or Lambda setting, plus `extra`."""
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GATEWAY_", "AWS_LAMBDA_", "REDIS_", "CACHE_"))
    }
    return {**inherited, **extra}


def start_up(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Starts a gateway that should refuse to start; returns how it ended."""
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        GATEWAY_FACTORY,
        "--port",
        str(free_port()),
    ]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def hs256(**claims: Any) -> str:
    now = int(time.time())
    payload = {"sub": TRAVELER, "iat": now, "exp": now + 600, "iss": POOL, "aud": CLIENT_ID}
    secret = claims.pop("secret", SECRET)
    payload = {k: v for k, v in (payload | claims).items() if v is not None}  # None: left out
    return jwt.encode(payload, secret, algorithm="HS256")


def cognito(token_use: str) -> str:
    """A Cognito-shaped token: access tokens name the client in `client_id`, id tokens in `aud`."""
    now = int(time.time())
    audience = {"client_id": CLIENT_ID} if token_use == "access" else {"aud": CLIENT_ID}
    claims = {"sub": TRAVELER, "iat": now, "exp": now + 600, "iss": POOL, "token_use": token_use}
    return rs256(claims | audience)


def graphql(gateway: Service, query: str, token: str | None = None) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(f"{gateway.url}/graphql/web", json={"query": query}, headers=headers)
    body: dict[str, Any] = response.json()
    return body


def rest(gateway: Service, token: str) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"}
    return httpx.get(f"{gateway.url}/api/travelers/{TRAVELER}", headers=headers, timeout=10)


def refused(gateway: Service, token: str, reason: str) -> None:
    """401 on the REST passthrough, UNAUTHENTICATED on GraphQL, both saying why."""
    response = rest(gateway, token)
    assert response.status_code == 401, response.text
    assert response.json() == {
        "error": "unauthenticated",
        "message": f"A valid bearer token is required ({reason}).",
    }
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    body = graphql(gateway, TRAVELER_QUERY, token)
    assert body["data"] == {"traveler": None}
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        (f"A valid bearer token is required ({reason}).", "UNAUTHENTICATED")
    ]


def accepted(gateway: Service, token: str) -> None:
    assert rest(gateway, token).json()["id"] == TRAVELER
    assert graphql(gateway, TRAVELER_QUERY, token) == {"data": {"traveler": {"id": TRAVELER}}}


@pytest.fixture(scope="module")
def legacy() -> Iterator[Service]:
    legacy = start_uvicorn("legacy_stub.app:app")
    yield legacy
    legacy.stop()


def prod_env(legacy: Service, routes: Path, **extra: str) -> dict[str, str]:
    return clean_env(
        GATEWAY_STAGE="prod",
        LEGACY_URL=legacy.url,
        FLIGHTS_URL=legacy.url,
        ROUTES_FILE=str(routes),
        GATEWAY_JWT_ISSUER=POOL,
        GATEWAY_JWT_AUDIENCE=CLIENT_ID,
        **NO_CACHE,
        **extra,
    )


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_routes(tmp_path_factory.mktemp("prod-identity") / "routes.yaml")


@pytest.fixture(scope="module")
def prod(legacy: Service, routes: Path) -> Iterator[Service]:
    env = prod_env(legacy, routes, GATEWAY_JWT_SECRET=SECRET)
    gateway = start_uvicorn(GATEWAY_FACTORY, factory=True, env=env, ready_path="/healthz")
    yield gateway
    gateway.stop()


def test_prod_without_issuer_and_audience_does_not_start(legacy: Service, routes: Path) -> None:
    env = prod_env(legacy, routes, GATEWAY_JWT_SECRET=SECRET)
    for unset in (("GATEWAY_JWT_ISSUER", "GATEWAY_JWT_AUDIENCE"), ("GATEWAY_JWT_AUDIENCE",)):
        ended = start_up({k: v for k, v in env.items() if k not in unset})
        assert ended.returncode != 0
        assert "GATEWAY_STAGE=prod requires GATEWAY_JWT_ISSUER and GATEWAY_JWT_AUDIENCE" in (
            ended.stderr
        )
        assert f"missing: {', '.join(unset)}" in ended.stderr
        assert "Traceback" not in ended.stderr, ended.stderr


def test_the_dev_secret_does_not_start_outside_dev(legacy: Service, routes: Path) -> None:
    in_prod = start_up(prod_env(legacy, routes, GATEWAY_JWT_SECRET=DEV_JWT_SECRET))
    on_lambda = start_up(clean_env(AWS_LAMBDA_FUNCTION_NAME="gateway", ROUTES_FILE=str(routes)))
    assert in_prod.returncode != 0 and on_lambda.returncode != 0
    assert "dev-only JWT secret is refused with GATEWAY_STAGE=prod" in in_prod.stderr
    assert "GATEWAY_STAGE=dev set explicitly" in on_lambda.stderr
    assert "Traceback" not in in_prod.stderr + on_lambda.stderr


def test_prod_accepts_its_issuer_and_audience_only(prod: Service) -> None:
    accepted(prod, hs256())
    refused(prod, hs256(iss="https://cognito-idp.eu-west-1.amazonaws.com/other"), "wrong issuer")
    refused(prod, hs256(aud="another-app"), "wrong audience")
    refused(prod, hs256(iss=None), "missing iss")
    refused(prod, hs256(secret=DEV_JWT_SECRET), "bad signature")


def test_prod_answers_a_typo_without_suggestions(prod: Service) -> None:
    body = graphql(prod, "{ me { nme } }", hs256())
    assert body == {
        "errors": [
            {
                "message": "Cannot query field 'nme' on type 'Traveler'.",
                "locations": [{"line": 1, "column": 8}],
                "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
            }
        ]
    }


def test_prod_with_cognito_keys_takes_access_tokens_not_id_tokens(
    legacy: Service, routes: Path
) -> None:
    with HeldProvider() as provider:  # never held here: an ordinary identity provider
        provider.keys = [jwk("k1")]
        env = prod_env(legacy, routes, GATEWAY_JWKS_URL=provider.url)
        gateway = start_uvicorn(GATEWAY_FACTORY, factory=True, env=env, ready_path="/healthz")
        try:
            accepted(gateway, cognito("access"))
            refused(gateway, cognito("id"), "wrong token use")
        finally:
            gateway.stop()
