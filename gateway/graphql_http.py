"""GraphQL over HTTP, as the graphql-over-http specification says, in pure functions.

Parsing a request into `GraphQLParams`, choosing the media type from `Accept`, choosing the
status code, and turning errors into what a client may see. The app does the I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError

from gateway.config import Stage
from gateway.errors import GatewayError

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
MASKED_MESSAGE = "Internal server error."
SUGGESTION = " Did you mean "  # how graphql.pyutils.did_you_mean starts every hint
# Codes as Apollo Server names them, so clients written for Apollo read ours (docs/errors.md).
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"
OPERATION_RESOLUTION_FAILURE = "OPERATION_RESOLUTION_FAILURE"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
# graphql-core's messages for variable values that don't fit their types (3.3's phrasing,
# then 3.2's): they and validation errors both come without a path, only the text tells.
VARIABLE_VALUE = re.compile(
    r"^Variable '\$\w+' (has invalid (default )?value|got invalid value"
    r"|of required type .* was not provided|of non-null type .* must not be null)"
    r"|^Too many errors processing variables|^Variable values are nested too deeply"
)


class RequestProblem(Exception):
    """The HTTP request is not a well-formed GraphQL request (answered 4xx, no `data`)."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        headers: Mapping[str, str] | None = None,
        code: str = "BAD_REQUEST",
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.headers = dict(headers or {})
        self.extensions = dict(extensions or {})  # beside `code`: a limit's cost and maximum


@dataclass(frozen=True, slots=True)
class GraphQLParams:
    query: str | None
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] | None = None


def params_from_get(query_params: Mapping[str, str]) -> GraphQLParams:
    """?query=...&variables={...}&operationName=...&extensions={...} (JSON in the string)."""
    return _params(
        {
            "query": query_params.get("query"),
            "variables": _json_param(query_params, "variables"),
            "operationName": query_params.get("operationName"),
            "extensions": _json_param(query_params, "extensions"),
        }
    )


def params_from_post(body: bytes, content_type: str | None) -> GraphQLParams:
    media = (content_type or "").split(";")[0].strip().lower()
    if media == "application/graphql":
        return GraphQLParams(query=body.decode("utf-8", errors="replace"))
    if media != JSON:
        raise RequestProblem(f"Content-Type must be {JSON}, got {media or 'none'}.", status=415)
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: JSON nested past the stack
        raise RequestProblem("The request body is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise RequestProblem("The request body must be a JSON object (batching is not supported).")
    return _params(payload)


def _json_param(query_params: Mapping[str, str], name: str) -> Any:
    raw = query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise RequestProblem(f"`{name}` is not valid JSON.") from None


def _params(payload: Mapping[str, Any]) -> GraphQLParams:
    query, variables = payload.get("query"), payload.get("variables")
    operation, extensions = payload.get("operationName"), payload.get("extensions")
    if query is not None and not isinstance(query, str):
        raise RequestProblem("`query` must be a string.")
    if variables is not None and not isinstance(variables, dict):
        raise RequestProblem("`variables` must be an object.")
    if operation is not None and not isinstance(operation, str):
        raise RequestProblem("`operationName` must be a string.")
    if extensions is not None and not isinstance(extensions, dict):
        raise RequestProblem("`extensions` must be an object.")
    return GraphQLParams(query, variables, operation, extensions)


def negotiate(accept: str | None) -> str:
    """The media type to answer with: graphql-response+json when asked for, else JSON.

    A client that sends no Accept (or */*) gets application/json, as the spec's legacy
    watershed says; one that accepts neither gets 406.
    """
    if not accept:
        return JSON
    ranges = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    for media in ranges:
        if media == GRAPHQL_RESPONSE:
            return GRAPHQL_RESPONSE
        if media in (JSON, "application/*", "*/*"):
            return JSON
    raise RequestProblem(f"Acceptable media types are {GRAPHQL_RESPONSE} and {JSON}.", status=406)


def is_request_error(errors: list[GraphQLError]) -> bool:
    """Parse and validation errors have no path; field errors during execution do."""
    return bool(errors) and all(error.path is None for error in errors)


def status_for(media_type: str, *, request_error: bool) -> int:
    if media_type == GRAPHQL_RESPONSE and request_error:
        return 400
    return 200


def client_error(error: GraphQLError, *, stage: Stage) -> dict[str, Any]:
    """What a client may see of an error, always with an `extensions.code`: the gateway's own
    errors and GraphQL's, as they are; anything unexpected masked (no stack trace, no backend
    URL). Outside dev, without graphql-core's "Did you mean …?" hints: they would spell out
    the schema that turning introspection off keeps to itself."""
    original = error.original_error
    # A GraphQLError as the cause is graphql-core's own wording (a variable's value), safe to show.
    if original is None or isinstance(original, (GatewayError, GraphQLError)):
        formatted: dict[str, Any] = dict(error.formatted)
        extensions = formatted.get("extensions") or {}
        formatted["extensions"] = {"code": error_code(error), **extensions}
        if stage == "dev":
            return formatted
        return formatted | {"message": without_suggestions(formatted["message"])}
    masked = GraphQLError(
        MASKED_MESSAGE,
        nodes=error.nodes,
        path=error.path,
        extensions={"code": INTERNAL_SERVER_ERROR},
    )
    return masked.formatted  # type: ignore[return-value]


def error_code(error: GraphQLError) -> str:
    """The code of an error the client may see: its own if it has one, else by where it came
    from. `Syntax Error: …` → GRAPHQL_PARSE_FAILED; `Cannot query field …` (and every other
    validation rule, the depth and alias limits included) → GRAPHQL_VALIDATION_FAILED;
    `Variable '$id' has invalid value …` → BAD_USER_INPUT; a field error → INTERNAL_SERVER_ERROR,
    as Apollo does for an error without a code."""
    code = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return code
    if isinstance(error, GraphQLSyntaxError):
        return PARSE_FAILED
    if error.path is not None:
        return INTERNAL_SERVER_ERROR
    if VARIABLE_VALUE.match(error.message):
        return BAD_USER_INPUT
    return VALIDATION_FAILED


def operation_problem(operation_name: str | None) -> RequestProblem:
    """No operation to run in the document: an unknown `operationName`, or none given where
    the document has several (strawberry raises CannotGetOperationTypeError for both)."""
    message = (
        f"Unknown operation named '{operation_name}'."
        if operation_name
        else "Must provide operation name if query contains multiple operations."
    )
    return RequestProblem(message, code=OPERATION_RESOLUTION_FAILURE)


def without_suggestions(message: str) -> str:
    """`Cannot query field 'nme' on type 'Traveler'. Did you mean 'name'?` →
    `Cannot query field 'nme' on type 'Traveler'.` (graphql-core always puts the hint last)."""
    head, found, _ = message.rpartition(SUGGESTION)
    return head if found else message


def problem_body(problem: RequestProblem) -> dict[str, Any]:
    extensions = {"code": problem.code, **problem.extensions}
    return {"errors": [{"message": problem.message, "extensions": extensions}]}
