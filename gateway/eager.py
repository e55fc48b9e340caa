"""Coroutines started eagerly: each runs at once, up to its first suspension, as a task of
its own (Python 3.12's eager tasks), so one that never waits -- every key a fresh L1 hit --
is finished before the next starts and costs no turn of the event loop, no scheduling, and
its caller no suspension. Only those that do wait are left running, as ordinary tasks.

The step runs as the new task (`asyncio.timeout` and cancellation bind to it, not to the
caller) with a copy of the caller's context, exactly as `asyncio.create_task` would start
it later. Python 3.11 has no eager start: there these are ordinary tasks, and only the
speed differs.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def start(coroutine: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """The coroutine as a task, already done if its first step finished it."""
    if sys.version_info >= (3, 12):
        return asyncio.Task(coroutine, loop=asyncio.get_running_loop(), eager_start=True)
    return asyncio.ensure_future(coroutine)  # pragma: no cover - 3.11


async def gather(*coroutines: Coroutine[Any, Any, Any]) -> list[Any]:
    """`asyncio.gather(*coroutines)`: the results in order, or the first failure."""
    tasks = [start(coroutine) for coroutine in coroutines]
    if all(task.done() for task in tasks):
        for failure in [task.exception() for task in tasks]:  # each one retrieved
            if failure is not None:
                raise failure  # the first in order, which was the first in time too
        return [task.result() for task in tasks]
    return list(await asyncio.gather(*tasks))


async def settle_all(coroutines: list[Coroutine[Any, Any, Any]]) -> list[Any]:
    """`asyncio.gather(*coroutines, return_exceptions=True)`: each one's result or the
    exception it raised, in order, every one finished when this returns."""
    tasks = [start(coroutine) for coroutine in coroutines]
    if all(task.done() for task in tasks):
        failures = [task.exception() for task in tasks]
        return [task.result() if f is None else f for task, f in zip(tasks, failures, strict=True)]
    return list(await asyncio.gather(*tasks, return_exceptions=True))
