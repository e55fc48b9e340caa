"""What an operation costs, from the schema alone: each field 1, a field with a
`first`/`limit` argument multiplies its selection by that number, any other list field by
a declared bound; a fragment costs what it selects at each spread (counted once, so the
count stays linear). Pure: `limits.LimitGate` remembers the cost per document.

    { trips(travelerId: "t-1", first: 20) { items { id flights { id } } } }  (web)
    trips 1 + 20 x (items 1 + 1 x (id 1 + flights (1 + 20 x id 1)))  = 461
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)

PAGE_ARGUMENTS = ("first", "limit")


@dataclass(frozen=True, slots=True)
class CostBounds:
    """How a schema's lists are counted: `page` for a `first`/`limit` given by a variable,
    `list` for a list field without one, `fields` for named exceptions ("TripPage.items": 1,
    since the page's `first` already counted its items)."""

    page: int
    list: int
    fields: Mapping[str, int] = field(default_factory=dict)


BOUNDS: Mapping[str, CostBounds] = {
    "web": CostBounds(page=100, list=20, fields={"TripPage.items": 1}),
    "mobile": CostBounds(page=50, list=10, fields={"TripCardPage.items": 1}),
}


def operation_cost(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None, bounds: CostBounds
) -> int | None:
    """The static cost of the named (or only) operation; None when there is no such
    operation (execution reports that). Unknown fields count 0: validation refuses them."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [o for o in operations if operation_name is None or _name(o) == operation_name]
    if len(chosen) != 1:
        return None
    operation = chosen[0]
    root = schema.get_root_type(operation.operation)
    if root is None:
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return _Coster(schema, bounds, fragments, operation).cost(operation.selection_set, root)


def _name(operation: OperationDefinitionNode) -> str | None:
    return operation.name.value if operation.name else None


class _Coster:
    def __init__(
        self,
        schema: GraphQLSchema,
        bounds: CostBounds,
        fragments: Mapping[str, FragmentDefinitionNode],
        operation: OperationDefinitionNode,
    ) -> None:
        self.schema, self.bounds, self.fragments = schema, bounds, fragments
        self.defaults = {
            v.variable.name.value: v.default_value for v in operation.variable_definitions or ()
        }
        self.memo: dict[str, int] = {}  # fragment → its cost, so counting stays linear
        self.open: set[str] = set()  # fragments being counted: a cycle counts 0 (invalid anyway)

    def cost(self, selections: SelectionSetNode | None, parent: Any) -> int:
        if selections is None:
            return 0
        total = 0
        for node in selections.selections:
            if isinstance(node, FieldNode):
                total += self._field(node, parent)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total += self.cost(node.selection_set, inner)
            elif isinstance(node, FragmentSpreadNode):
                total += self._spread(node.name.value)
        return total

    def _spread(self, name: str) -> int:
        if name in self.memo:
            return self.memo[name]
        fragment = self.fragments.get(name)
        if fragment is None or name in self.open:
            return 0
        self.open.add(name)
        cost = self.cost(
            fragment.selection_set, self.schema.get_type(fragment.type_condition.name.value)
        )
        self.open.discard(name)
        self.memo[name] = cost
        return cost

    def _field(self, node: FieldNode, parent: Any) -> int:
        if not isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
            return 0
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return 0
        inner = self.cost(node.selection_set, get_named_type(definition.type))
        return 1 + self._multiplier(node, parent.name, definition) * inner

    def _multiplier(self, node: FieldNode, parent: str, definition: Any) -> int:
        for name in PAGE_ARGUMENTS:
            if name in definition.args:
                return self._page(node, name, definition.args[name].default_value)
        of_type = (
            definition.type.of_type
            if isinstance(definition.type, GraphQLNonNull)
            else definition.type
        )
        if isinstance(of_type, GraphQLList):
            return self.bounds.fields.get(f"{parent}.{node.name.value}", self.bounds.list)
        return 1

    def _page(self, node: FieldNode, name: str, schema_default: Any) -> int:
        given = next((a.value for a in node.arguments or () if a.name.value == name), None)
        if isinstance(given, VariableNode):  # its value is per request: count the bound,
            given = self.defaults.get(given.name.value)  # or the variable's literal default
            if given is None:
                return self.bounds.page
        if isinstance(given, IntValueNode):
            return max(int(given.value), 0)
        if given is None and isinstance(schema_default, int):
            return schema_default
        return self.bounds.page
