"""Types both client schemas share, and the schema factory with the gateway's extensions."""

from __future__ import annotations

import logging
from enum import Enum
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, ParserCache, ValidationCache
from strawberry.extensions.max_aliases import create_validator as alias_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator
from strawberry.types import ExecutionContext

from gateway.errors import GatewayError
from gateway.resolvers.catalog import Catalog
from gateway.schemas.declared import attach

log = logging.getLogger("gateway.graphql")


@strawberry.enum
class TripStatus(Enum):
    BOOKED = "booked"
    CANCELLED = "cancelled"


class GatewaySchema(strawberry.Schema):
    """Logs what went wrong server-side; expected client errors are not stack traces."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            original = error.original_error
            if original is None or isinstance(original, GatewayError):
                log.info("graphql error: %s", error.message)
            else:
                log.error("unexpected error in %s", error.path, exc_info=original)


# Built once: rule classes made per request would defeat the validation cache.
MAX_DEPTH = 10  # the deepest contract query (trip → traveler → trips → items → …) needs ~7
MAX_ALIASES = 30
LIMITS: tuple[type[ASTValidationRule], ...] = (
    depth_validator(MAX_DEPTH, None),
    alias_validator(MAX_ALIASES),
)
PROD_RULES = (*LIMITS, NoSchemaIntrospectionCustomRule)


def validation_rules(*, introspection: bool) -> tuple[type[ASTValidationRule], ...]:
    """The gateway's rules on top of GraphQL's (the planner validates with the same)."""
    return LIMITS if introspection else PROD_RULES


def build(
    query: type[Any], mutation: type[Any], *, catalog: Catalog, introspection: bool
) -> strawberry.Schema:
    """The schema of `query` and `mutation`'s shape, resolved from `catalog`'s declarations."""
    rules = list(validation_rules(introspection=introspection))
    extensions: list[Any] = [
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
        lambda: AddValidationRules(rules),
    ]
    schema = GatewaySchema(query=query, mutation=mutation, extensions=extensions)
    attach(schema, catalog)
    return schema
