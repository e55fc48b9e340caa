"""Everything that lives as long as the process (a warm Lambda container, a uvicorn worker).

Built once, connects to nothing until the first request needs it. Per-request objects
(identity, loaders, viewer) are made by `context_for`.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping

import httpx

from gateway.auth import TokenVerifier, identify, verifier_from_settings
from gateway.backend import TRANSPORTS, BackendClient, TransportFactory
from gateway.cache.inflight import InFlight
from gateway.cache.readthrough import Entity
from gateway.cache.request import RequestCache
from gateway.cache.setup import CacheConfig, build_cache
from gateway.config import Settings
from gateway.context import RequestContext
from gateway.loaders import Loaders
from gateway.routing.reload import RouteTableSource
from gateway.routing.remote import RemoteRouteSource, remote_source
from gateway.routing.stats import RouteStats
from gateway.routing.table import Caller, RouteTable, default_table
from gateway.upstream import ShadowRunner, Upstream
from gateway.viewer import Viewer


class Runtime:
    def __init__(
        self,
        settings: Settings,
        *,
        cache_config: CacheConfig | None = None,
        env: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.cache_config = cache_config or CacheConfig.from_env(env)
        # On Lambda a frozen container can't finish background writes: write before answering.
        on_lambda = "AWS_LAMBDA_FUNCTION_NAME" in (os.environ if env is None else env)
        self.cache = build_cache(self.cache_config, write_behind=not on_lambda)
        self.inflight: InFlight[Entity | None] = InFlight()
        self.loads: InFlight[bytes] = InFlight()
        self.client = BackendClient(
            transport=_transport_factory(settings, transport), breakers=settings.breaker
        )
        self.stats = RouteStats()
        self.executors: Counter[str] = Counter()  # which executor answered: planned / reference
        self.shadows = ShadowRunner(self.client, self.stats)
        self.routes = _route_source(settings, env)
        self.verifier: TokenVerifier = verifier_from_settings(
            jwt_secret=settings.jwt_secret,
            jwks_url=settings.jwks_url,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )

    async def context_for(self, caller: Caller) -> RequestContext:
        """The request's context: its token verified, its loaders routed for who it is."""
        identity = await identify(caller.authorization, self.verifier)
        upstream = self.upstream_for(caller.identified(identity.traveler_id, identity.role))
        cache = self.request_cache()
        return RequestContext(viewer=Viewer(identity, Loaders(upstream, cache)), cache=cache)

    def request_cache(self) -> RequestCache:
        return RequestCache(self.cache, self.cache_config, self.inflight, self.loads)

    def upstream_for(self, caller: Caller, *, table: RouteTable | None = None) -> Upstream:
        """One route table for the whole request, however long it takes."""
        table = table or self.routes.current()
        return Upstream(self.client, table, caller=caller, stats=self.stats, shadows=self.shadows)


def _transport_factory(
    settings: Settings, transport: httpx.AsyncBaseTransport | None
) -> TransportFactory:
    """The configured transport, or the one given (tests: `httpx.ASGITransport(app=stub)`)."""
    if transport is None:
        return TRANSPORTS[settings.transport]
    given = transport
    return lambda limits: given


def _route_source(
    settings: Settings, env: Mapping[str, str] | None
) -> RouteTableSource | RemoteRouteSource:
    if os.path.exists(settings.routes_file):
        source = RouteTableSource(settings.routes_file, env=env)
    else:
        table = default_table(legacy_url=settings.legacy_url, flights_url=settings.flights_url)
        source = RouteTableSource.from_table(table)
    # ROUTES_STORE: the table comes from the route store; the file is the fallback.
    return remote_source(env, fallback=source.current()) or source
