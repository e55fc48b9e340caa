"""An operation compiled against the resolver declarations into `nodes` (see there)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from operator import attrgetter, itemgetter
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    SelectionSetNode,
    is_leaf_type,
)

from gateway.execution.collect import collect
from gateway.execution.errors import Fallback, NotCovered
from gateway.execution.nodes import Arguments, Child, Eager, Leaf, Resolve, Selection
from gateway.execution.scalars import (
    Serialize,
    enum_names,
    fast_kind,
    iso_formatter,
    iso_parser,
    serializer,
)
from gateway.execution.writer import compile_writer
from gateway.resolvers.catalog import Catalog
from gateway.resolvers.fields import Attr, Compute, Declaration, Load, Read


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
        self.argument_checks: list[Child] = []

    def selection(
        self, parent: GraphQLObjectType, selection_sets: Iterable[SelectionSetNode]
    ) -> Selection:
        grouped = collect(parent.name, selection_sets, self.fragments, self.variables)
        fields = tuple(self.field(parent, key, nodes) for key, nodes in grouped.items())
        eager = self.eager(parent, covered=_strict_leaves(parent, grouped))
        return Selection(parent.name, fields, compile_writer(parent.name, fields, eager), eager)

    def eager(
        self, parent: GraphQLObjectType, covered: frozenset[str] = frozenset()
    ) -> tuple[Eager, ...]:
        """The reference checks an entity as a whole where it enters the answer
        (`gateway.schemas.declared`), so a bad value in a field nobody asked for still fails
        it: check every field read or computed with the entity (not loaded, not `lazy`) as
        the reference converts it, except the `covered` ones (selected non-null leaves:
        writing them fails the same way). Values the gateway builds itself (pages,
        segments: declared with `Attr`) need no check."""
        fields = self.catalog.get(parent.name, {})
        if parent.name == "Query" or any(isinstance(d, Attr) for d in fields.values()):
            return ()
        checks: list[Eager] = []
        for name, field in parent.fields.items():
            definition = field.extensions.get("strawberry-definition")
            if definition is None or name in covered:
                continue
            declared = fields.get(definition.python_name)
            if declared is None and definition.base_resolver is None:
                declared = Read(definition.python_name)
            if declared is None or isinstance(declared, Load) or _lazy(declared):
                continue  # resolved when asked for
            checks.append(self._eager_check(declared, _shape(field.type)[3]))
        return tuple(checks)

    def _eager_check(self, declared: Declaration, named: Any) -> Eager:
        if isinstance(declared, Compute):
            return Eager("compute", fn=declared.fn)
        if not isinstance(declared, Read):
            raise NotCovered(f"{declared!r} checked with its entity")
        if isinstance(named, GraphQLEnumType):
            values = frozenset(value.value for value in named.values.values())
            return Eager("enum", declared.key, values=values)
        if fast_kind(named) == "iso":
            return Eager("date", declared.key, parse=iso_parser(named))
        if isinstance(named, GraphQLObjectType):
            return Eager("nested", declared.key, nested=self.eager(named))
        return Eager("read", declared.key)

    def field(self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode]) -> Leaf | Child:
        name = nodes[0].name.value
        if name == "__typename":
            return Leaf(key, _constant(parent.name), _constant(parent.name), constant=parent.name)
        if name.startswith("__"):
            raise NotCovered("introspection")
        field = parent.fields[name]
        declared = self.declaration(parent, field)
        nullable, is_list, item_nullable, named = _shape(field.type)
        if is_leaf_type(named):
            if isinstance(declared, Load) or is_list:
                raise NotCovered(f"{parent.name}.{name}: a loaded or list leaf")
            return _leaf(key, declared, named, nullable=nullable)
        if not isinstance(named, GraphQLObjectType):
            raise NotCovered(f"{parent.name}.{name}: abstract type")
        child = self.selection(named, [n.selection_set for n in nodes if n.selection_set])
        load = declared.fn if isinstance(declared, Load) else None
        built = Child(
            key=key,
            get=None if load else _getter(declared),
            load=load,
            check=declared.check if isinstance(declared, Load) else None,
            check_args=declared.check_args if isinstance(declared, Load) else None,
            arguments=_arguments(field, nodes[0]) if field.args else None,
            selection=child,
            nullable=nullable,
            is_list=is_list,
            item_nullable=item_nullable,
        )
        if built.check_args is not None:
            self.argument_checks.append(built)
        return built

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


def _strict_leaves(
    parent: GraphQLObjectType, grouped: Mapping[str, list[FieldNode]]
) -> frozenset[str]:
    """Names of the selected leaf fields the schema says are non-null."""
    names = {nodes[0].name.value for nodes in grouped.values()}
    return frozenset(
        name
        for name in names
        if name in parent.fields
        and isinstance(parent.fields[name].type, GraphQLNonNull)
        and is_leaf_type(parent.fields[name].type.of_type)
    )


def _lazy(declared: Declaration) -> bool:
    return isinstance(declared, Compute) and declared.lazy


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


def _leaf(key: str, declared: Declaration, named: Any, *, nullable: bool) -> Leaf:
    return Leaf(
        key=key,
        get=_getter(declared),
        slow=_checked(serializer(named), nullable=nullable),
        read=declared.key if isinstance(declared, Read) else None,
        fast=fast_kind(named),
        names=enum_names(named) if isinstance(named, GraphQLEnumType) else None,
        iso=iso_formatter(named) if fast_kind(named) == "iso" else None,
    )


def _checked(serialize: Serialize, *, nullable: bool) -> Resolve:
    if nullable:

        def optional(value: Any) -> Any:
            return None if value is None else serialize(value)

        return optional

    def required(value: Any) -> Any:
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
