"""A plan run breadth-first: level by level, each relation loaded once for every object of
the level (twenty trips' flights are one `flights_of` call, one backend batch), and the
answer written straight into plain dicts in response order by the plan's writers. No
coroutine per object or per field: one per relation per level.
"""

from __future__ import annotations

from typing import Any

from graphql.execution.values import VariableValues

from gateway import batching
from gateway.eager import settle_all
from gateway.execution.nodes import Child, Pending, Plan
from gateway.execution.writer import attach
from gateway.resolvers.fields import NO_ARGS, Args
from gateway.viewer import Viewer


async def run(plan: Plan, viewer: Viewer, variables: VariableValues) -> dict[str, Any]:
    """The `data` of the answer; `Fallback` (or any error) when it can't be the reference's.

    The stages in turn (each callable alone, as bench/stages.py calls them): `start` writes
    the root, then per level `fetch` loads what the written objects ask for and `project`
    writes it, until no level is left."""
    root, pending = start(plan, variables)
    while pending:
        pending = project(pending, await fetch(pending, viewer, variables))
    return root


def start(plan: Plan, variables: VariableValues) -> tuple[dict[str, Any], Pending]:
    """The root written, and the first level to load; the argument checks run first, before
    any I/O, so a refusal here leaves nothing half-done."""
    for child in plan.argument_checks:
        assert child.check_args is not None
        child.check_args(_args(child, variables))
    root: dict[str, Any] = {}
    pending: Pending = []
    plan.root.write([None], [root], pending)
    return root, pending


async def fetch(pending: Pending, viewer: Viewer, variables: VariableValues) -> list[Any]:
    """One level's loads, one per relation, in `pending`'s order."""
    level_args = [_args(child, variables) for child, _, _ in pending]
    for (child, parents, _), args in zip(pending, level_args, strict=True):
        if child.check is not None:  # refused before any of the level's loads starts
            child.check(viewer, parents, args)
    token = batching.planned_level.set(batching.Level())  # L1 hits at once (batching.py)
    try:
        # Every load of the level settles before a failure is raised: the reference
        # executor that answers instead then finds everything known (and replayed,
        # see Batches.replay), none of it half-way in flight. A load answered from L1
        # finishes in its first step and costs no task (eager.py).
        values = await settle_all(
            [
                _load(child, viewer, parents, args)
                for (child, parents, _), args in zip(pending, level_args, strict=True)
            ]
        )
    finally:
        batching.planned_level.reset(token)
    for value in values:
        if isinstance(value, BaseException):
            raise value
    return values


def project(level: Pending, values: list[Any]) -> Pending:
    """Write a level's loaded values into their parents' answers; the next level to load."""
    pending: Pending = []
    for (child, _, outs), found in zip(level, values, strict=True):
        attach(child, found, outs, pending)
    return pending


def _args(child: Child, variables: VariableValues) -> Args:
    return child.arguments.values(variables) if child.arguments else NO_ARGS


async def _load(child: Child, viewer: Viewer, parents: list[Any], args: Args) -> Any:
    assert child.load is not None
    return await child.load(viewer, parents, args)
