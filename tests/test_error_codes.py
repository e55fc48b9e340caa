"""Every error a client can get carries `extensions.code` (docs/errors.md): graphql-core's own
errors classified as Apollo Server does, first as pure decisions over real graphql-core
errors, then through a real gateway process."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from graphql import GraphQLError, build_schema, execute, parse, validate

from gateway.errors import NotFound
from gateway.graphql_http import (
    MASKED_MESSAGE,
    RequestProblem,
    client_error,
    error_code,
    operation_problem,
    problem_body,
)
from tests.conftest import Stack

SCHEMA = build_schema("type Query { trip(id: ID!): String, count(limit: Int): Int }")


def _request_errors(query: str, variables: dict[str, Any] | None = None) -> list[GraphQLError]:
    """What graphql-core says before execution: parse, validation, then variables."""
    try:
        document = parse(query)
    except GraphQLError as error:
        return [error]
    if errors := validate(SCHEMA, document):
        return errors
    result = execute(SCHEMA, document, variable_values=variables)
    assert not hasattr(result, "__await__")
    return list(result.errors or [])


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ trip(id: 1) ", None, "GRAPHQL_PARSE_FAILED"),
        ("{ nope }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("query Q($x: ID) { count }", None, "GRAPHQL_VALIDATION_FAILED"),  # unused variable
        ("query Q($x: String) { count(limit: $x) }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("query Q($id: ID!) { trip(id: $id) }", None, "BAD_USER_INPUT"),  # not provided
        ("query Q($id: ID!) { trip(id: $id) }", {"id": None}, "BAD_USER_INPUT"),
        ("query Q($n: Int) { count(limit: $n) }", {"n": "ten"}, "BAD_USER_INPUT"),
    ],
)
def test_graphql_core_errors_get_apollo_codes(
    query: str, variables: dict[str, Any] | None, code: str
) -> None:
    errors = _request_errors(query, variables)
    assert errors and [error_code(error) for error in errors] == [code] * len(errors)
    assert all(client_error(e, stage="prod")["extensions"] == {"code": code} for e in errors)


def test_a_variable_error_shows_its_message_not_a_masked_one() -> None:
    (error,) = _request_errors("query Q($n: Int) { count(limit: $n) }", {"n": "ten"})
    shown = client_error(error, stage="prod")
    assert shown["message"].startswith("Variable '$n' has invalid value")


def test_an_own_code_is_kept() -> None:
    error = GraphQLError("Trip trip-1 not found.", path=["trip"], original_error=NotFound("x"))
    error.extensions = {"code": "NOT_FOUND"}
    assert error_code(error) == "NOT_FOUND"
    assert client_error(error, stage="dev")["extensions"] == {"code": "NOT_FOUND"}


def test_a_field_error_without_a_code_is_internal() -> None:
    assert error_code(GraphQLError("odd", path=["trip"])) == "INTERNAL_SERVER_ERROR"


def test_an_unexpected_exception_is_masked_even_without_a_path() -> None:
    error = GraphQLError("db password is hunter2", original_error=RuntimeError("boom"))
    assert client_error(error, stage="dev") == {
        "message": MASKED_MESSAGE,
        "extensions": {"code": "INTERNAL_SERVER_ERROR"},
    }


def test_request_problems_carry_their_code() -> None:
    assert problem_body(RequestProblem("Bad.")) == {
        "errors": [{"message": "Bad.", "extensions": {"code": "BAD_REQUEST"}}]
    }
    assert problem_body(operation_problem("Z")) == {
        "errors": [
            {
                "message": "Unknown operation named 'Z'.",
                "extensions": {"code": "OPERATION_RESOLUTION_FAILURE"},
            }
        ]
    }


# Through a real gateway.


def _errors(e2e: Stack, body: dict[str, Any]) -> tuple[int, Any]:
    response = httpx.post(
        f"{e2e.gateway.url}/graphql/web",
        json=body,
        headers={"accept": "application/graphql-response+json"},
        timeout=30,
    )
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"query": "{ trips "},
            {
                "message": "Syntax Error: Expected Name, found <EOF>.",
                "locations": [{"line": 1, "column": 9}],
                "extensions": {"code": "GRAPHQL_PARSE_FAILED"},
            },
        ),
        (
            {"query": "{ nope }"},
            {
                "message": "Cannot query field 'nope' on type 'Query'.",
                "locations": [{"line": 1, "column": 3}],
                "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
            },
        ),
        (
            {
                "query": "query Q($id: ID!) { trips(travelerId: $id) { nextCursor } }",
                "variables": {"id": None},
            },
            {
                "message": "Variable '$id' has invalid value: "
                "Expected value of non-null type 'ID!' not to be None.",  # graphql-core's words
                "locations": [{"line": 1, "column": 9}],
                "extensions": {"code": "BAD_USER_INPUT"},
            },
        ),
        (
            {"query": "query A { __typename }", "operationName": "Z"},
            {
                "message": "Unknown operation named 'Z'.",
                "extensions": {"code": "OPERATION_RESOLUTION_FAILURE"},
            },
        ),
    ],
)
def test_request_errors_over_http(e2e: Stack, body: dict[str, Any], expected: Any) -> None:
    assert _errors(e2e, body) == (400, {"errors": [expected]})


def test_limits_are_validation_errors(e2e: Stack) -> None:
    status, payload = _errors(e2e, {"query": "{" + " a: __typename" * 100 + " }"})
    assert status == 400
    assert {error["extensions"]["code"] for error in payload["errors"]} == {
        "GRAPHQL_VALIDATION_FAILED"
    }
