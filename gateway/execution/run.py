"""A plan run breadth-first: level by level, each relation loaded once for every object of
the level (twenty trips' flights are one `flights_of` call, one backend batch), and the
answer written straight into plain dicts in response order. No coroutine per object or
per field: one per relation per level.
"""

from __future__ import annotations

import asyncio
from typing import Any

from graphql.execution.values import VariableValues

from gateway.execution.errors import Fallback
from gateway.execution.plan import Child, Plan, Selection
from gateway.resolvers.fields import NO_ARGS
from gateway.viewer import Viewer

Out = dict[str, Any]
Pending = list[tuple[Child, list[Any], list[Out]]]


async def run(plan: Plan, viewer: Viewer, variables: VariableValues) -> Out:
    """The `data` of the answer; `Fallback` (or any error) when it can't be the reference's."""
    root: Out = {}
    pending: Pending = []
    _write(plan.root, [None], [root], pending)
    while pending:
        values = await asyncio.gather(
            *(
                child.load(viewer, parents, _args(child, variables))  # type: ignore[misc]
                for child, parents, _ in pending
            )
        )
        level, pending = pending, []
        for (child, _, outs), found in zip(level, values, strict=True):
            _attach(child, found, outs, pending)
    return root


def _args(child: Child, variables: VariableValues) -> Any:
    return child.arguments.values(variables) if child.arguments else NO_ARGS


def _write(selection: Selection, parents: list[Any], outs: list[Out], pending: Pending) -> None:
    """Every field of `selection` for every parent, field by field (one decision per field,
    then a tight loop); loaded fields get a placeholder that keeps the key's position."""
    for field in selection.fields:
        key = field.key
        if not isinstance(field, Child):
            resolve = field.resolve
            for parent, out in zip(parents, outs, strict=True):
                out[key] = resolve(parent)
        elif field.get is not None:
            get = field.get
            for out in outs:
                out[key] = None
            _attach(field, [get(parent) for parent in parents], outs, pending)
        else:
            for out in outs:
                out[key] = None
            pending.append((field, parents, outs))


def _attach(child: Child, values: Any, outs: list[Out], pending: Pending) -> None:
    """Put each parent's value under the child's key; its own fields are written now
    (reads and computations) or at the next level (loads)."""
    key = child.key
    objects: list[Any] = []
    written: list[Out] = []
    for value, out in zip(values, outs, strict=True):
        if value is None:
            if not child.nullable:
                raise Fallback
            continue  # the placeholder is the answer
        if child.is_list:
            items: list[Out | None] = []
            for item in value:
                if item is None:
                    if not child.item_nullable:
                        raise Fallback
                    items.append(None)
                    continue
                target: Out = {}
                items.append(target)
                objects.append(item)
                written.append(target)
            out[key] = items
        else:
            target = {}
            out[key] = target
            objects.append(value)
            written.append(target)
    if objects:
        _write(child.selection, objects, written, pending)
