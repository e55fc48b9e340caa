"""Settings: read once from the environment into a frozen value, validated at start-up."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from gateway.breaker import BreakerPolicy, parse_failures
from gateway.cors import parse_origins
from gateway.identity_rules import (
    DEV_JWT_SECRET as DEV_JWT_SECRET,  # re-exported: devstack and tests import it from here
)
from gateway.identity_rules import dev_secret_allowed, prod_problem, secret_problem
from gateway.limits import Limits, parse_limits
from gateway.persisted import Manifest, load_manifest
from gateway.ratelimit.bucket import Rate

Stage = Literal["dev", "prod"]
Transport = Literal["aiohttp", "httpcore"]
T = TypeVar("T")
Executor = Literal["auto", "reference"]
EXECUTORS: tuple[Executor, ...] = ("auto", "reference")

DEFAULT_MAX_BODY_BYTES = 2**20  # 1 MiB, for GraphQL and the REST passthrough alike
DEFAULT_RATE_LIMIT = {"dev": "off", "prod": "100/1"}  # per caller; GATEWAY_RATE_LIMIT=off


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
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    request_timeout_s: float = 8.0  # GATEWAY_REQUEST_TIMEOUT_MS, the deadline (docs/operations.md)
    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)  # GATEWAY_BREAKER_*
    cors_origins: tuple[str, ...] = ()  # GATEWAY_CORS_ORIGINS; empty: no CORS headers at all
    rate_limit: Rate | None = None  # GATEWAY_RATE_LIMIT; None: off (the default in dev)
    client_address_header: str | None = None  # GATEWAY_CLIENT_ADDRESS_HEADER (docs/security.md)
    limits: Limits = field(default_factory=Limits)  # GATEWAY_MAX_QUERY_TOKENS, _COST_*, ...
    apq_ttl_s: int = 24 * 3600  # GATEWAY_APQ_TTL_S: how long a registered query is kept
    apq_max_bytes: int = 64 * 1024  # GATEWAY_APQ_MAX_BYTES: larger queries run, unregistered
    trusted_documents: Manifest | None = None  # GATEWAY_TRUSTED_DOCUMENTS: only these run

    def __post_init__(self) -> None:
        # Also for Settings built in code: prod without issuer/audience, or the dev secret
        # outside dev, can't be constructed at all.
        problem = secret_problem(
            self.jwt_secret, self.jwks_url, stage=self.stage, dev_allowed=self.dev
        ) or prod_problem(self.stage, issuer=self.jwt_issuer, audience=self.jwt_audience)
        if problem:
            raise SettingsError(problem)

    # "auto": the planner answers the operations it covers, strawberry the rest;
    # "reference": strawberry answers everything (the planner's yardstick).
    executor: Executor = "auto"

    @property
    def dev(self) -> bool:
        return self.stage == "dev"

    @classmethod
    def from_env_or_exit(cls, env: Mapping[str, str] | None = None) -> Settings:
        """For a process's entry point (uvicorn importing the app, a Lambda's init): a bad
        setting ends the process with its one-line message on stderr, not a traceback."""
        try:
            return cls.from_env(env)
        except SettingsError as error:
            raise SystemExit(f"gateway: {error}") from None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        stage = _choice(env, "GATEWAY_STAGE", ("dev", "prod"), "dev")
        dev_allowed = dev_secret_allowed(
            stage,
            stage_explicit=bool(env.get("GATEWAY_STAGE")),
            on_lambda=bool(env.get("AWS_LAMBDA_FUNCTION_NAME")),
        )
        secret = env.get("GATEWAY_JWT_SECRET") or (DEV_JWT_SECRET if dev_allowed else None)
        jwks = env.get("GATEWAY_JWKS_URL") or None
        if problem := secret_problem(secret, jwks, stage=stage, dev_allowed=dev_allowed):
            raise SettingsError(problem)
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
            max_body_bytes=_bytes(env, "GATEWAY_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES),
            request_timeout_s=_seconds(env, "GATEWAY_REQUEST_TIMEOUT_MS", 8000),
            breaker=BreakerPolicy(
                failures=_parsed(env, "GATEWAY_BREAKER_FAILURES", parse_failures, "5"),
                cooldown_s=_seconds(env, "GATEWAY_BREAKER_COOLDOWN_MS", 10_000),
            ),
            cors_origins=_parsed(env, "GATEWAY_CORS_ORIGINS", parse_origins, ""),
            rate_limit=_parsed(env, "GATEWAY_RATE_LIMIT", Rate.parse, DEFAULT_RATE_LIMIT[stage]),
            client_address_header=(env.get("GATEWAY_CLIENT_ADDRESS_HEADER") or "").lower() or None,
            executor=_choice(env, "GATEWAY_EXECUTOR", EXECUTORS, "auto"),  # type: ignore[arg-type]
            limits=_limits(env),
            apq_ttl_s=_parsed(env, "GATEWAY_APQ_TTL_S", _whole_seconds, str(24 * 3600)),
            apq_max_bytes=_bytes(env, "GATEWAY_APQ_MAX_BYTES", 64 * 1024),
            trusted_documents=_parsed(env, "GATEWAY_TRUSTED_DOCUMENTS", load_manifest, ""),
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


def _bytes(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name) or str(default)
    if not raw.isdigit() or int(raw) < 1:
        raise SettingsError(f"{name}={raw!r} must be a whole number of bytes, at least 1")
    return int(raw)


def _limits(env: Mapping[str, str]) -> Limits:
    try:
        return parse_limits(env)
    except ValueError as error:  # its message names the variable
        raise SettingsError(str(error)) from None


def _whole_seconds(raw: str) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{raw!r} must be a whole number of seconds, at least 1")
    return int(raw)


def _parsed(env: Mapping[str, str], name: str, parse: Callable[[str], T], default: str) -> T:
    raw = env.get(name) or default
    try:
        return parse(raw)
    except ValueError as error:
        raise SettingsError(f"{name}: {error}") from None
