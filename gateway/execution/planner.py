"""Plans per operation, cached, and the decision which executor answers.

`Planner.execute` answers with the `data` of a planned run, or None: then the reference
executor (strawberry) answers, with the request's loaders already holding whatever the
planned run fetched. None comes back for operations the planner does not cover (decided
once per document and cached) and for runs that went wrong in any way (an access refusal,
a backend fault, a null where the schema forbids it), whose error paths are the reference's.

A request's stages, each callable on its own (bench/stages.py times them): `prepare_document`
(parse and validate, once per document), `Planner.lookup` (the cached plan and the coerced
variables), then `run` (`gateway.execution.run`: fetch and project, level by level).
"""

from __future__ import annotations

import hashlib
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
    GraphQLSchema,
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
class Operation:
    """One operation of one document as a request names it: the text, its sha256 (what an
    APQ or trusted-document request sends; `gateway.apq` has it for a text request too) and
    the operation name. The planner's caches key on `key` and read the text only on a miss,
    so a document sent as text or by hash finds the same plan."""

    query: str
    sha256_hash: str
    name: str | None = None

    @classmethod
    def of(cls, query: str, name: str | None = None) -> Operation:
        """Operation.of("{ me { id } }") → its sha256 computed here (tests, bench)."""
        return cls(query, hashlib.sha256(query.encode()).hexdigest(), name)

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.sha256_hash, self.name)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A parsed, valid query operation, and the variables its @skip/@include read."""

    operation: OperationDefinitionNode
    fragments: Mapping[str, FragmentDefinitionNode]
    conditions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Found:
    """What a warm request needs to run: its plan and its variables, coerced."""

    plan: Plan
    variables: VariableValues


@dataclass(frozen=True, slots=True)
class PlanCacheStats:
    """The caches of one schema, for /_gateway/routes: `parses` counts documents parsed and
    validated (each a miss of the document cache), `hits` lookups that needed neither."""

    documents: int
    plans: int
    maxsize: int
    parses: int
    hits: int


class Planner:
    """Plans of one schema, so its caches key on (document sha256, operation name): the
    schema is the planner's own. Both caches are bounded LRUs."""

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
        self.maxsize = maxsize
        # Bounded: a client sending ever new documents must not grow the process.
        self._prepared: LRUCache[tuple[str, str | None], Prepared | NotCovered] = LRUCache(maxsize)
        self._plans: LRUCache[tuple[Any, ...], Plan | NotCovered] = LRUCache(maxsize)
        self._parses = self._hits = 0

    async def execute(
        self, operation: Operation, variables: Mapping[str, Any] | None, viewer: Viewer
    ) -> dict[str, Any] | None:
        found = self.lookup(operation, variables)
        if found is None:
            return None
        try:
            return await run(found.plan, viewer, found.variables)
        except Exception as error:  # every failure is the reference executor's to answer
            log.debug("planned run gave up: %r", error)
            return None

    def lookup(self, operation: Operation, variables: Mapping[str, Any] | None) -> Found | None:
        """The plan for this request, or None: strawberry answers (not covered, or the
        variables are wrong and the reference reports them)."""
        prepared = self.prepare(operation)
        if isinstance(prepared, NotCovered):
            return None
        coerced = get_variable_values(
            self.schema, prepared.operation.variable_definitions or (), dict(variables or {})
        )
        if isinstance(coerced, list):
            return None
        plan = self.plan(operation, prepared, coerced)
        return None if isinstance(plan, NotCovered) else Found(plan, coerced)

    def prepare(self, operation: Operation) -> Prepared | NotCovered:
        key = operation.key
        prepared = self._prepared.get(key)
        if prepared is None:
            self._parses += 1
            prepared = self._prepared[key] = prepare_document(
                self.schema, self.rules, operation.query, operation.name
            )
        else:
            self._hits += 1
        return prepared

    def plan(
        self, operation: Operation, prepared: Prepared, variables: VariableValues
    ) -> Plan | NotCovered:
        coerced = variables.coerced
        key = (*operation.key, *(coerced.get(name) for name in prepared.conditions))
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._compile(prepared, coerced)
        return plan

    def stats(self) -> PlanCacheStats:
        return PlanCacheStats(
            documents=len(self._prepared),
            plans=len(self._plans),
            maxsize=self.maxsize,
            parses=self._parses,
            hits=self._hits,
        )

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


def prepare_document(
    schema: GraphQLSchema,
    rules: tuple[type[ASTValidationRule], ...],
    query: str,
    operation_name: str | None,
) -> Prepared | NotCovered:
    """Parse and validate `query` (the stage a cached plan skips) and pick the operation."""
    try:
        document = parse(query)
    except GraphQLError:
        return NotCovered("syntax error")
    if validate_document(schema, document, rules):
        return NotCovered("invalid")
    operation = _operation(document, operation_name)
    if operation is None or operation.operation is not OperationType.QUERY:
        return NotCovered("not a query")
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return Prepared(operation, fragments, condition_variables(document))
