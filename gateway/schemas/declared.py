"""The strawberry schemas' resolvers, made from the declarations in `gateway.resolvers`.

The strawberry classes of `web` and `mobile` give the GraphQL shape only (names, types,
descriptions, arguments). `attach(schema, catalog)` gives every field of the built schema
a graphql-core resolver made from its declaration:

    Read("check_in")  → date.fromisoformat(stay["check_in"])   (as the scalar or enum expects)
    Attr("items")     → page.items
    Compute(fn)       → fn(parent)
    Load(fn, check)   → check, then one fn(viewer, parents, args) for every parent asked for
                        the field in the same turn of the loop (a dataloader per request,
                        field and arguments); root fields: fn(viewer, [None], args)

The values passed around are the backends' entity dicts and the gateway's own values
(`Page`, `Segment`). An object enters the answer through the field that loads it, and is
checked there as a whole: every read of it converted and every eager `Compute` computed, in
field order, nested objects too. A bad value anywhere in a flight fails the trip's `flights`,
whatever the query selects, as when strawberry's types were built from the whole entity;
the planner's `Eager` checks mirror this.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Hashable
from operator import attrgetter, itemgetter
from typing import Any

import strawberry
from aiodataloader import DataLoader
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    is_leaf_type,
)
from strawberry.types.arguments import convert_arguments

from gateway.context import RequestContext
from gateway.execution.scalars import fast_kind, iso_parser
from gateway.resolvers.catalog import Catalog
from gateway.resolvers.fields import NO_ARGS, Args, Attr, Compute, Declaration, Load, Read
from gateway.viewer import Viewer

Check = Callable[[Any], None]
Convert = Callable[[Any], Any]
Info = GraphQLResolveInfo[RequestContext]
ROOT: list[Any] = [None]


def attach(schema: strawberry.Schema, catalog: Catalog) -> None:
    """Resolve every field of `schema` from `catalog`; a type the catalog does not
    declare fails here, at start-up."""
    Builder(schema, catalog).attach()


class Builder:
    def __init__(self, schema: strawberry.Schema, catalog: Catalog) -> None:
        self.schema = schema
        self.catalog = catalog
        graphql = schema._schema
        roots = (("Query", graphql.query_type), ("Mutation", graphql.mutation_type))
        self.roots = {root.name: role for role, root in roots if root is not None}
        self.checks: dict[str, list[Check]] = {}

    def attach(self) -> None:
        for named in self.schema._schema.type_map.values():
            if isinstance(named, GraphQLObjectType) and not named.name.startswith("__"):
                for name, field in named.fields.items():
                    declared = self.declared(named, field)
                    if declared is not None:
                        field.resolve = self.resolver(named, name, field, declared)

    def declared(self, parent: GraphQLObjectType, field: GraphQLField) -> Declaration | None:
        """The field's declaration; an undeclared field is a read of its Python name, or
        None when it has a resolver of its own (which then resolves it)."""
        fields = self.catalog.get(self.roots.get(parent.name, parent.name))
        if fields is None:
            raise LookupError(f"{parent.name} has no declarations in gateway.resolvers.catalog")
        definition = field.extensions["strawberry-definition"]
        declared = fields.get(definition.python_name)
        if declared is None and definition.base_resolver is None:
            return Read(definition.python_name)
        return declared

    def resolver(
        self, parent: GraphQLObjectType, name: str, field: GraphQLField, declared: Declaration
    ) -> Callable[..., Any]:
        if isinstance(declared, Load):
            check = self.check(field.type)
            arguments = self.arguments(field)
            if parent.name in self.roots:
                return _root(declared, arguments, check)
            return _grouped(f"{parent.name}.{name}", declared, arguments, check)
        if isinstance(declared, Read):
            return _read(declared.key, self.convert(field.type))
        if isinstance(declared, Attr):
            return _attr(declared.name)
        return _compute(declared.fn)

    def arguments(self, field: GraphQLField) -> Callable[[dict[str, Any]], Args]:
        """graphql-core's argument values → the Python names and values strawberry gives a
        resolver (an enum member, an input object)."""
        accepted = field.extensions["strawberry-definition"].arguments
        if not accepted:
            return lambda given: NO_ARGS
        registry = self.schema.schema_converter.scalar_registry
        return functools.partial(
            convert_arguments,
            arguments=accepted,
            scalar_registry=registry,
            config=self.schema.config,
        )

    def convert(self, output: GraphQLOutputType) -> Convert | None:
        """How a backend value becomes what the leaf's type serialises: an enum's member
        ("economy" → Cabin.ECONOMY), a date parsed; None: as it is."""
        named = output.of_type if isinstance(output, GraphQLNonNull) else output
        if isinstance(named, GraphQLEnumType):
            member: Convert = named.wrapped_cls  # type: ignore[attr-defined]
            return member
        if isinstance(named, GraphQLScalarType) and fast_kind(named) == "iso":
            return iso_parser(named)
        return None

    def check(self, output: GraphQLOutputType, *, convert: bool = True) -> Check | None:
        """What a value of `output` must survive where it enters the answer (None: nothing
        can fail). `convert`: leaves are backend values (a read), not the gateway's own."""
        nullable = not isinstance(output, GraphQLNonNull)
        inner = output.of_type if isinstance(output, GraphQLNonNull) else output
        if isinstance(inner, GraphQLList):
            item = self.check(inner.of_type, convert=convert)
            return None if item is None else _each(item, nullable=nullable)
        if isinstance(inner, GraphQLObjectType):
            return _whole(self.object_checks(inner), nullable=nullable)
        leaf = self.convert(inner) if convert and is_leaf_type(inner) else None
        return None if leaf is None else _leaf(leaf, nullable=nullable)

    def object_checks(self, parent: GraphQLObjectType) -> list[Check]:
        """One check per field read or computed with the object, in field order."""
        checks = self.checks.get(parent.name)
        if checks is None:
            checks = self.checks[parent.name] = []  # filled below; a cycle finds it
            for field in parent.fields.values():
                step = self.field_check(field, self.declared(parent, field))
                if step is not None:
                    checks.append(step)
        return checks

    def field_check(self, field: GraphQLField, declared: Declaration | None) -> Check | None:
        if isinstance(declared, Compute):
            return None if declared.lazy else declared.fn
        if isinstance(declared, Read):
            return _part(itemgetter(declared.key), self.check(field.type))
        if isinstance(declared, Attr):
            return _part(attrgetter(declared.name), self.check(field.type, convert=False))
        return None  # loaded, or resolved by its own code: when asked for


# -- resolvers -----------------------------------------------------------------------------


def _read(key: str, convert: Convert | None) -> Callable[..., Any]:
    if convert is None:

        def read(parent: Any, info: Info) -> Any:
            return parent[key]

        return read

    def read_converted(parent: Any, info: Info) -> Any:
        value = parent[key]
        return None if value is None else convert(value)

    return read_converted


def _attr(name: str) -> Callable[..., Any]:
    def attr(parent: Any, info: Info) -> Any:
        return getattr(parent, name)

    return attr


def _compute(fn: Callable[[Any], Any]) -> Callable[..., Any]:
    def compute(parent: Any, info: Info) -> Any:
        return fn(parent)

    return compute


def _root(
    load: Load, arguments: Callable[[dict[str, Any]], Args], check: Check | None
) -> Callable[..., Any]:
    async def root(_: Any, info: Info, **given: Any) -> Any:
        viewer = info.context.viewer
        args = arguments(given)
        if load.check is not None:
            load.check(viewer, ROOT, args)
        value = (await load.fn(viewer, ROOT, args))[0]
        if check is not None:
            check(value)
        return value

    return root


def _grouped(
    field: Hashable, load: Load, arguments: Callable[[dict[str, Any]], Args], check: Check | None
) -> Callable[..., Any]:
    def grouped(parent: Any, info: Info, **given: Any) -> Any:
        context = info.context
        args = arguments(given)
        key = (field, *args.items())  # arguments of a nested field are scalars and enums
        loader = context.loads.get(key)
        if loader is None:
            batch = functools.partial(_batch, context.viewer, load, args, check)
            loader = context.loads[key] = DataLoader(batch, cache=False)
        return loader.load(parent)

    return grouped


async def _batch(
    viewer: Viewer, load: Load, args: Args, check: Check | None, parents: list[Any]
) -> list[Any]:
    try:
        values = await _load(viewer, load, parents, args)
    except Exception:
        if len(parents) == 1:
            raise
        # One parent's refusal or failure is not its siblings': each alone, from what the
        # request's loaders already hold (a failed key is not fetched again).
        alone = (_one(viewer, load, parent, args, check) for parent in parents)
        return list(await asyncio.gather(*alone, return_exceptions=True))
    return [_checked(check, value) for value in values]


async def _one(viewer: Viewer, load: Load, parent: Any, args: Args, check: Check | None) -> Any:
    value = (await _load(viewer, load, [parent], args))[0]
    if check is not None:
        check(value)
    return value


async def _load(viewer: Viewer, load: Load, parents: list[Any], args: Args) -> list[Any]:
    if load.check is not None:
        load.check(viewer, parents, args)
    return list(await load.fn(viewer, parents, args))


def _checked(check: Check | None, value: Any) -> Any:
    """The value, or the error that fails only its own parent's field."""
    if check is not None:
        try:
            check(value)
        except Exception as error:
            return error
    return value


# -- checks --------------------------------------------------------------------------------


def _each(item: Check, *, nullable: bool) -> Check:
    def each(values: Any) -> None:
        if values is None and nullable:
            return
        for value in values:
            item(value)

    return each


def _whole(checks: list[Check], *, nullable: bool) -> Check:
    def whole(value: Any) -> None:
        if value is None and nullable:
            return
        for check in checks:
            check(value)

    return whole


def _leaf(convert: Convert, *, nullable: bool) -> Check:
    def leaf(value: Any) -> None:
        if value is None and nullable:
            return
        convert(value)

    return leaf


def _part(get: Callable[[Any], Any], check: Check | None) -> Check:
    if check is None:
        return get

    def part(parent: Any) -> None:
        check(get(parent))

    return part
