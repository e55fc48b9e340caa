"""The gateway's ASGI app: two client schemas over the same backends, plus health.

Nothing is built at import: `create_app()` is the factory (`uvicorn --factory
gateway.app:create_app`; the Lambda handler calls it once per container).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from gateway.answers import PublicAnswerCache, json_response
from gateway.asgi import ASGIApp, Receive, Scope, Send
from gateway.cache.setup import CacheConfig
from gateway.collector import settle_after_startup
from gateway.config import Executor, Settings
from gateway.cors import CorsMiddleware
from gateway.dashboard import DATA_PATH, PAGE_PATH, Dashboard
from gateway.deadline import DeadlineMiddleware
from gateway.execution.planner import Planner
from gateway.graphql_endpoint import GraphQLEndpoint
from gateway.ide import ASSET_PREFIX, serve_asset
from gateway.idempotency import IdempotencyMiddleware, build_store
from gateway.invalidation import FeedFollower
from gateway.observability.endpoint import metrics_endpoint
from gateway.observability.middleware import ObservabilityMiddleware
from gateway.passthrough import PassthroughMiddleware
from gateway.ratelimit.limiter import RateLimiter
from gateway.ratelimit.middleware import RateLimitMiddleware
from gateway.resolvers.catalog import CATALOGS
from gateway.routing.ramp_driver import RampDriver, RampMiddleware
from gateway.routing.ramp_state import ramp_store
from gateway.routing.table import RouteTable
from gateway.runtime import Runtime
from gateway.schemas.common import validation_rules
from gateway.schemas.mobile import build_mobile_schema
from gateway.schemas.web import build_web_schema


def served_table(table: RouteTable) -> dict[str, Any]:
    """The table the gateway runs, for `routes status --gateway` (not routed on AWS: the
    expanded text names the backends' internal URLs)."""
    return {"table": {"source": table.source, "text": table.text}} if table.text else {}


def create_app(
    settings: Settings | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    executor: Executor | None = None,
    cache_config: CacheConfig | None = None,
) -> GatewayApp:
    """The app; `transport` replaces the network for every backend call (tests pass
    `httpx.ASGITransport(app=stub)`); `executor` overrides `settings.executor`.

    Built from the environment (no `settings`: `uvicorn --factory`, the Lambda handler) it
    is a server starting, so what was built is frozen out of the collector's way; tests
    that build many apps pass settings and leave the collector alone.
    """
    if settings is None:
        gateway = create_app(
            Settings.from_env_or_exit(),
            transport=transport,
            executor=executor,
            cache_config=cache_config,
        )
        settle_after_startup()
        return gateway
    runtime = Runtime(settings, transport=transport, cache_config=cache_config)
    chosen = executor or settings.executor
    limiter = RateLimiter.from_settings(settings)  # None: GATEWAY_RATE_LIMIT is off
    ramp = RampDriver(runtime.routes, runtime.stats, ramp_store(settings))  # canary.auto

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
        title="BFF gateway",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
        # The gateway's own spans, counts and log line (gateway/observability) cover every
        # request: FastAPI's would double them, and asking per request whether OpenTelemetry
        # is configured cost 5 % of a cached answer.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.runtime = runtime
    app.state.ramp = ramp  # the Lambda handler ticks it after each invocation
    introspection = settings.dev
    rules = validation_rules(introspection=introspection)
    planners: dict[str, Planner] = {}
    for name, schema in (
        ("web", build_web_schema(introspection=introspection)),
        ("mobile", build_mobile_schema(introspection=introspection)),
    ):
        planner = Planner(schema, CATALOGS[name], rules=rules) if chosen == "auto" else None
        if planner is not None:
            planners[name] = planner
        endpoint = GraphQLEndpoint(runtime, name, schema, ide=settings.dev, planner=planner)
        app.add_route(f"/graphql/{name}", endpoint.handle, methods=["GET", "POST"])

    async def health(request: Request) -> Response:
        runtime.routes.current()  # notice a changed routes file even without other traffic
        return json_response(
            {"status": "ok", "stage": settings.stage, "routes": runtime.routes.health()}
        )

    async def route_stats(request: Request) -> Response:
        return json_response(
            {
                "health": runtime.routes.health(),
                **served_table(runtime.routes.current()),
                "stats": runtime.stats.snapshot(),
                "executors": dict(runtime.executors),
                "plans": {name: asdict(p.stats()) for name, p in planners.items()},
                "breakers": runtime.client.breakers.snapshot(),
                "rate_limit": limiter.stats() if limiter else None,
                "canaries": ramp.view(),
            }
        )

    app.add_route("/healthz", health, methods=["GET"])
    app.add_route("/_gateway/routes", route_stats, methods=["GET"])
    dashboard = Dashboard(runtime)  # the migration dashboard (gateway/dashboard.py)
    app.add_route(PAGE_PATH, dashboard.page, methods=["GET"])
    app.add_route(DATA_PATH, dashboard.data, methods=["GET"])
    if settings.dev:  # GraphiQL's files, from node_modules/ (gateway/ide.py)
        app.add_route(ASSET_PREFIX + "{name}", serve_asset, methods=["GET"])
    app.add_route("/metrics", metrics_endpoint, methods=["GET"])
    # The gateway's own layers, outermost last, around FastAPI (not inside it: a cached answer
    # or a passthrough request never enters FastAPI's and Starlette's own wrappers).
    layers: ASGIApp = PublicAnswerCache(
        app,
        cache=runtime.cache,
        policy=runtime.cache_config.answer_policy,
        paths={"/graphql/web": "web", "/graphql/mobile": "mobile"},
        max_body_bytes=settings.max_body_bytes,
    )
    # /api/... is answered before the answer cache and FastAPI's router.
    layers = PassthroughMiddleware(layers, runtime=runtime)
    # Before the passthrough and GraphQL: a retried write is answered from the idempotency
    # store without reaching a backend (docs/idempotency.md).
    layers = IdempotencyMiddleware(
        layers,
        verifier=runtime.verifier,
        store=build_store(settings),
        max_body_bytes=settings.max_body_bytes,
    )
    layers = DeadlineMiddleware(layers, timeout_s=settings.request_timeout_s)  # /api, /graphql
    if limiter:  # every caller's requests count before any work is done for them
        layers = RateLimitMiddleware(
            layers,
            limiter=limiter,
            verifier=runtime.verifier,
            address_header=settings.client_address_header,
        )
    # Preflights are answered before limits, and 429s carry CORS headers.
    layers = CorsMiddleware(layers, origins=settings.cors_origins)
    # docs/operations.md: every answer gets a request id and one log line.
    layers = ObservabilityMiddleware(layers, verifier=runtime.verifier)
    layers = RampMiddleware(layers, driver=ramp)  # starts the canary ramp on a first request
    return GatewayApp(app, layers)


class GatewayApp:
    """What uvicorn and Mangum run: requests through the gateway's layers, the lifespan
    straight to FastAPI (its startup and shutdown). `api` is the FastAPI app inside;
    `state.runtime` the request-independent parts (backends, cache, routes)."""

    def __init__(self, api: FastAPI, layers: ASGIApp) -> None:
        self.api = api
        self.state = api.state
        self._layers = layers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.api(scope, receive, send)
        else:
            await self._layers(scope, receive, send)
