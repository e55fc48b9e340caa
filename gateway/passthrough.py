"""REST passthrough: old clients keep calling `/api/...`; the route table picks the backend.

Method, path, query, body and headers go through (minus hop-by-hop headers, plus
X-Forwarded-For / X-Forwarded-Proto / X-Request-Id); status, headers and body come back
unchanged, streamed. A backend that can't be reached answers 502, one that misses its
deadline 504, both as JSON that names neither a URL nor a stack.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import replace

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gateway.auth import identify
from gateway.errors import BackendError, BackendTimeout
from gateway.graphql_endpoint import incoming
from gateway.routing.select import OVERRIDE_HEADER, RouteDecision
from gateway.routing.table import RouteTable
from gateway.runtime import IncomingRequest, Runtime
from gateway.upstream import Caller

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
NOT_FORWARDED = HOP_BY_HOP | {"x-route-target"}


def forward_headers(
    headers: Iterable[tuple[str, str]], *, client_addr: str | None, scheme: str, request_id: str
) -> list[tuple[str, str]]:
    """The request headers a backend gets.

    [("Host", "gw"), ("Accept", "*/*"), ("X-Forwarded-For", "10.0.0.1")], client 10.0.0.2
      → [("accept", "*/*"), ("x-forwarded-for", "10.0.0.1, 10.0.0.2"),
         ("x-forwarded-proto", "http"), ("x-request-id", "...")]
    """
    kept = [(k.lower(), v) for k, v in headers if k.lower() not in NOT_FORWARDED]
    connection_listed = {
        h.strip().lower() for k, v in headers if k.lower() == "connection" for h in v.split(",")
    }
    kept = [(k, v) for k, v in kept if k not in connection_listed]
    chain = [v for k, v in kept if k == "x-forwarded-for"]
    kept = [
        (k, v) for k, v in kept if k not in ("x-forwarded-for", "x-forwarded-proto", "x-request-id")
    ]
    forwarded_for = ", ".join([*chain, client_addr] if client_addr else chain)
    if forwarded_for:
        kept.append(("x-forwarded-for", forwarded_for))
    kept += [("x-forwarded-proto", scheme), ("x-request-id", request_id)]
    return kept


def response_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """The backend's response headers, repeated ones (Set-Cookie) kept, hop-by-hop dropped."""
    return [
        (k.lower().encode("latin-1"), v.encode("latin-1"))
        for k, v in headers
        if k.lower() not in HOP_BY_HOP
    ]


def needs_identity(table: RouteTable, method: str, path: str, headers: Mapping[str, str]) -> bool:
    route = table.match(method, path)
    sticky = route is not None and route.canary is not None and route.canary.sticky == "traveler"
    return sticky or OVERRIDE_HEADER in headers


def error_response(error: BackendError, request_id: str) -> Response:
    status = 504 if isinstance(error, BackendTimeout) else 502
    body = {
        "error": "gateway_timeout" if status == 504 else "bad_gateway",
        "message": error.message,
    }
    return Response(
        json.dumps(body),
        status_code=status,
        media_type="application/json",
        headers={"x-request-id": request_id, "cache-control": "no-store"},
    )


class Passthrough:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def handle(self, request: Request) -> Response:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        seen = incoming(request)
        path = request.url.path
        table = self.runtime.routes.current()
        caller = await self._caller(table, request.method, path, seen)
        upstream = self.runtime.upstream_for(caller, table=table)
        decision = upstream.decide(request.method, path)
        client = self.runtime.client
        outgoing = client.client_for(decision.backend.url).build_request(
            request.method,
            path,
            params=request.url.query or None,
            content=await request.body(),
            headers=forward_headers(
                request.headers.items(),
                client_addr=seen.client_addr,
                scheme=request.url.scheme,
                request_id=request_id,
            ),
        )
        try:
            response = await client.send(decision.backend, outgoing, stream=True, pass_5xx=True)
        except BackendError as error:
            self.runtime.stats.record(decision.route_key, decision.backend.name, ok=False)
            return error_response(error, request_id)
        self.runtime.stats.record(
            decision.route_key, decision.backend.name, ok=response.status_code < 500
        )
        headers = [
            *response_headers(response.headers.multi_items()),
            (b"x-request-id", request_id.encode("latin-1")),
        ]
        answer: Response
        if decision.shadow is not None and request.method == "GET":
            body = b"".join([chunk async for chunk in response.aiter_raw()])
            await response.aclose()
            self._shadow(decision, path, request.query_params, body)
            answer = Response(body, status_code=response.status_code)
        else:
            answer = StreamingResponse(
                response.aiter_raw(),
                status_code=response.status_code,
                background=BackgroundTask(response.aclose),
            )
        answer.raw_headers = [h for h in answer.raw_headers if h[0] != b"content-type"] + headers
        return answer

    async def _caller(
        self, table: RouteTable, method: str, path: str, seen: IncomingRequest
    ) -> Caller:
        """Who is asking, as far as routing needs to know: the token is verified only when
        the route's decision depends on it (a traveler-sticky canary, the QA override)."""
        caller = Caller(client_addr=seen.client_addr, headers=seen.headers, cookies=seen.cookies)
        if not needs_identity(table, method, path, seen.headers):
            return caller
        identity = await identify(seen.authorization, self.runtime.verifier)
        return replace(caller, traveler_id=identity.traveler_id, role=identity.role)

    def _shadow(
        self, decision: RouteDecision, path: str, params: Mapping[str, str], body: bytes
    ) -> None:
        try:
            primary = json.loads(body)
        except ValueError:
            return
        self.runtime.shadows.start(decision, path, dict(params), primary)
