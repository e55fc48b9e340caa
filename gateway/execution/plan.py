"""An operation compiled against the resolver declarations: what to load, what to write.

A `Selection` is one object selection set, its fields already merged (fragments, aliases,
@skip/@include decided; see `collect`), in response order. A `Leaf` writes a serialised
value; a `Child` is an object-typed field, resolved synchronously (`get`: a read, a
computation) or in a batch for the whole level (`load`). Nullability is recorded per
field: a null the schema forbids makes the run give up (`Fallback`), so null bubbling stays
the reference executor's business.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from operator import attrgetter, itemgetter
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    SelectionSetNode,
    is_leaf_type,
)
from graphql.execution.values import VariableValues, get_argument_values

from gateway.execution.collect import collect
from gateway.execution.errors import Fallback, NotCovered
from gateway.execution.scalars import Serialize, serializer
from gateway.resolvers.catalog import Catalog
from gateway.resolvers.fields import Args, Attr, BatchLoad, Compute, Declaration, Load, Read

Resolve = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Leaf:
    key: str
    resolve: Resolve  # parent → serialised value


@dataclass(frozen=True, slots=True)
class Arguments:
    """A field's arguments, coerced from the request's variables at run time."""

    field: GraphQLField
    node: FieldNode
    python_names: Mapping[str, str]  # "travelerId" → "traveler_id"

    def values(self, variables: VariableValues) -> Args:
        given = get_argument_values(self.field, self.node, variables)
        return {self.python_names.get(name, name): value for name, value in given.items()}


@dataclass(frozen=True, slots=True)
class Child:
    key: str
    get: Resolve | None  # synchronous: a read or a computation of the parent
    load: BatchLoad | None  # or loaded for every parent of the level at once
    arguments: Arguments | None
    selection: Selection
    nullable: bool
    is_list: bool
    item_nullable: bool


@dataclass(frozen=True, slots=True)
class Selection:
    type_name: str
    fields: tuple[Leaf | Child, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    root: Selection


class Compiler:
    """Builds the `Selection` tree of one operation for one set of @skip/@include values."""

    def __init__(
        self,
        catalog: Catalog,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.catalog = catalog
        self.fragments = fragments
        self.variables = variables

    def selection(
        self, parent: GraphQLObjectType, selection_sets: Iterable[SelectionSetNode]
    ) -> Selection:
        grouped = collect(parent.name, selection_sets, self.fragments, self.variables)
        fields = tuple(self.field(parent, key, nodes) for key, nodes in grouped.items())
        return Selection(parent.name, fields)

    def field(self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode]) -> Leaf | Child:
        name = nodes[0].name.value
        if name == "__typename":
            return Leaf(key, _constant(parent.name))
        if name.startswith("__"):
            raise NotCovered("introspection")
        field = parent.fields[name]
        declared = self.declaration(parent, field)
        nullable, is_list, item_nullable, named = _shape(field.type)
        if is_leaf_type(named):
            if isinstance(declared, Load) or is_list:
                raise NotCovered(f"{parent.name}.{name}: a loaded or list leaf")
            return Leaf(key, _leaf(_getter(declared), serializer(named), nullable=nullable))
        if not isinstance(named, GraphQLObjectType):
            raise NotCovered(f"{parent.name}.{name}: abstract type")
        child = self.selection(named, [n.selection_set for n in nodes if n.selection_set])
        load = declared.fn if isinstance(declared, Load) else None
        return Child(
            key=key,
            get=None if load else _getter(declared),
            load=load,
            arguments=_arguments(field, nodes[0]) if field.args else None,
            selection=child,
            nullable=nullable,
            is_list=is_list,
            item_nullable=item_nullable,
        )

    def declaration(self, parent: GraphQLObjectType, field: GraphQLField) -> Declaration:
        """The declared resolution; an undeclared field is a read of its Python name, unless
        strawberry resolves it with code of its own (then the planner can't know it)."""
        fields = self.catalog.get(parent.name)
        definition = field.extensions.get("strawberry-definition")
        if fields is None or definition is None:
            raise NotCovered(f"{parent.name} has no declarations")
        python_name: str = definition.python_name
        declared = fields.get(python_name)
        if declared is not None:
            return declared
        if definition.base_resolver is not None:
            raise NotCovered(f"{parent.name}.{python_name} resolves with undeclared code")
        return Read(python_name)


def _shape(type_: GraphQLOutputType) -> tuple[bool, bool, bool, Any]:
    """(nullable, is list, items nullable, named type); lists of lists are not planned."""
    nullable = not isinstance(type_, GraphQLNonNull)
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if not isinstance(inner, GraphQLList):
        return nullable, False, False, inner
    item = inner.of_type
    item_nullable = not isinstance(item, GraphQLNonNull)
    named = item.of_type if isinstance(item, GraphQLNonNull) else item
    if isinstance(named, GraphQLList):
        raise NotCovered("a list of lists")
    return nullable, True, item_nullable, named


def _getter(declared: Declaration) -> Resolve:
    if isinstance(declared, Read):
        return itemgetter(declared.key)
    if isinstance(declared, Attr):
        return attrgetter(declared.name)
    if isinstance(declared, Compute):
        return declared.fn
    raise NotCovered("a loaded field where a value was expected")


def _leaf(get: Resolve, serialize: Serialize, *, nullable: bool) -> Resolve:
    if nullable:

        def optional(parent: Any) -> Any:
            value = get(parent)
            return None if value is None else serialize(value)

        return optional

    def required(parent: Any) -> Any:
        value = get(parent)
        if value is None:
            raise Fallback  # null bubbling is the reference executor's
        return serialize(value)

    return required


def _constant(value: str) -> Resolve:
    return lambda parent: value


def _arguments(field: GraphQLField, node: FieldNode) -> Arguments:
    """Strawberry converts the arguments in declaration order: pair them up by position."""
    definition = field.extensions.get("strawberry-definition")
    arguments = definition.arguments if definition is not None else []
    if len(arguments) != len(field.args):
        raise NotCovered("arguments strawberry does not declare")
    names = {name: a.python_name for name, a in zip(field.args, arguments, strict=True)}
    return Arguments(field, node, names)
