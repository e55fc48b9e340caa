"""The gateway's ASGI app: two client schemas over the same backends, plus health."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse

from gateway.answers import PublicAnswerCache
from gateway.collector import settle_after_startup
from gateway.config import Settings
from gateway.cors import CorsMiddleware
from gateway.deadline import DeadlineMiddleware
from gateway.graphql_endpoint import GraphQLEndpoint
from gateway.ide import ASSET_PREFIX, serve_asset
from gateway.idempotency import IdempotencyMiddleware, build_store
from gateway.invalidation import FeedFollower
from gateway.observability.endpoint import metrics_endpoint
from gateway.observability.middleware import ObservabilityMiddleware
from gateway.passthrough import PassthroughMiddleware
from gateway.ratelimit.limiter import RateLimiter
from gateway.ratelimit.middleware import RateLimitMiddleware
from gateway.runtime import Runtime
from gateway.schemas.mobile import build_mobile_schema
from gateway.schemas.web import build_web_schema


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env_or_exit()
    runtime = Runtime(settings)
    limiter = RateLimiter.from_settings(settings)  # None: GATEWAY_RATE_LIMIT is off

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        """Only under uvicorn: Mangum runs with lifespan off, and there a queue does this."""
        follower = None
        if settings.events_feed_url:
            follower = FeedFollower(settings.events_feed_url, runtime.cache)
            follower.start()
        yield
        if follower is not None:
            await follower.stop()
        await runtime.shadows.drain()

    app = FastAPI(
        title="BFF gateway", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.state.runtime = runtime
    introspection = settings.dev
    for name, schema in (
        ("web", build_web_schema(introspection=introspection)),
        ("mobile", build_mobile_schema(introspection=introspection)),
    ):
        endpoint = GraphQLEndpoint(runtime, name, schema, ide=settings.dev)
        app.add_route(f"/graphql/{name}", endpoint.handle, methods=["GET", "POST"])

    async def health(request: Request) -> JSONResponse:
        runtime.routes.current()  # notice a changed routes file even without other traffic
        return JSONResponse(
            {"status": "ok", "stage": settings.stage, "routes": runtime.routes.health()}
        )

    async def route_stats(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "health": runtime.routes.health(),
                "stats": runtime.stats.snapshot(),
                "breakers": runtime.client.breakers.snapshot(),
                "rate_limit": limiter.stats() if limiter else None,
            }
        )

    app.add_route("/healthz", health, methods=["GET"])
    app.add_route("/_gateway/routes", route_stats, methods=["GET"])
    if settings.dev:  # GraphiQL's files, from node_modules/ (gateway/ide.py)
        app.add_route(ASSET_PREFIX + "{name}", serve_asset, methods=["GET"])
    app.add_middleware(
        PublicAnswerCache,
        cache=runtime.cache,
        policy=runtime.cache_config.answer_policy,
        paths={"/graphql/web": "web", "/graphql/mobile": "mobile"},
        max_body_bytes=settings.max_body_bytes,
    )
    # Outermost: /api/... is answered before the answer cache and FastAPI's router.
    app.add_middleware(PassthroughMiddleware, runtime=runtime)
    # Before the passthrough and GraphQL: a retried write is answered from the idempotency
    # store without reaching a backend (docs/idempotency.md).
    app.add_middleware(
        IdempotencyMiddleware,
        verifier=runtime.verifier,
        store=build_store(settings),
        max_body_bytes=settings.max_body_bytes,
    )
    app.add_middleware(DeadlineMiddleware, timeout_s=settings.request_timeout_s)  # /api, /graphql
    if limiter:  # every caller's requests count before any work is done for them
        app.add_middleware(
            RateLimitMiddleware,
            limiter=limiter,
            verifier=runtime.verifier,
            address_header=settings.client_address_header,
        )
    # Outermost of all: preflights are answered before limits, and 429s carry CORS headers.
    app.add_middleware(CorsMiddleware, origins=settings.cors_origins)
    # Outermost (docs/operations.md): every answer gets a request id and one log line.
    app.add_route("/metrics", metrics_endpoint, methods=["GET"])
    app.add_middleware(ObservabilityMiddleware, verifier=runtime.verifier)
    return app


app = create_app()
settle_after_startup()
