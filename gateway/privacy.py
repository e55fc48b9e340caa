"""Which answers may be public: fail-closed, decided from the declarations of the root
fields an operation selects (pure; see docs/caching.md, "Private by default").

A root field is public only when its declaration in `gateway.resolvers` says so
(`Load(..., public="destinations")`, the TTL kind that caps the answer's max-age). A root
field without that attribute, an introspection field, a mutation, a document that does not
parse: all private. `__typename` is a constant of the schema and neither makes an answer
public nor private; an operation that selects nothing else is private (nothing declared).

    privacy = Privacy.of(schema, WEB)
    privacy.public_kinds("{ topDestinations { code } }", None)          -> ("destinations",)
    privacy.public_kinds("{ topDestinations { code } me { id } }", None) -> None (private)

The decision reads the document, not the run: both executors (planned and strawberry)
answer the same document, so they cannot disagree. `@skip`/`@include` are not evaluated: a
private root field under `@skip(if: true)` still makes the answer private (the safe side).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cachetools import LRUCache
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    parse,
)

from gateway.cache.keys import query_hash
from gateway.resolvers.fields import Load, TypeFields

CACHE_SIZE = 512  # documents, like the planner's plan cache
TYPENAME = "__typename"


def declared_public(schema: GraphQLSchema, roots: TypeFields) -> dict[str, str]:
    """GraphQL root field name → TTL kind, for the root fields declared public in `roots`
    (the catalog's "Query" declarations, keyed by Python name)."""
    query = schema.query_type
    if query is None:
        return {}
    public: dict[str, str] = {}
    for name, gql_field in query.fields.items():
        definition = gql_field.extensions.get("strawberry-definition")
        python_name = definition.python_name if definition is not None else name
        declared = roots.get(python_name)
        if isinstance(declared, Load) and declared.public is not None:
            public[name] = declared.public
    return public


@dataclass(frozen=True, slots=True)
class Roots:
    """What an operation selects at its root: its type and its root fields' names."""

    operation: OperationType
    fields: frozenset[str]


def roots_of(query: str, operation_name: str | None) -> Roots | None:
    """The root selection of the operation the request names; None when it can't be known
    (a syntax error, no such operation, an unknown fragment): the answer then has errors."""
    try:
        document = parse(query, no_location=True)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [op for op in operations if op.name and op.name.value == operation_name]
    if len(operations) != 1:
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    names: set[str] = set()
    if not _collect(operations[0].selection_set, fragments, names, set()):
        return None
    return Roots(operations[0].operation, frozenset(names))


def _collect(
    selections: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    names: set[str],
    seen: set[str],
) -> bool:
    for node in selections.selections:
        if isinstance(node, FieldNode):
            names.add(node.name.value)
        elif isinstance(node, InlineFragmentNode):
            if not _collect(node.selection_set, fragments, names, seen):
                return False
        elif isinstance(node, FragmentSpreadNode):
            name = node.name.value
            if name in seen:  # a cycle is invalid GraphQL: validation reports it
                continue
            fragment = fragments.get(name)
            if fragment is None:
                return False
            seen.add(name)
            if not _collect(fragment.selection_set, fragments, names, seen):
                return False
    return True


def public_kinds(roots: Roots | None, declared: Mapping[str, str]) -> tuple[str, ...] | None:
    """The TTL kinds of the public root fields selected, or None: the answer is private.

    Public needs a query whose every root field (bar `__typename`) is declared public, and
    at least one such field: nothing declared is nothing proven.
    """
    if roots is None or roots.operation is not OperationType.QUERY:
        return None
    data_fields = roots.fields - {TYPENAME}
    if not data_fields or not data_fields <= declared.keys():
        return None
    return tuple(sorted({declared[name] for name in data_fields}))


@dataclass(slots=True)
class Privacy:
    """One schema's public declarations, and the decision per document (cached)."""

    declared: Mapping[str, str]
    _cache: LRUCache[tuple[str, str | None], tuple[str, ...] | None] = field(
        default_factory=lambda: LRUCache(CACHE_SIZE)
    )

    @classmethod
    def of(cls, schema: GraphQLSchema, catalog: Mapping[str, TypeFields]) -> Privacy:
        return cls(declared_public(schema, catalog.get("Query", {})))

    def public_kinds(
        self, query: str, operation_name: str | None, *, sha256_hash: str | None = None
    ) -> tuple[str, ...] | None:
        """Cached by the document's sha256 (the endpoint has it, `gateway.apq`), as the
        planner's plans are: a warm request by hash reads the text not at all."""
        key = (sha256_hash or query_hash(query), operation_name)
        if key not in self._cache:
            self._cache[key] = public_kinds(roots_of(query, operation_name), self.declared)
        return self._cache[key]
