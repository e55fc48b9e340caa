"""Settings: read once from the environment into a frozen value, validated at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Stage = Literal["dev", "prod"]
Transport = Literal["aiohttp", "httpcore"]
Executor = Literal["auto", "reference"]
EXECUTORS: tuple[Executor, ...] = ("auto", "reference")

DEV_JWT_SECRET = "dev-only-secret-change-me-0123456789abcdef"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable and the fix."""


@dataclass(frozen=True, slots=True)
class Settings:
    stage: Stage = "dev"
    legacy_url: str = "http://127.0.0.1:8001"
    flights_url: str | None = None
    jwt_secret: str | None = DEV_JWT_SECRET
    jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    routes_file: str = "routes.yaml"
    backend_timeout_s: float = 3.0
    transport: Transport = "aiohttp"
    redis_url: str | None = None
    redis_cluster: bool = False
    events_feed_url: str | None = None
    # "auto": the planner answers the operations it covers, strawberry the rest;
    # "reference": strawberry answers everything (the planner's yardstick).
    executor: Executor = "auto"

    @property
    def dev(self) -> bool:
        return self.stage == "dev"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        stage = _choice(env, "GATEWAY_STAGE", ("dev", "prod"), "dev")
        secret = env.get("GATEWAY_JWT_SECRET") or (DEV_JWT_SECRET if stage == "dev" else None)
        jwks = env.get("GATEWAY_JWKS_URL") or None
        if not secret and not jwks:
            raise SettingsError(
                "GATEWAY_STAGE=prod needs GATEWAY_JWT_SECRET (HS256) or GATEWAY_JWKS_URL (RS256)"
            )
        return cls(
            stage=stage,  # type: ignore[arg-type]
            legacy_url=env.get("LEGACY_URL") or "http://127.0.0.1:8001",
            flights_url=env.get("FLIGHTS_URL") or None,
            jwt_secret=secret,
            jwks_url=jwks,
            jwt_issuer=env.get("GATEWAY_JWT_ISSUER") or None,
            jwt_audience=env.get("GATEWAY_JWT_AUDIENCE") or None,
            routes_file=env.get("ROUTES_FILE") or "routes.yaml",
            backend_timeout_s=_seconds(env, "BACKEND_TIMEOUT_MS", 3000),
            transport=_choice(env, "GATEWAY_HTTP_TRANSPORT", ("aiohttp", "httpcore"), "aiohttp"),  # type: ignore[arg-type]
            redis_url=env.get("REDIS_URL") or None,
            redis_cluster=env.get("REDIS_CLUSTER", "0") in ("1", "true", "yes"),
            events_feed_url=env.get("EVENTS_FEED_URL") or None,
            executor=_choice(env, "GATEWAY_EXECUTOR", EXECUTORS, "auto"),  # type: ignore[arg-type]
        )


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = env.get(name) or default
    if value not in choices:
        raise SettingsError(f"{name}={value!r} is not one of {', '.join(choices)}")
    return value


def _seconds(env: Mapping[str, str], name: str, default_ms: int) -> float:
    raw = env.get(name) or str(default_ms)
    try:
        ms = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number of milliseconds") from None
    if not 0 < ms < 29_000:
        raise SettingsError(f"{name}={ms} must be between 1 and 28999 ms")
    return ms / 1000
