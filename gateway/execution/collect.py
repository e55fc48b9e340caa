"""Fields of one selection set, grouped by response key, as graphql-core collects them.

Fragments (named and inline) are merged in document order, a fragment spread is visited
once per selection set, and @skip/@include are decided from the request's variables. The
schemas have no interfaces or unions, so a type condition either names the object type or
the fragment does not apply.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from graphql import (
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionNode,
    SelectionSetNode,
    VariableNode,
    visit,
)
from graphql.language import Visitor

from gateway.execution.errors import NotCovered

Grouped = dict[str, list[FieldNode]]


def collect(
    type_name: str,
    selection_sets: Iterable[SelectionSetNode],
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
) -> Grouped:
    """{"alias": [field nodes]} in first-seen order, over several selection sets (the
    sub-selections of one field asked several times)."""
    grouped: Grouped = {}
    visited: set[str] = set()
    for selection_set in selection_sets:
        _visit(type_name, selection_set, fragments, variables, grouped, visited)
    return grouped


def _visit(
    type_name: str,
    selection_set: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    grouped: Grouped,
    visited: set[str],
) -> None:
    for selection in selection_set.selections:
        if not included(selection, variables):
            continue
        if isinstance(selection, FieldNode):
            key = selection.alias.value if selection.alias else selection.name.value
            grouped.setdefault(key, []).append(selection)
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            if condition is None or condition.name.value == type_name:
                _visit(type_name, selection.selection_set, fragments, variables, grouped, visited)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in visited:
                continue
            visited.add(name)
            fragment = fragments[name]
            if fragment.type_condition.name.value == type_name:
                _visit(type_name, fragment.selection_set, fragments, variables, grouped, visited)


def included(selection: SelectionNode, variables: Mapping[str, Any]) -> bool:
    """@skip(if: true) and @include(if: false) leave a selection out; other directives
    (@defer, @stream, custom ones) are not planned."""
    for directive in selection.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            raise NotCovered(f"directive @{name}")
        if _condition(directive, variables) == (name == "skip"):
            return False
    return True


def _condition(directive: DirectiveNode, variables: Mapping[str, Any]) -> bool:
    value = directive.arguments[0].value if directive.arguments else None
    if isinstance(value, BooleanValueNode):
        return value.value
    if isinstance(value, VariableNode):
        given = variables.get(value.name.value)
        if isinstance(given, bool):
            return given
    raise NotCovered(f"@{directive.name.value} without a boolean")


def condition_variables(document: DocumentNode) -> tuple[str, ...]:
    """Names of the variables @skip/@include read: with their values they decide the plan."""
    names: list[str] = []

    class Conditions(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
            if node.name.value in ("skip", "include"):
                for argument in node.arguments or ():
                    if isinstance(argument.value, VariableNode):
                        names.append(argument.value.name.value)

    visit(document, Conditions())
    return tuple(sorted(set(names)))
