"""The values a plan is made of (built by `plan.Compiler`, run by `run` and `writer`).

A `Selection` is one object selection set, its fields already merged (fragments, aliases,
@skip/@include decided), in response order, with the function that writes them (`writer`).
A `Leaf` writes a serialised value; a `Child` is an object-typed field, resolved
synchronously (`get`: a read, a computation) or in a batch for the whole level (`load`).
Nullability is recorded per field: a null the schema forbids makes the run give up
(`Fallback`), so null bubbling stays the reference executor's business.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import FieldNode, GraphQLField
from graphql.execution.values import VariableValues, get_argument_values

from gateway.resolvers.fields import Args, BatchLoad, Check

Resolve = Callable[[Any], Any]
Pending = list[tuple["Child", list[Any], list[dict[str, Any]]]]
Write = Callable[[list[Any], list[dict[str, Any]], Pending], None]


@dataclass(frozen=True, slots=True)
class Leaf:
    """`read` (an entity key) or `get` gives the raw value; a value of the `fast` Python
    type ("str", "int", "bool", "enum" via `names`) is written as it is, anything else
    (None, a value to refuse) goes through `slow`; a date string through `iso`."""

    key: str
    get: Resolve
    slow: Resolve
    read: str | None = None
    fast: str | None = None
    names: Mapping[Any, str] | None = None
    iso: Resolve | None = None  # "iso": backend date string → serialised, memoised
    constant: str | None = None  # __typename


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
    check: Check | None  # the load's refusals that need no data
    check_args: Callable[[Args], None] | None  # its refusals of the arguments alone
    arguments: Arguments | None
    selection: Selection
    nullable: bool
    is_list: bool
    item_nullable: bool


@dataclass(frozen=True, slots=True)
class Eager:
    """What the reference's check of an entity does whatever the query selects (see
    `gateway.schemas.declared`), and which can fail: read `key` ("read"), check an enum
    value ("enum", in `values`), parse a date ("date", `parse`), compute a field ("compute",
    `fn`), or all of that for a nested object ("nested", `nested`). A failure means the
    reference fails: the run gives up."""

    kind: str
    key: str = ""
    values: frozenset[Any] = frozenset()
    parse: Resolve | None = None
    fn: Resolve | None = None
    nested: tuple[Eager, ...] = ()


@dataclass(frozen=True, slots=True)
class Selection:
    type_name: str
    fields: tuple[Leaf | Child, ...]
    write: Write = field(repr=False, compare=False)
    eager: tuple[Eager, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    root: Selection
    argument_checks: tuple[Child, ...] = ()  # every child with `check_args`, anywhere
