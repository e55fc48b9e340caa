"""The HTTP edge of the two GraphQL schemas: request in, GraphQL over HTTP response out."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from gateway import apq
from gateway.answers import answer_response, dump, public_answer_key
from gateway.cache.policy import PRIVATE
from gateway.config import Settings
from gateway.context import RequestContext
from gateway.execution.planner import Operation, Planner
from gateway.graphql_http import (
    GRAPHQL_RESPONSE,
    JSON,
    GraphQLParams,
    RequestProblem,
    client_error,
    is_request_error,
    negotiate,
    operation_problem,
    params_from_get,
    params_from_post,
    problem_body,
    status_for,
)
from gateway.ide import IdePage
from gateway.limits import LimitGate, LimitRefused
from gateway.observability.tracing import execution_span
from gateway.persisted import document_problem
from gateway.privacy import Privacy
from gateway.resolvers.catalog import CATALOGS
from gateway.routing.table import Caller
from gateway.runtime import Runtime

QUERIES_ONLY = frozenset({OperationType.QUERY})
QUERIES_AND_MUTATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})


class GraphQLEndpoint:
    def __init__(
        self,
        runtime: Runtime,
        name: str,
        schema: strawberry.Schema,
        *,
        ide: bool,
        planner: Planner | None = None,
    ) -> None:
        self.runtime = runtime
        self.name = name
        self.schema = schema
        self.planner = planner  # None: strawberry answers everything
        # Cache privacy: which root fields are declared public (gateway.privacy).
        self.privacy = Privacy.of(schema._schema, CATALOGS.get(name, {}))
        self.ide = IdePage(f"/graphql/{name}", runtime.settings) if ide else None  # dev only
        self.limits, self.apq_rules = _limits_and_rules(name, schema, runtime.settings)

    async def handle(self, request: Request) -> Response:
        if self.ide and _wants_html(request):
            return HTMLResponse(self.ide.render())
        try:
            media_type = negotiate(request.headers.get("accept"))
            params = await _read_params(request)
            self.limits.check_request(params.query, params.variables)  # limits before work
            try:
                resolved = await apq.resolve(params, self.runtime.cache, self.apq_rules)
            except apq.PersistedQueryNotFound:
                status = 404 if media_type == GRAPHQL_RESPONSE else 200
                return _plain(dump(apq.not_found_body()), status, media_type)
            if resolved is None:
                raise RequestProblem("A GraphQL request needs a `query`.")
            self.limits.check_request(resolved.query, None)  # a registered one, same limit
            self.limits.check_cost(resolved.query, resolved.sha256_hash, params.operation_name)
            return await self._execute(request, params, resolved, media_type)
        except LimitRefused as refused:
            body = problem_body(
                RequestProblem(refused.message, code=refused.code, extensions=refused.extensions)
            )
            return _plain(dump(body), 400, JSON)
        except RequestProblem as problem:
            return _plain(dump(problem_body(problem)), problem.status, JSON, problem.headers)

    async def _execute(
        self, request: Request, params: GraphQLParams, resolved: apq.ResolvedQuery, media_type: str
    ) -> Response:
        context = await self.runtime.context_for(incoming(request))
        executor, errors = "planned", list[GraphQLError]()
        data = await self._planned(params, resolved, context)
        if data is None:
            executor = "reference"
            if self.planner is not None:  # what a planned run loaded arrives as if fresh
                context.viewer.loaders.replay()
            data, errors = await self._reference(request, params, resolved, context)
        request_error = is_request_error(errors)
        body: dict[str, Any] = {}
        if errors:
            stage = self.runtime.settings.stage
            body["errors"] = [client_error(error, stage=stage) for error in errors]
        if not request_error:
            body["data"] = data
        trace = context.cache.trace
        if trace.stale_reason:
            context.notes["cache"] = {"stale": True, "reason": trace.stale_reason}
        if context.notes:
            body["extensions"] = context.notes
        content = dump(body)
        kinds = self.privacy.public_kinds(
            resolved.query, params.operation_name, sha256_hash=resolved.sha256_hash
        )
        ttls = None if kinds is None else [self.runtime.cache_config.ttl(k) for k in kinds]
        answer_policy = self.runtime.cache_config.answer_policy()
        policy = trace.policy(answer_policy, has_errors=bool(errors), declared_ttls=ttls)
        if policy.public:
            await self._store(params, resolved, content, policy.max_age)
        response = answer_response(
            content,
            status=status_for(media_type, request_error=request_error),
            media_type=media_type,
            policy=policy,
            x_cache=trace.x_cache(),
            if_none_match_header=request.headers.get("if-none-match"),
        )
        self.runtime.executors[executor] += 1
        if self.runtime.settings.dev:
            response.headers["x-gateway-executor"] = executor
        return response

    async def _planned(
        self, params: GraphQLParams, resolved: apq.ResolvedQuery, context: RequestContext
    ) -> dict[str, Any] | None:
        if self.planner is None:
            return None
        with execution_span("plan"):
            # Keyed by the document's sha256, as a persisted-query hash names it: a warm
            # request reads neither the text nor parses it.
            operation = Operation(resolved.query, resolved.sha256_hash, params.operation_name)
            return await self.planner.execute(operation, params.variables, context.viewer)

    async def _reference(
        self,
        request: Request,
        params: GraphQLParams,
        resolved: apq.ResolvedQuery,
        context: RequestContext,
    ) -> tuple[dict[str, Any] | None, list[GraphQLError]]:
        """Strawberry's executor: every error path, null bubbling and partial answer."""
        allowed = QUERIES_ONLY if request.method == "GET" else QUERIES_AND_MUTATIONS
        try:
            with execution_span("reference"):
                result = await self.schema.execute(
                    resolved.query,
                    variable_values=params.variables,
                    context_value=context,
                    operation_name=params.operation_name,
                    allowed_operation_types=allowed,
                )
        except InvalidOperationTypeError:
            raise RequestProblem(
                "Mutations are only allowed over POST.", status=405, headers={"Allow": "POST"}
            ) from None
        except CannotGetOperationTypeError as error:
            raise operation_problem(error.operation_name) from None
        return result.data, result.errors or []

    async def _store(
        self, params: GraphQLParams, resolved: apq.ResolvedQuery, content: bytes, ttl_s: int
    ) -> None:
        key = public_answer_key(self.name, params, resolved.sha256_hash)
        if key is not None:
            stale_s = self.runtime.cache_config.stale_s
            await self.runtime.cache.set_many({key: content}, ttl_s=ttl_s, stale_s=stale_s)


def _limits_and_rules(
    name: str, schema: strawberry.Schema, settings: Settings
) -> tuple[LimitGate, apq.Rules]:
    """The limit checks and APQ rules of one schema (docs/security.md)."""
    graphql_schema = schema._schema
    manifest = settings.trusted_documents
    rules = apq.Rules(
        is_valid=lambda text: document_problem(text, graphql_schema) is None,
        ttl_s=settings.apq_ttl_s,
        max_bytes=settings.apq_max_bytes,
        trusted=manifest.bodies() if manifest else None,
    )
    return LimitGate(name, graphql_schema, settings.limits), rules


def incoming(request: Request) -> Caller:
    """Who is asking, as the request says (the context verifies the token)."""
    client = request.client
    return Caller(
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


def _plain(
    content: bytes, status: int, media_type: str, headers: dict[str, str] | None = None
) -> Response:
    response = Response(content, status_code=status, media_type=media_type, headers=headers)
    response.headers["cache-control"] = PRIVATE.header()
    return response
