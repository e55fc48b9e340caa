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
from gateway.graphql_endpoint import GraphQLEndpoint
from gateway.invalidation import FeedFollower
from gateway.passthrough import PassthroughMiddleware
from gateway.runtime import Runtime
from gateway.schemas.mobile import build_mobile_schema
from gateway.schemas.web import build_web_schema


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    runtime = Runtime(settings)

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
        return JSONResponse({"health": runtime.routes.health(), "stats": runtime.stats.snapshot()})

    app.add_route("/healthz", health, methods=["GET"])
    app.add_route("/_gateway/routes", route_stats, methods=["GET"])
    app.add_middleware(
        PublicAnswerCache,
        cache=runtime.cache,
        policy=runtime.cache_config.answer_policy,
        paths={"/graphql/web": "web", "/graphql/mobile": "mobile"},
        max_body_bytes=settings.max_body_bytes,
    )
    # Outermost: /api/... is answered before the answer cache and FastAPI's router.
    app.add_middleware(PassthroughMiddleware, runtime=runtime)
    return app


app = create_app()
settle_after_startup()
