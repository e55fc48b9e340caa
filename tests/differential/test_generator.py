"""The generator itself: every operation it draws is valid for the gateway."""

from __future__ import annotations

from graphql import parse, validate
from hypothesis import given, settings

from tests.differential.settings import CI
from tests.differential.strategies import SCHEMAS, Case, any_cases, graphql_schema


@settings(CI, max_examples=300)
@given(any_cases())
def test_every_generated_operation_validates(case: Case) -> None:
    errors = validate(graphql_schema(case.schema), parse(case.document))
    assert errors == [], f"{errors}\n{case}"


def test_the_schemas_are_the_exported_ones() -> None:
    for name in SCHEMAS:
        assert graphql_schema(name).query_type is not None
