"""GraphQL operations as plain values, and their text.

The generator builds these; `render` prints them. Arguments are kept as `Value`s so one
value can be written inline (`first: 2`) or passed as a variable (`first: $v0` with
`{"v0": 2}`).

    render(Operation(selections=(Field("me", selections=(Field("id"),)),)))
    → 'query {\n  me {\n    id\n  }\n}\n'
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class Value:
    """A JSON value; `enum` ones are written bare (`BOOKED`), `variable` ones as `$name`."""

    json: Any
    enum: bool = False
    variable: str | None = None

    def literal(self) -> str:
        if self.variable is not None:
            return f"${self.variable}"
        if self.json is None:
            return "null"
        if self.enum:
            return str(self.json)
        if isinstance(self.json, bool):
            return "true" if self.json else "false"
        return json.dumps(self.json, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Directive:
    name: Literal["include", "skip"]
    condition: Value

    def text(self) -> str:
        return f"@{self.name}(if: {self.condition.literal()})"


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    alias: str | None = None
    args: tuple[tuple[str, Value], ...] = ()
    directives: tuple[Directive, ...] = ()
    selections: tuple[Selection, ...] = ()

    @property
    def key(self) -> str:
        return self.alias or self.name


@dataclass(frozen=True, slots=True)
class InlineFragment:
    type_condition: str | None
    directives: tuple[Directive, ...] = ()
    selections: tuple[Selection, ...] = ()


@dataclass(frozen=True, slots=True)
class Spread:
    name: str
    directives: tuple[Directive, ...] = ()


Selection = Field | InlineFragment | Spread


@dataclass(frozen=True, slots=True)
class FragmentDefinition:
    name: str
    type_condition: str
    selections: tuple[Selection, ...]


@dataclass(frozen=True, slots=True)
class VariableDefinition:
    name: str
    type: str
    default: Value | None = None


@dataclass(frozen=True, slots=True)
class Operation:
    selections: tuple[Selection, ...]
    kind: Literal["query", "mutation"] = "query"
    name: str | None = None
    variables: tuple[VariableDefinition, ...] = ()
    fragments: tuple[FragmentDefinition, ...] = ()
    # Other operations in the same document, chosen away by `operationName`.
    siblings: tuple[str, ...] = field(default=())


def render(operation: Operation) -> str:
    head: str = operation.kind
    if operation.name:
        head += f" {operation.name}"
    if operation.variables:
        head += "(" + ", ".join(_variable(v) for v in operation.variables) + ")"
    parts = [head + _block(operation.selections, 0)]
    parts += [
        f"fragment {f.name} on {f.type_condition}" + _block(f.selections, 0)
        for f in operation.fragments
    ]
    parts += list(operation.siblings)
    return "\n".join(parts)


def _variable(definition: VariableDefinition) -> str:
    text = f"${definition.name}: {definition.type}"
    if definition.default is not None:
        text += f" = {definition.default.literal()}"
    return text


def _block(selections: tuple[Selection, ...], depth: int) -> str:
    pad = "  " * (depth + 1)
    lines = [pad + _selection(s, depth + 1) for s in selections]
    return " {\n" + "\n".join(lines) + "\n" + "  " * depth + "}" + ("\n" if depth == 0 else "")


def _selection(selection: Selection, depth: int) -> str:
    if isinstance(selection, Spread):
        return "..." + selection.name + _directives(selection.directives)
    if isinstance(selection, InlineFragment):
        on = f" on {selection.type_condition}" if selection.type_condition else ""
        return "..." + on + _directives(selection.directives) + _block(selection.selections, depth)
    text = f"{selection.alias}: {selection.name}" if selection.alias else selection.name
    if selection.args:
        text += "(" + ", ".join(f"{k}: {v.literal()}" for k, v in selection.args) + ")"
    text += _directives(selection.directives)
    if selection.selections:
        text += _block(selection.selections, depth)
    return text


def _directives(directives: tuple[Directive, ...]) -> str:
    return "".join(" " + d.text() for d in directives)
