"""Field collection as graphql-core does it: aliases, fragments, @skip/@include (pure)."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import FieldNode, FragmentDefinitionNode, OperationDefinitionNode, parse

from gateway.execution.collect import collect, condition_variables
from gateway.execution.errors import NotCovered


def grouped(query: str, variables: dict[str, Any] | None = None) -> dict[str, list[str]]:
    document = parse(query)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    found = collect("Query", [operation.selection_set], fragments, variables or {})
    return {key: [_describe(node) for node in nodes] for key, nodes in found.items()}


def _describe(node: FieldNode) -> str:
    inner = len(node.selection_set.selections) if node.selection_set else 0
    return f"{node.name.value}/{inner}"


def test_aliases_and_repeats_keep_first_seen_order() -> None:
    assert grouped("{ b: me { id } me { id } b: me { name } }") == {
        "b": ["me/1", "me/1"],
        "me": ["me/1"],
    }


def test_fragments_merge_in_document_order_and_a_spread_counts_once() -> None:
    query = """
    { ...A ... on Query { me { id } } ...A ... { top: topDestinations { code } } }
    fragment A on Query { __typename me { name } }
    """
    assert grouped(query) == {
        "__typename": ["__typename/0"],
        "me": ["me/1", "me/1"],
        "top": ["topDestinations/1"],
    }


def test_a_fragment_on_another_type_does_not_apply() -> None:
    assert grouped("{ ... on Mutation { x } me { id } }") == {"me": ["me/1"]}


@pytest.mark.parametrize(
    ("directives", "variables", "kept"),
    [
        ("@skip(if: true)", {}, False),
        ("@skip(if: false)", {}, True),
        ("@include(if: false)", {}, False),
        ("@include(if: $on)", {"on": True}, True),
        ("@skip(if: $on) @include(if: true)", {"on": True}, False),
        ("@skip(if: false) @include(if: $on)", {"on": False}, False),
    ],
)
def test_skip_and_include(directives: str, variables: dict[str, Any], kept: bool) -> None:
    found = grouped(f"query Q($on: Boolean!) {{ me {directives} {{ id }} }}", variables)
    assert ("me" in found) is kept


def test_a_skipped_spread_does_not_use_up_the_fragment() -> None:
    query = "{ ...A @skip(if: true) ...A } fragment A on Query { me { id } }"
    assert grouped(query) == {"me": ["me/1"]}


def test_other_directives_are_not_planned() -> None:
    with pytest.raises(NotCovered):
        grouped("{ me @defer { id } }")
    with pytest.raises(NotCovered):  # a variable without a value decides nothing here
        grouped("query Q($on: Boolean) { me @include(if: $on) { id } }")


def test_the_plan_depends_on_the_variables_conditions_read() -> None:
    document = parse(
        "query Q($a: Boolean!, $b: Boolean!, $n: Int) "
        "{ me @skip(if: $b) { id } x: me @include(if: $a) { id } top(n: $n) }"
    )
    assert condition_variables(document) == ("a", "b")
