"""What a client sees of GraphQL's own errors per stage: prod drops "Did you mean …?"."""

from __future__ import annotations

import pytest
from graphql import GraphQLError

from gateway.errors import Unauthenticated
from gateway.graphql_http import client_error, without_suggestions
from gateway.schemas.web import build_web_schema

SCHEMA = build_web_schema(introspection=False)

TYPOS = {
    "{ me { nme } }": "Cannot query field 'nme' on type 'Traveler'.",
    "{ trips(travelerId: 1, staus: BOOKED) { nextCursor } }": (
        "Unknown argument 'staus' on field 'Query.trips'."
    ),
    "{ trips(travelerId: 1, status: BOKED) { nextCursor } }": (
        "Value 'BOKED' does not exist in 'TripStatus' enum."
    ),
    "query($s: TripStatu) { trips(travelerId: 1, status: $s) { nextCursor } }": (
        "Unknown type 'TripStatu'."
    ),
}


async def errors_of(query: str) -> list[GraphQLError]:
    result = await SCHEMA.execute(query)
    assert result.errors
    return result.errors


@pytest.mark.parametrize(("query", "without"), TYPOS.items())
async def test_prod_answers_typos_without_suggestions(query: str, without: str) -> None:
    errors = await errors_of(query)
    dev = [client_error(error, stage="dev")["message"] for error in errors]
    prod = [client_error(error, stage="prod") for error in errors]
    assert without in prod[0]["message"] and "Did you mean" not in str(prod)
    assert any(message.startswith(without + " Did you mean ") for message in dev)
    assert prod[0]["locations"] == errors[0].formatted["locations"]  # only the hint goes


def test_the_gateways_own_errors_are_unchanged_in_prod() -> None:
    refused = Unauthenticated("expired")
    error = GraphQLError(
        refused.message, path=["me"], original_error=refused, extensions=refused.extensions
    )
    assert client_error(error, stage="prod") == {
        "message": "A valid bearer token is required (expired).",
        "path": ["me"],
        "extensions": {"code": "UNAUTHENTICATED"},
    }


@pytest.mark.parametrize(
    ("message", "kept"),
    [
        (
            "Cannot query field 'nme' on type 'Traveler'. Did you mean 'name'?",
            "Cannot query field 'nme' on type 'Traveler'.",
        ),
        ("Unknown type 'Tri'. Did you mean 'Trip' or 'TripPage'?", "Unknown type 'Tri'."),
        (
            "Value 'X' does not exist in 'Cabin' enum. Did you mean the enum value 'ECONOMY'?",
            "Value 'X' does not exist in 'Cabin' enum.",
        ),
        ("Syntax Error: Expected Name, found '}'.", "Syntax Error: Expected Name, found '}'."),
    ],
)
def test_without_suggestions(message: str, kept: str) -> None:
    assert without_suggestions(message) == kept
