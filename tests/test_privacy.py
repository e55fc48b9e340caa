"""Cache privacy is fail-closed: an answer is public only when every root field it selects
is declared public in gateway/resolvers/ (issue 10, point 5)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import strawberry
from graphql import GraphQLObjectType, GraphQLSchema, OperationType, get_named_type

from gateway.cache.setup import CacheConfig
from gateway.config import EXECUTORS, Executor
from gateway.execution.planner import Planner
from gateway.graphql_endpoint import GraphQLEndpoint
from gateway.privacy import Privacy, Roots, declared_public, public_kinds, roots_of
from gateway.resolvers.catalog import CATALOGS, WEB
from gateway.resolvers.fields import Attr, Compute, Load
from gateway.schemas.common import build
from gateway.schemas.mobile import build_mobile_schema
from gateway.schemas.web import Mutation as WebMutation
from gateway.schemas.web import Query as WebQuery
from gateway.schemas.web import build_web_schema
from legacy_stub.data import build_dataset
from tests.support.inprocess import Gateway, gateway, token

PRIVATE = "private, no-store"
CACHED = CacheConfig()  # the default TTLs: destinations and answers may be public
ME = "t-1"
MY_TRIP = next(t["id"] for t in build_dataset().trips.values() if t["traveler_id"] == ME)
TOP = "{ topDestinations(limit: 3) { code name } }"
PUBLIC = {"web": {"topDestinations": "destinations"}, "mobile": {"topDestinations": "destinations"}}


# --- the decision, pure ---------------------------------------------------------------


def kinds(query: str, operation_name: str | None = None) -> tuple[str, ...] | None:
    return public_kinds(roots_of(query, operation_name), PUBLIC["web"])


def test_the_catalogs_declare_only_top_destinations_public() -> None:
    schemas = {"web": build_web_schema(), "mobile": build_mobile_schema()}
    for name, schema in schemas.items():
        assert declared_public(schema._schema, CATALOGS[name]["Query"]) == PUBLIC[name]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (TOP, ("destinations",)),
        (
            "{ a: topDestinations { code } b: topDestinations(limit: 1) { code } }",
            ("destinations",),
        ),
        ("query Q { ...F } fragment F on Query { topDestinations { code } }", ("destinations",)),
        ("{ ... on Query { topDestinations { code } } __typename }", ("destinations",)),
        ("{ topDestinations { code } me { id } }", None),
        ("query Q { ...F } fragment F on Query { me { id } topDestinations { code } }", None),
        ("{ me { id } }", None),
        ("{ topDestinations { code } skipped: me @skip(if: true) { id } }", None),  # safe side
        ("{ __typename }", None),  # nothing declared public: nothing proven
        ("{ __schema { queryType { name } } }", None),  # introspection
        ('{ topDestinations { code } __type(name: "Trip") { name } }', None),
        ("mutation { __typename }", None),
        ("{ topDestinations { code }", None),  # a syntax error
        ("query A { topDestinations { code } } query B { me { id } }", None),  # which one?
        ("{ ...Missing }", None),
    ],
)
def test_public_only_when_every_root_field_is_declared_public(
    query: str, expected: tuple[str, ...] | None
) -> None:
    assert kinds(query) == expected


def test_the_named_operation_is_the_one_decided() -> None:
    two = "query A { topDestinations { code } } query B { me { id } }"
    assert kinds(two, "A") == ("destinations",)
    assert kinds(two, "B") is None
    assert kinds(two, "C") is None


def test_only_a_query_can_be_public() -> None:
    declared = {"topDestinations": "destinations"}
    fields = frozenset({"topDestinations"})
    assert public_kinds(Roots(OperationType.QUERY, fields), declared) == ("destinations",)
    assert public_kinds(Roots(OperationType.MUTATION, fields), declared) is None
    assert public_kinds(Roots(OperationType.SUBSCRIPTION, fields), declared) is None


@strawberry.type
class TinyQuery:
    @strawberry.field
    def headline(self) -> str:
        return "public news"

    @strawberry.field
    def weather(self) -> str:
        return "sunny"


async def _no_load(viewer: Any, roots: Any, args: Any) -> list[Any]:
    return [None]


def test_a_field_declared_without_public_is_private_in_a_tiny_catalog() -> None:
    schema = strawberry.Schema(query=TinyQuery)._schema
    privacy = Privacy.of(schema, {"Query": {"headline": Load(_no_load, public="answer")}})
    assert privacy.public_kinds("{ headline }", None) == ("answer",)
    assert privacy.public_kinds("{ headline weather }", None) is None  # undeclared
    assert privacy.public_kinds("{ weather }", None) is None


def test_the_decision_is_cached_by_the_documents_hash_as_a_persisted_query_names_it() -> None:
    schema = strawberry.Schema(query=TinyQuery)._schema
    privacy = Privacy.of(schema, {"Query": {"headline": Load(_no_load, public="answer")}})
    text = "{ headline }"
    assert privacy.public_kinds(text, None) == ("answer",)
    sha256_hash = hashlib.sha256(text.encode()).hexdigest()
    assert privacy.public_kinds("", None, sha256_hash=sha256_hash) == ("answer",)  # text unread


def test_nothing_reachable_from_a_public_root_loads_undeclared_data() -> None:
    """A guard on the declarations: under a public root, every field is a read or a pure
    computation of its parent, or a load declared public itself (else the answer would be
    public while a nested field fetched data nobody declared)."""
    for name, build_schema in (("web", build_web_schema), ("mobile", build_mobile_schema)):
        schema: GraphQLSchema = build_schema()._schema
        catalog = CATALOGS[name]
        query = schema.query_type
        assert query is not None
        todo = [get_named_type(query.fields[f].type) for f in PUBLIC[name]]
        seen: set[str] = set()
        while todo:
            named = todo.pop()
            if not isinstance(named, GraphQLObjectType) or named.name in seen:
                continue
            seen.add(named.name)
            declared = catalog.get(named.name, {})
            for gql_field in named.fields.values():
                definition = gql_field.extensions["strawberry-definition"]
                fn = declared.get(definition.python_name)
                if isinstance(fn, Load):
                    assert fn.public is not None, f"{named.name}.{definition.python_name}"
                else:
                    assert definition.base_resolver is None or isinstance(fn, Compute | Attr)
                todo.append(get_named_type(gql_field.type))
        assert seen  # the walk reached the public types


# --- over HTTP, both executors ----------------------------------------------------------


@strawberry.type
class ExtendedQuery(WebQuery):
    """The web schema plus a root field nobody declared: it touches no data and marks
    nothing private, exactly the field a fail-open cache would have made public."""

    @strawberry.field
    def weather(self) -> str:
        return "sunny"


def extended(executor: Executor) -> Gateway:
    gw = gateway(executor=executor, cache_config=CACHED)
    schema = build(ExtendedQuery, WebMutation, catalog=WEB, introspection=True)
    planner = Planner(schema, WEB) if executor == "auto" else None
    endpoint = GraphQLEndpoint(gw.app.state.runtime, "web", schema, ide=False, planner=planner)
    gw.app.api.add_route("/graphql/extended", endpoint.handle, methods=["GET", "POST"])
    return gw


@pytest.mark.parametrize("executor", EXECUTORS)
async def test_a_root_field_without_a_declaration_is_private(executor: Executor) -> None:
    gw = extended(executor)
    alone = await gw.gql("extended", "{ weather }")
    assert alone.json() == {"data": {"weather": "sunny"}}
    assert alone.headers["cache-control"] == PRIVATE
    beside = await gw.gql("extended", "{ topDestinations(limit: 2) { code } weather }")
    assert "errors" not in beside.json()
    assert beside.headers["cache-control"] == PRIVATE
    declared = await gw.gql("extended", "{ topDestinations(limit: 2) { code } }")
    assert declared.headers["cache-control"].startswith("public, max-age=")


CASES: list[tuple[str, str, str | None]] = [  # schema, query, caller
    ("web", TOP, None),
    ("mobile", TOP, None),
    ("web", TOP, ME),  # signed in, still the same for everyone
    ("web", "{ topDestinations(limit: 2) { code } me { id } }", ME),
    ("web", "{ topDestinations(limit: 2) { code } me { id } }", None),  # me is null: private
    ("mobile", "{ topDestinations(limit: 2) { code } myTrips(first: 1) { nextCursor } }", ME),
    ("web", "{ topDestinations(limit: 100000) { code } }", None),  # an error
    ("web", "{ topDestinations(limit: 2) { code nope } }", None),  # invalid
    ("web", "{ __typename }", None),
    ("web", "{ __schema { queryType { name } } }", None),
    ("web", f'mutation {{ cancelTrip(id: "{MY_TRIP}") {{ id status }} }}', ME),
    ("web", "mutation { __typename }", None),
]
EXPECTED_PUBLIC = {0, 1, 2}


async def _answers(executor: Executor) -> list[tuple[str, Any]]:
    gw = gateway(executor=executor, cache_config=CACHED)
    answers = []
    for schema, query, caller in CASES:
        response = await gw.gql(schema, query, token=token(caller) if caller else None)
        answers.append((response.headers["cache-control"], response.json()))
    return answers


async def test_only_public_roots_answer_public_and_both_executors_agree() -> None:
    planned, reference = [await _answers(executor) for executor in EXECUTORS]
    assert planned == reference  # the same bodies and the same Cache-Control
    for i, (cache_control, body) in enumerate(planned):
        if i in EXPECTED_PUBLIC:
            assert "errors" not in body
            assert cache_control.startswith(f"public, max-age={CACHED.ttl('answer')},"), CASES[i]
        else:
            assert cache_control == PRIVATE, CASES[i]
    assert "errors" in planned[6][1] and planned[10][1]["data"]["cancelTrip"]["id"] == MY_TRIP


async def test_the_declared_ttl_caps_the_public_answer() -> None:
    short = CacheConfig(ttls={**CACHED.ttls, "destinations": 7})
    gw = gateway(cache_config=short)
    answer = await gw.gql("web", TOP)
    assert answer.headers["cache-control"].startswith("public, max-age=7, s-maxage=7")
    off = gateway(cache_config=CacheConfig(ttls={**CACHED.ttls, "destinations": 0}))
    assert (await off.gql("web", TOP)).headers["cache-control"] == PRIVATE
