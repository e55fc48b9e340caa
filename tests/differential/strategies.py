"""Hypothesis strategies for valid operations over the exported client schemas.

Walks the graphql-core schema built from `gateway/schemas/<name>.graphql`: at each level a
random subset of fields, `__typename`, aliases, inline fragments (with and without a type
condition), named fragments (new or reused), `@include`/`@skip` with literals or variables;
arguments from the pools in `domain`, inside and outside their ranges, inline or as
variables.

Validity is kept by construction (the unit test checks it):
- a field selected without an alias always has the operation's one argument set for it, so
  two selections under one response key always merge;
- aliases are unique per operation (`a0`, `a1`, ...) except the per-type *swap*, where two
  leaf fields always answer under each other's names (`id: title`, `title: id`);
- fragments only spread fragments defined before them (no cycles), and every one is used;
- depth and alias counts stay inside the gateway's limits (10 and 30), counted as
  strawberry counts them: through every spread.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from graphql import (
    GraphQLArgument,
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    build_schema,
    get_named_type,
    is_non_null_type,
)
from hypothesis import strategies as st

from tests.differential.domain import GENERATED_CALLERS, OWN, pools
from tests.differential.operations import (
    Directive,
    Field,
    FragmentDefinition,
    InlineFragment,
    Operation,
    Selection,
    Spread,
    Value,
    VariableDefinition,
    render,
)

SchemaName = Literal["web", "mobile"]
SCHEMAS: tuple[SchemaName, ...] = ("web", "mobile")
SCHEMA_DIR = Path(__file__).resolve().parents[2] / "gateway" / "schemas"
MAX_LEVEL = 6  # field nesting; the gateway refuses beyond 10
MAX_ALIASES = 24  # the gateway refuses beyond 30
MAX_FRAGMENTS = 3
Draw = Callable[[st.SearchStrategy[Any]], Any]


@functools.cache
def graphql_schema(name: SchemaName) -> GraphQLSchema:
    return build_schema((SCHEMA_DIR / f"{name}.graphql").read_text())


@dataclass(frozen=True, slots=True)
class Case:
    """One request: which schema, the document, and how it is sent."""

    schema: SchemaName
    document: str
    variables: dict[str, Any]
    operation_name: str | None
    caller: str
    method: Literal["POST", "GET"] = "POST"
    accept: str = "application/json"
    # Automatic persisted queries: "register" sends the query with its hash, "hash" only
    # the hash (of a query registered before).
    persisted: Literal["no", "register", "hash"] = "no"

    def __str__(self) -> str:
        head = f"{self.method} /graphql/{self.schema} as {self.caller} (accept {self.accept})"
        if self.persisted != "no":
            head += f" persisted query: {self.persisted}"
        return f"{head}\nvariables: {self.variables}\nop: {self.operation_name}\n{self.document}"


@st.composite
def cases(draw: Draw, schema: SchemaName, *, callers: tuple[str, ...] = GENERATED_CALLERS) -> Case:
    operation, variables = draw(operations(schema))
    return Case(
        schema=schema,
        document=render(operation),
        variables=variables,
        operation_name=operation.name if operation.siblings else draw(_maybe(operation.name)),
        caller=draw(st.sampled_from(callers)),
        method=draw(st.sampled_from(("POST", "POST", "POST", "GET"))),
        accept=draw(st.sampled_from(("application/json", "application/graphql-response+json"))),
    )


def any_cases(callers: tuple[str, ...] = GENERATED_CALLERS) -> st.SearchStrategy[Case]:
    """Cases over either schema."""
    return st.sampled_from(SCHEMAS).flatmap(lambda schema: cases(schema, callers=callers))


def _maybe(value: str | None) -> st.SearchStrategy[str | None]:
    return st.sampled_from((value, None))


@st.composite
def operations(draw: Draw, schema: SchemaName) -> tuple[Operation, dict[str, Any]]:
    builder = Builder(draw, graphql_schema(schema))
    return builder.operation()


class Builder:
    """The state of one operation while it is drawn."""

    def __init__(self, draw: Draw, schema: GraphQLSchema) -> None:
        self.draw = draw
        self.schema = schema
        self.fragments: list[tuple[FragmentDefinition, int, int]] = []  # def, height, aliases
        self.variables: dict[str, VariableDefinition] = {}
        self.values: dict[str, Any] = {}
        self.aliases = 0
        self.named = 0
        self.canonical: dict[tuple[str, str], tuple[tuple[str, Value], ...]] = {}
        self.swaps: dict[str, dict[str, str]] = {}

    def operation(self) -> tuple[Operation, dict[str, Any]]:
        root = self.schema.query_type
        assert root is not None
        selections, _ = self.selection_set(root, 0)
        siblings = self.draw(st.sampled_from(((), (), ("query Other { __typename }",))))
        named = bool(siblings) or self.draw(st.booleans())
        operation = Operation(
            selections=selections,
            name="Q" if named else None,
            variables=tuple(self.variables.values()),
            fragments=tuple(f for f, _, _ in self.fragments),
            siblings=siblings,
        )
        return operation, self.values

    def selection_set(
        self, parent: GraphQLObjectType, depth: int, *, nesting: int = 0
    ) -> tuple[tuple[Selection, ...], int]:
        """Selections on `parent` whose fields sit at level depth + 1, and their height."""
        count = self.draw(st.integers(1, 3 if depth == 0 else 4))
        kinds = ["field"] * 5 + ["__typename"]
        if nesting < 2:
            kinds += ["inline", "spread"]
        selections: list[Selection] = []
        height = 1
        for _ in range(count):
            kind = self.draw(st.sampled_from(kinds))
            selection, h = self._one(kind, parent, depth, nesting)
            if selection is not None:
                selections.append(selection)
                height = max(height, h)
        if not selections:
            selections.append(Field("__typename"))
        return tuple(selections), height

    def _one(
        self, kind: str, parent: GraphQLObjectType, depth: int, nesting: int
    ) -> tuple[Selection | None, int]:
        if kind == "__typename":
            return Field("__typename", alias=self._alias(), directives=self._directives()), 1
        if kind == "inline":
            condition = self.draw(st.sampled_from((None, parent.name)))
            body, h = self.selection_set(parent, depth, nesting=nesting + 1)
            return InlineFragment(condition, self._directives(), body), h
        if kind == "spread":
            return self._spread(parent, depth, nesting)
        return self._field(parent, depth)

    def _field(self, parent: GraphQLObjectType, depth: int) -> tuple[Selection | None, int]:
        leaves = [n for n, f in parent.fields.items() if _leaf(f.type)]
        nested = [n for n in parent.fields if n not in leaves and depth + 1 < MAX_LEVEL]
        name = self.draw(st.sampled_from(nested * 2 + leaves))  # relations: twice as likely
        definition = parent.fields[name]
        swapped = self._swaps(parent).get(name)
        aliased = swapped is None and self.draw(st.integers(0, 3)) == 0
        if swapped is not None:
            if self.aliases >= MAX_ALIASES:  # a swapped field is aliased, and counts
                return Field("__typename"), 1
            self.aliases += 1
            alias: str | None = swapped
            args = self._canonical_args(parent, name)
        elif aliased and self.aliases < MAX_ALIASES:
            alias, args = self._alias(force=True), self._args(parent.name, name, definition.args)
        else:
            alias, args = None, self._canonical_args(parent, name)
        child = get_named_type(definition.type)
        if not isinstance(child, GraphQLObjectType):
            return Field(name, alias, args, self._directives()), 1
        body, h = self.selection_set(child, depth + 1)
        return Field(name, alias, args, self._directives(), body), h + 1

    def _spread(
        self, parent: GraphQLObjectType, depth: int, nesting: int
    ) -> tuple[Selection | None, int]:
        fits = [
            (f, h, a)
            for f, h, a in self.fragments
            if f.type_condition == parent.name
            and depth + h <= MAX_LEVEL
            and self.aliases + a <= MAX_ALIASES
        ]
        reuse = fits and self.draw(st.booleans())
        if reuse:
            fragment, height, aliases = self.draw(st.sampled_from(fits))
            self.aliases += aliases
            return Spread(fragment.name, self._directives()), height
        if self.named >= MAX_FRAGMENTS:
            return None, 0
        name, before = f"F{self.named}", self.aliases
        self.named += 1  # before the body, which may define fragments of its own
        body, height = self.selection_set(parent, depth, nesting=nesting + 1)
        fragment = FragmentDefinition(name, parent.name, body)
        self.fragments.append((fragment, height, self.aliases - before))
        return Spread(fragment.name, self._directives()), height

    def _alias(self, *, force: bool = False) -> str | None:
        if self.aliases >= MAX_ALIASES or not (force or self.draw(st.integers(0, 3)) == 0):
            return None
        self.aliases += 1
        return f"a{self.aliases}"

    def _swaps(self, parent: GraphQLObjectType) -> dict[str, str]:
        """Per type and operation, maybe two leaf fields that answer under each other's name."""
        if parent.name not in self.swaps:
            leaves = sorted(n for n, f in parent.fields.items() if _leaf(f.type) and not f.args)
            swap: dict[str, str] = {}
            if len(leaves) >= 2 and self.draw(st.integers(0, 5)) == 0:
                x, y = self.draw(
                    st.lists(st.sampled_from(leaves), min_size=2, max_size=2, unique=True)
                )
                swap = {x: y, y: x}
            self.swaps[parent.name] = swap
        return self.swaps[parent.name]

    def _canonical_args(
        self, parent: GraphQLObjectType, name: str
    ) -> tuple[tuple[str, Value], ...]:
        key = (parent.name, name)
        if key not in self.canonical:
            self.canonical[key] = self._args(parent.name, name, parent.fields[name].args)
        return self.canonical[key]

    def _args(
        self, parent: str, field: str, args: dict[str, GraphQLArgument]
    ) -> tuple[tuple[str, Value], ...]:
        chosen = []
        for arg_name, arg in args.items():
            optional = not _required(arg)
            if optional and self.draw(st.integers(0, 2)) == 0:
                continue
            value = self.draw(argument_values(parent, field, arg_name))
            chosen.append((arg_name, self._maybe_variable(value, str(arg.type))))
        order = self.draw(st.permutations(range(len(chosen)))) if len(chosen) > 1 else [0]
        return tuple(chosen[i] for i in order) if chosen else ()

    def _maybe_variable(self, value: Value, type_text: str) -> Value:
        if value.json is None and type_text.endswith("!"):
            return value
        if self.draw(st.integers(0, 3)) != 0:
            return value
        name = f"v{len(self.variables)}"
        how = self.draw(st.sampled_from(("given", "given", "default", "omitted")))
        if how == "omitted" and type_text.endswith("!"):
            how = "given"
        if how == "default":  # nullable, with the value as its default, left out
            self.variables[name] = VariableDefinition(name, type_text.rstrip("!"), value)
        elif how == "omitted":  # nullable and left out: as if the argument were not given
            self.variables[name] = VariableDefinition(name, type_text)
        else:
            self.variables[name] = VariableDefinition(name, type_text)
            self.values[name] = value.json
        return Value(value.json, value.enum, variable=name)

    def _directives(self) -> tuple[Directive, ...]:
        if self.draw(st.integers(0, 4)) != 0:
            return ()
        which = self.draw(st.sampled_from(("include", "skip", "both", "both reversed")))
        if which in ("include", "skip"):
            return (Directive(which, self._condition()),)
        both = (Directive("include", self._condition()), Directive("skip", self._condition()))
        return both if which == "both" else both[::-1]

    def _condition(self) -> Value:
        flag = self.draw(st.booleans())
        how = self.draw(st.sampled_from(("literal", "variable", "variable", "default")))
        if how == "literal":
            return Value(flag)
        name = f"b{len(self.variables)}"
        if how == "default":  # declared with a default, left out of the variables
            self.variables[name] = VariableDefinition(name, "Boolean", Value(flag))
        else:
            self.variables[name] = VariableDefinition(name, "Boolean!")
            self.values[name] = flag
        return Value(flag, variable=name)


def argument_values(parent: str, field: str, arg: str) -> st.SearchStrategy[Value]:
    """Values for one argument: mostly cheap and in range, sometimes out of it."""
    p = pools()
    if arg in ("id", "tripId") and field in ("trip", "itinerary"):
        return st.one_of(st.sampled_from(p.own_trip_ids), st.sampled_from(p.trip_ids)).map(Value)
    if arg in ("id", "travelerId"):
        return st.one_of(st.just(OWN), st.sampled_from(p.traveler_ids)).map(Value)
    if arg == "first":
        return rarely(st.sampled_from((0, 101, -1, 100, 20)), st.integers(1, 3), odds=8)
    if arg == "limit":
        return rarely(st.sampled_from((0, 51, 50, -3)), st.integers(1, 5), odds=6)
    if arg == "after":
        return st.sampled_from((None, *p.cursors)).map(Value)
    if arg == "status":
        return st.sampled_from((None, "BOOKED", "CANCELLED")).map(lambda s: Value(s, enum=True))
    raise AssertionError(f"no values for {parent}.{field}({arg})")


def rarely(
    rare: st.SearchStrategy[int], common: st.SearchStrategy[int], *, odds: int
) -> st.SearchStrategy[Value]:
    """`rare` one time in `odds`, else `common` (st.one_of would merge repeated branches)."""
    return st.integers(0, odds - 1).flatmap(lambda n: rare if n == 0 else common).map(Value)


def _leaf(type_: Any) -> bool:
    return not isinstance(get_named_type(type_), GraphQLObjectType)


def _required(arg: GraphQLArgument) -> bool:
    return is_non_null_type(arg.type) and arg.default_value is Undefined
