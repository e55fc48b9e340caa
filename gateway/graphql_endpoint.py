"""The HTTP edge of the two GraphQL schemas: request in, GraphQL over HTTP response out."""

from __future__ import annotations

import json
from typing import Any

import strawberry
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from strawberry.http.ides import get_graphql_ide_html
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from gateway.graphql_http import (
    JSON,
    GraphQLParams,
    RequestProblem,
    client_error,
    is_request_error,
    negotiate,
    params_from_get,
    params_from_post,
    problem_body,
    status_for,
)
from gateway.runtime import IncomingRequest, Runtime

QUERIES_ONLY = frozenset({OperationType.QUERY})
QUERIES_AND_MUTATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})
NO_STORE = "private, no-store"


class GraphQLEndpoint:
    def __init__(self, runtime: Runtime, schema: strawberry.Schema, *, ide: bool) -> None:
        self.runtime = runtime
        self.schema = schema
        self.ide_html = get_graphql_ide_html(graphql_ide="graphiql") if ide else None

    async def handle(self, request: Request) -> Response:
        if self.ide_html and _wants_html(request):
            return HTMLResponse(self.ide_html)
        try:
            media_type = negotiate(request.headers.get("accept"))
            params = await _read_params(request)
            return await self._execute(request, params, media_type)
        except RequestProblem as problem:
            return _json_response(problem_body(problem), problem.status, JSON, problem.headers)

    async def _execute(self, request: Request, params: GraphQLParams, media_type: str) -> Response:
        if not params.query:
            raise RequestProblem("A GraphQL request needs a `query`.")
        context = await self.runtime.context_for(incoming(request))
        allowed = QUERIES_ONLY if request.method == "GET" else QUERIES_AND_MUTATIONS
        try:
            result = await self.schema.execute(
                params.query,
                variable_values=params.variables,
                context_value=context,
                operation_name=params.operation_name,
                allowed_operation_types=allowed,
            )
        except InvalidOperationTypeError:
            raise RequestProblem(
                "Mutations are only allowed over POST.", status=405, headers={"Allow": "POST"}
            ) from None
        errors = result.errors or []
        body: dict[str, Any] = {}
        if errors:
            body["errors"] = [client_error(error) for error in errors]
        if not is_request_error(errors):
            body["data"] = result.data
        if context.notes:
            body["extensions"] = context.notes
        status = status_for(media_type, request_error=is_request_error(errors))
        return _json_response(body, status, media_type)


def incoming(request: Request) -> IncomingRequest:
    client = request.client
    return IncomingRequest(
        authorization=request.headers.get("authorization"),
        client_addr=client.host if client else None,
        headers=request.headers,
        cookies=request.cookies,
    )


async def _read_params(request: Request) -> GraphQLParams:
    if request.method == "GET":
        return params_from_get(request.query_params)
    return params_from_post(await request.body(), request.headers.get("content-type"))


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return request.method == "GET" and "text/html" in accept and "query" not in request.query_params


def _json_response(
    body: dict[str, Any], status: int, media_type: str, headers: dict[str, str] | None = None
) -> Response:
    content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    response = Response(content, status_code=status, media_type=media_type, headers=headers)
    response.headers["cache-control"] = NO_STORE
    return response
