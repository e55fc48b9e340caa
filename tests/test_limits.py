"""Limits before work, decision by decision (gateway/limits.py, gateway/cost.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from graphql import GraphQLSchema, parse

from bench.fixtures import MOBILE_ITINERARY
from bench.fixtures import WEB_TRIPS as WEB_TRIPS_20
from gateway.config import Settings, SettingsError
from gateway.cost import BOUNDS, operation_cost
from gateway.graphql_http import RequestProblem, params_from_post
from gateway.limits import (
    LONG_TOKEN,
    TOKEN_MEMO_TEXT,
    LimitGate,
    LimitRefused,
    Limits,
    count_tokens,
    json_depth,
)
from gateway.schemas.mobile import build_mobile_schema
from gateway.schemas.web import build_web_schema
from tests.test_e2e_graphql import WEB_TRIPS as WEB_TRIPS_FULL

WEB: GraphQLSchema = build_web_schema()._schema
MOBILE: GraphQLSchema = build_mobile_schema()._schema


def web_cost(query: str, operation: str | None = None) -> int | None:
    return operation_cost(WEB, parse(query), operation, BOUNDS["web"])


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


def test_tokens_are_counted_as_graphql_sees_them_and_not_past_the_cap() -> None:
    assert count_tokens("{ me { id } }", cap=100) == 6
    assert count_tokens('query Q($a: Int = 1) { x(s: "a, b", f: -1.5e3) } # no', cap=100) == 21
    assert count_tokens('{ x(s: """one\n"two" three""") }', cap=100) == 8
    assert count_tokens("{ a ...on T { b } }" * 10_000, cap=50) == 51
    assert count_tokens("x" * 200_000, cap=2000) == 1 + 200_000 // LONG_TOKEN  # per character


def test_json_depth_is_walked_without_recursion() -> None:
    assert json_depth(None, cap=16) == 0
    assert json_depth({"a": [1, {"b": []}]}, cap=16) == 4
    assert json_depth(nested(100_000), cap=16) == 17


def test_json_too_deep_to_parse_is_a_400_not_a_recursion_error() -> None:
    body = (
        '{"query": "{ a }", "variables": {"v": ' + "[" * 100_000 + "]" * 100_000 + "}}"
    ).encode()
    with pytest.raises(RequestProblem) as refused:
        params_from_post(body, "application/json")
    assert refused.value.status == 400


def test_cost_counts_fields_and_multiplies_lists_by_their_page_or_bound() -> None:
    assert web_cost("{ me { id name } }") == 3
    assert web_cost("{ topDestinations(limit: 3) { code name } }") == 1 + 3 * 2
    assert web_cost("{ topDestinations { code } }") == 1 + 10  # the schema's default limit
    # trips(first: 5): its page's items are counted by `first`, each trip's flights by the bound
    assert web_cost("{ me { trips(first: 5) { items { id flights { id } } } } }") == (
        1 + 1 + 5 * (1 + 1 + 1 + 20 * 1)
    )


def test_a_page_size_from_a_variable_counts_its_default_or_the_declared_bound() -> None:
    by_variable = "query Q($n: Int!) { me { trips(first: $n) { items { id } } } }"
    with_default = "query Q($n: Int! = 3) { me { trips(first: $n) { items { id } } } }"
    assert web_cost(by_variable) == 1 + 1 + 100 * 2
    assert web_cost(with_default) == 1 + 1 + 3 * 2


def test_fragments_cost_what_they_select_at_each_spread() -> None:
    query = (
        "{ me { ...F trips { items { traveler { ...F } } } } } fragment F on Traveler { id name }"
    )
    assert web_cost(query) == 1 + 2 + 1 + 20 * (1 + 1 + 2)
    inline = "{ me { ... on Traveler { id } ... { name } } }"
    assert web_cost(inline) == 3


def test_cost_names_the_operation_and_leaves_unknowns_to_validation() -> None:
    two = "query A { me { id } } query B { topDestinations(limit: 2) { code } }"
    assert web_cost(two, "A") == 2 and web_cost(two, "B") == 3
    assert web_cost(two) is None and web_cost(two, "C") is None
    assert web_cost("{ nope { id } me { nme } }") == 1
    assert web_cost("{ me { ...F } } fragment F on Traveler { ...F }") == 1  # a cycle: 0


def test_the_pages_the_apps_ask_for_pass_with_margin_and_absurd_nesting_fails() -> None:
    limits = Limits()
    assert (web_cost(WEB_TRIPS_20) or 0) * 10 < limits.max_cost_web
    assert (web_cost(WEB_TRIPS_FULL) or 0) < limits.max_cost_web  # first: $first → 100
    itinerary = operation_cost(MOBILE, parse(MOBILE_ITINERARY), None, BOUNDS["mobile"])
    assert (itinerary or 0) * 10 < limits.max_cost_mobile < limits.max_cost_web
    absurd = "{ me { trips { items { traveler { trips { items { traveler {"
    absurd += " trips { items { id } } } } } } } } } }"
    assert (web_cost(absurd.replace("trips", "trips(first: 100)")) or 0) > limits.max_cost_web


def test_the_gate_refuses_with_the_code_the_cost_and_the_limit() -> None:
    gate = LimitGate("web", WEB, Limits(max_query_tokens=10, max_variable_depth=3, max_cost_web=5))
    gate.check_request("{ me { id } }", {"a": [1]})
    with pytest.raises(LimitRefused) as tokens:
        gate.check_request("{ me { id name email currency homeAirport loyaltyTier } }", None)
    assert tokens.value.code == "QUERY_TOO_COMPLEX"
    with pytest.raises(LimitRefused) as deep:
        gate.check_request("{ me { id } }", nested(4))
    assert deep.value.code == "BAD_USER_INPUT"
    query = "{ topDestinations(limit: 9) { code } }"
    with pytest.raises(LimitRefused) as costly:
        gate.check_cost(query, "h", None)
    assert costly.value.extensions == {"cost": 10, "maxCost": 5}
    gate.check_cost("{ me { id } }", "g", None)
    gate.check_cost("{ syntax error", "s", None)  # execution answers that
    assert gate.costs[("h", None)] == 10  # once per document and operation


def test_token_counts_are_remembered_per_text_and_long_texts_are_not() -> None:
    gate = LimitGate("web", WEB, Limits(max_query_tokens=10))
    over = "{ me { id name email currency homeAirport loyaltyTier } }"
    for _ in range(2):  # refused the same way once remembered
        with pytest.raises(LimitRefused):
            gate.check_request(over, None)
        gate.check_request("{ me { id } }", None)
    assert gate.tokens[over] == (len(over), count_tokens(over, cap=10))
    assert gate.tokens["{ me { id } }"] == (13, 6)
    long = "{ me { id } }" + " " * TOKEN_MEMO_TEXT
    gate.check_request(long, None)
    assert long not in gate.tokens  # counted each time: no text can crowd the others out
    assert gate.tokens.currsize == len(over) + 13


def test_the_limits_come_from_the_environment() -> None:
    settings = Settings.from_env({"GATEWAY_MAX_QUERY_TOKENS": "50", "GATEWAY_MAX_COST_MOBILE": "7"})
    assert settings.limits == Limits(max_query_tokens=50, max_cost_mobile=7)
    with pytest.raises(SettingsError, match="GATEWAY_MAX_VARIABLE_DEPTH"):
        Settings.from_env({"GATEWAY_MAX_VARIABLE_DEPTH": "0"})
    assert json.dumps(Settings().limits.max_cost("mobile")) == "2000"
