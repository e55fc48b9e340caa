"""gateway.schemas.declared: a strawberry shape resolved from declarations, on a tiny schema."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any

import pytest
import strawberry
from graphql import GraphQLObjectType

from gateway.resolvers.catalog import CATALOGS, Catalog
from gateway.resolvers.fields import Args, Compute, Load
from gateway.schemas.declared import attach
from gateway.schemas.mobile import build_mobile_schema
from gateway.schemas.web import build_web_schema

BOXES: dict[str, dict[str, Any]] = {
    "b-1": {"id": "b-1", "item_ids": ["i-1", "i-2"]},
    "b-2": {"id": "b-2", "item_ids": ["i-3"]},
    "b-bad": {"id": "b-bad", "item_ids": ["i-4"]},  # its items fail to load
    "b-odd": {"id": "b-odd", "item_ids": ["i-odd"]},  # its item has a bad kind
}
ITEMS: dict[str, dict[str, Any]] = {
    "i-1": {"id": "i-1", "day": "2026-12-01", "kind": "big", "price": 150},
    "i-2": {"id": "i-2", "day": "2026-12-02", "kind": "small", "price": 5},
    "i-3": {"id": "i-3", "day": "2026-12-03", "kind": "big", "price": "n/a"},
    "i-odd": {"id": "i-odd", "day": "2026-12-04", "kind": "huge", "price": 1},
}


@strawberry.enum
class Kind(Enum):
    BIG = "big"
    SMALL = "small"


@strawberry.type
class Item:
    id: strawberry.ID
    day: date
    kind: Kind
    label: str
    price: str


@strawberry.type
class Box:
    id: strawberry.ID
    items: list[Item]


@strawberry.type
class Query:
    @strawberry.field
    def boxes(self, ids: list[strawberry.ID]) -> list[Box]:
        raise NotImplementedError


@dataclass
class Context:
    """What the resolvers read of the request's context (gateway.context.RequestContext)."""

    viewer: Any = None
    loads: dict[Hashable, Any] = field(default_factory=dict)


CALLS: list[list[str]] = []


async def boxes(viewer: Any, roots: Sequence[Any], args: Args) -> list[list[dict[str, Any]]]:
    return [[BOXES[i] for i in args["ids"]]]


async def items_of(
    viewer: Any, parents: Sequence[dict[str, Any]], args: Args
) -> list[list[dict[str, Any]]]:
    CALLS.append([p["id"] for p in parents])
    if any(p["id"] == "b-bad" for p in parents):
        raise LookupError("no items for b-bad")
    return [[ITEMS[i] for i in p["item_ids"]] for p in parents]


def price(item: dict[str, Any]) -> str:
    return f"{item['price'] / 100:.2f}"


CATALOG: Catalog = {
    "Query": {"boxes": Load(boxes)},
    "Box": {"items": Load(items_of)},
    "Item": {
        "label": Compute(lambda item: f"{item['kind']} on {item['day']}"),
        "price": Compute(price, lazy=True),
    },
}


async def run(query: str, ids: list[str]) -> dict[str, Any]:
    schema = strawberry.Schema(query=Query)
    attach(schema, CATALOG)
    CALLS.clear()
    result = await schema.execute(query, variable_values={"ids": ids}, context_value=Context())
    answer: dict[str, Any] = {"data": result.data}
    if result.errors:
        answer["errors"] = [{"message": e.message, "path": e.path} for e in result.errors]
    return answer


QUERY = "query Q($ids: [ID!]!) { boxes(ids: $ids) { id items { id day kind label } } }"


async def test_reads_convert_as_the_schema_expects_and_a_load_runs_once_per_level() -> None:
    assert await run(QUERY, ["b-1", "b-2"]) == {
        "data": {
            "boxes": [
                {
                    "id": "b-1",
                    "items": [
                        {
                            "id": "i-1",
                            "day": "2026-12-01",
                            "kind": "BIG",
                            "label": "big on 2026-12-01",
                        },
                        {
                            "id": "i-2",
                            "day": "2026-12-02",
                            "kind": "SMALL",
                            "label": "small on 2026-12-02",
                        },
                    ],
                },
                {
                    "id": "b-2",
                    "items": [
                        {
                            "id": "i-3",
                            "day": "2026-12-03",
                            "kind": "BIG",
                            "label": "big on 2026-12-03",
                        }
                    ],
                },
            ]
        }
    }
    assert CALLS == [["b-1", "b-2"]]


async def test_a_parent_whose_load_fails_fails_only_its_own_field() -> None:
    answer = await run(
        "query Q($ids: [ID!]!) { boxes(ids: $ids) { id items { id } } }", ["b-1", "b-bad"]
    )
    assert answer == {
        "data": None,  # items is non-null, and so are the boxes: the error bubbles to the root
        "errors": [{"message": "no items for b-bad", "path": ["boxes", 1, "items"]}],
    }
    assert CALLS == [["b-1", "b-bad"], ["b-1"], ["b-bad"]]  # together, then each alone


async def test_an_entity_is_checked_whole_where_it_enters() -> None:
    """The item's kind is not a Kind: the box's `items` fail, though only ids were asked."""
    answer = await run("query Q($ids: [ID!]!) { boxes(ids: $ids) { items { id } } }", ["b-odd"])
    assert answer == {
        "data": None,
        "errors": [{"message": "'huge' is not a valid Kind", "path": ["boxes", 0, "items"]}],
    }


async def test_a_lazy_computation_fails_only_when_asked_for() -> None:
    query = "query Q($ids: [ID!]!) { boxes(ids: $ids) { items { id price } } }"
    assert (await run(query, ["b-1"]))["data"] == {
        "boxes": [{"items": [{"id": "i-1", "price": "1.50"}, {"id": "i-2", "price": "0.05"}]}]
    }
    answer = await run(query, ["b-2"])
    assert answer["errors"] == [
        {
            "message": "unsupported operand type(s) for /: 'str' and 'int'",
            "path": ["boxes", 0, "items", 0, "price"],
        }
    ]


def test_a_type_without_declarations_fails_at_start_up() -> None:
    schema = strawberry.Schema(query=Query)
    with pytest.raises(LookupError, match="Box has no declarations"):
        attach(schema, {"Query": CATALOG["Query"], "Item": CATALOG["Item"]})


@pytest.mark.parametrize("name", ["web", "mobile"])
def test_every_method_of_the_client_schemas_shapes_is_declared(name: str) -> None:
    """Their methods only carry arguments: one left undeclared would run its stub body."""
    schema = {"web": build_web_schema, "mobile": build_mobile_schema}[name]()._schema
    roles = {schema.query_type: "Query", schema.mutation_type: "Mutation"}
    undeclared = [
        f"{named.name}.{field_name}"
        for named in schema.type_map.values()
        if isinstance(named, GraphQLObjectType) and not named.name.startswith("__")
        for field_name, gql_field in named.fields.items()
        if gql_field.extensions["strawberry-definition"].base_resolver is not None
        and gql_field.extensions["strawberry-definition"].python_name
        not in CATALOGS[name][roles.get(named, named.name)]
    ]
    assert undeclared == []
