"""Plans per operation, cached, and the decision which executor answers.

`Planner.execute` answers with the `data` of a planned run, or None: then the reference
executor (strawberry) answers, with the request's loaders already holding whatever the
planned run fetched. None comes back for operations the planner does not cover (decided
once per document and cached) and for runs that went wrong in any way (an access refusal,
a backend fault, a null where the schema forbids it), whose error paths are the reference's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import strawberry
from cachetools import LRUCache
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    parse,
    specified_rules,
)
from graphql.execution.values import VariableValues, get_variable_values
from graphql.validation import ASTValidationRule
from strawberry.schema.schema import validate_document

from gateway.execution.collect import condition_variables
from gateway.execution.errors import NotCovered
from gateway.execution.nodes import Plan
from gateway.execution.plan import Compiler
from gateway.execution.run import run
from gateway.resolvers.catalog import Catalog
from gateway.viewer import Viewer

log = logging.getLogger("gateway.planner")
PLAN_CACHE_SIZE = 512


@dataclass(frozen=True, slots=True)
class Prepared:
    """A parsed, valid query operation, and the variables its @skip/@include read."""

    operation: OperationDefinitionNode
    fragments: Mapping[str, FragmentDefinitionNode]
    conditions: tuple[str, ...]


class Planner:
    def __init__(
        self,
        schema: strawberry.Schema,
        catalog: Catalog,
        *,
        rules: Sequence[type[ASTValidationRule]] = (),
        maxsize: int = PLAN_CACHE_SIZE,
    ) -> None:
        self.schema = schema._schema
        self.catalog = catalog
        self.rules = (*specified_rules, *rules)
        # Bounded: a client sending ever new documents must not grow the process.
        self._prepared: LRUCache[tuple[str, str | None], Prepared | NotCovered] = LRUCache(maxsize)
        self._plans: LRUCache[tuple[Any, ...], Plan | NotCovered] = LRUCache(maxsize)

    async def execute(
        self,
        query: str,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        viewer: Viewer,
    ) -> dict[str, Any] | None:
        prepared = self.prepare(query, operation_name)
        if isinstance(prepared, NotCovered):
            return None
        coerced = get_variable_values(
            self.schema, prepared.operation.variable_definitions or (), dict(variables or {})
        )
        if isinstance(coerced, list):  # the reference reports the variables' errors
            return None
        plan = self.plan(query, operation_name, prepared, coerced)
        if isinstance(plan, NotCovered):
            return None
        try:
            return await run(plan, viewer, coerced)
        except Exception as error:  # every failure is the reference executor's to answer
            log.debug("planned run gave up: %r", error)
            return None

    def prepare(self, query: str, operation_name: str | None) -> Prepared | NotCovered:
        key = (query, operation_name)
        prepared = self._prepared.get(key)
        if prepared is None:
            prepared = self._prepared[key] = self._prepare(query, operation_name)
        return prepared

    def plan(
        self,
        query: str,
        operation_name: str | None,
        prepared: Prepared,
        variables: VariableValues,
    ) -> Plan | NotCovered:
        coerced = variables.coerced
        key = (query, operation_name, *(coerced.get(name) for name in prepared.conditions))
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._compile(prepared, coerced)
        return plan

    def _prepare(self, query: str, operation_name: str | None) -> Prepared | NotCovered:
        try:
            document = parse(query)
        except GraphQLError:
            return NotCovered("syntax error")
        if validate_document(self.schema, document, self.rules):
            return NotCovered("invalid")
        operation = _operation(document, operation_name)
        if operation is None or operation.operation is not OperationType.QUERY:
            return NotCovered("not a query")
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        return Prepared(operation, fragments, condition_variables(document))

    def _compile(self, prepared: Prepared, variables: Mapping[str, Any]) -> Plan | NotCovered:
        query_type = self.schema.query_type
        if query_type is None:
            return NotCovered("no query type")
        compiler = Compiler(self.catalog, prepared.fragments, variables)
        try:
            root = compiler.selection(query_type, [prepared.operation.selection_set])
            return Plan(root, tuple(compiler.argument_checks))
        except NotCovered as reason:
            return reason


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    named = [op for op in operations if op.name is not None and op.name.value == name]
    return named[0] if len(named) == 1 else None
